// <script src="https://QA-HOST/embed.js" defer></script>
// <qa-chat source="doc-id-or-url" height="560" key="..."></qa-chat>
// A web component that frames this server's /embed page; `source` (comma-separated) scopes it;
// `key` opens a server whose pages need a key (QA_PAGES=key): anyone who can read the wiki page
// can read it, so give the wiki a key of its own.
(function () {
  const script = document.currentScript;
  const base = script ? new URL(script.src).origin : "";
  class QaChat extends HTMLElement {
    connectedCallback() {
      if (this.firstChild) return;
      const server = (this.getAttribute("server") || base).replace(/\/$/, "");
      const url = new URL(server + "/embed/");
      for (const s of (this.getAttribute("source") || "").split(",")) {
        if (s.trim()) url.searchParams.append("source", s.trim());
      }
      if (this.getAttribute("key")) url.searchParams.set("key", this.getAttribute("key"));
      const frame = document.createElement("iframe");
      frame.src = url.toString();
      frame.title = this.getAttribute("title") || "Ask the articles";
      frame.loading = "lazy";
      frame.style.cssText = "width:100%;border:0;height:" + (parseInt(this.getAttribute("height"), 10) || 560) + "px";
      this.appendChild(frame);
      this.watch(frame, server);
    }
    // The chat page says "ready" to its parent once loaded. A frame that loads without saying so
    // was refused (the server's QA_FRAME_ANCESTORS doesn't list this site) or failed: say that in
    // words instead of leaving the browser's grey "refused to connect" box.
    watch(frame, server) {
      let ready = false, note = null;
      window.addEventListener("message", (event) => {
        if (event.source !== frame.contentWindow || !event.data || event.data.qaChat !== "ready") return;
        ready = true;
        if (note) { note.remove(); frame.style.display = ""; }
      });
      frame.addEventListener("load", () => setTimeout(() => {
        if (ready || note) return;
        note = document.createElement("div");
        note.className = "qa-chat-blocked";
        note.style.cssText = "padding:12px;border:1px solid #d0d0d0;border-radius:6px;font:14px sans-serif;color:#333";
        note.textContent = "The chat from " + server + " can't be shown on this page: that server " +
          "doesn't allow " + window.location.origin + " to frame it, or could not be reached. Its " +
          "administrator can add " + window.location.origin + " to the QA_FRAME_ANCESTORS setting.";
        frame.style.display = "none";
        this.insertBefore(note, frame);
      }, 4000));
    }
  }
  if (!customElements.get("qa-chat")) customElements.define("qa-chat", QaChat);
})();
