"""The one app: the HTTP API, `/embed.js`, the compact chat at `/embed` and the chat at `/`.

    app = create_app(service, settings)    # serve with uvicorn; see `python -m ui`
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from gradio.utils import get_upload_folder

from qa.service import Service
from qa.serving.access import Policy
from qa.serving.api import create_api
from qa.settings import Settings, check_access
from ui.app import EMBED_EVENTS, PAGE_EVENTS, Uploads, build_chat
from ui.guard import GradioGuard, login_checker

STATIC = Path(__file__).parent / "static"
# The embed tells the page that frames it that it loaded (embed.js shows a message otherwise).
# Gradio may add this to the page after its load event: say it at once if so.
READY = ("<script>(function () { if (window.parent === window) return; function ready() {"
         "window.parent.postMessage({qaChat: 'ready'}, '*'); }"
         "if (document.readyState === 'complete') ready(); "
         "else window.addEventListener('load', ready); })();</script>")
# Never served or read through Gradio, whatever else allows them.
BLOCKED = ["/etc", "/proc", "/sys"]


def create_app(service: Service, settings: Settings) -> FastAPI:
    policy = Policy.from_settings(check_access(settings), upload_paths=("/gradio_api/upload",),
                                  public_paths=("/embed.js",))
    upload_dir = Path(get_upload_folder())
    app = create_api(service, settings, policy,
                     [(GradioGuard, {"policy": policy, "upload_dir": upload_dir,
                                     "api_names": {"": frozenset(PAGE_EVENTS),
                                                   "/embed": frozenset(EMBED_EVENTS)},
                                     "session_seconds": settings.page_cookie_hours * 3600})])
    limit, upload_mb = settings.concurrency, settings.max_upload_mb
    chat_css = (STATIC / "chat.css").read_text(encoding="utf-8")
    embed_css = chat_css + (STATIC / "embed.css").read_text(encoding="utf-8")

    @app.get("/embed.js", include_in_schema=False)
    def embed_script() -> FileResponse:
        return FileResponse(STATIC / "embed.js", media_type="text/javascript")

    @app.get("/embed", include_in_schema=False)
    def embed_page(request: Request) -> RedirectResponse:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/embed/{query}", status_code=307)

    embed = build_chat(service, Uploads(policy, upload_dir), embed=True)
    chat = build_chat(service, Uploads(policy, upload_dir))
    # show_error=False: only gr.Error messages reach the browser (ui/app.py turns every error of
    # ours into one); Gradio's own errors name its objects by memory address
    common = {"max_file_size": f"{upload_mb}mb", "show_error": False, "allowed_paths": [],
              "blocked_paths": BLOCKED, "run_history": False, "mcp_server": False,
              "ssr_mode": False, **login(settings)}
    for page, path, css in ((embed, "/embed", embed_css), (chat, "/", chat_css)):
        page.queue(default_concurrency_limit=limit)
        gr.mount_gradio_app(app, page, path=path, footer_links=[] if page is embed else ["api"],
                            css=css, head=READY if page is embed else "", **common)
        # Gradio checks that a file named in a request was uploaded to it only once launched,
        # and a mounted app is never launched: without this, a forged file path in any input
        # would copy that server file into Gradio's cache and serve it
        page.has_launched = True
    return app


def login(settings: Settings) -> dict[str, Any]:
    """Gradio's login form on both pages when QA_PAGES=login (QA_PAGES=key is
qa.serving.access's)."""
    if settings.pages != "login":
        return {}
    return {"auth": login_checker(settings.page_users),
            "auth_message": "Sign in to ask the articles"}
