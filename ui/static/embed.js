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
    }
  }
  if (!customElements.get("qa-chat")) customElements.define("qa-chat", QaChat);
})();
