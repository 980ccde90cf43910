"""The one app: the HTTP API, `/embed.js`, the compact chat at `/embed` and the chat at `/`.

    app = create_app(service, settings)    # serve with uvicorn; see `python -m ui`
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse

from qa.access import login_checker
from qa.api import create_api
from qa.service import Service
from ui.app import build_chat

STATIC = Path(__file__).parent / "static"


def create_app(service: Service, settings: dict[str, Any]) -> FastAPI:
    app = create_api(service, settings)
    limit, upload_mb = settings["QA_CONCURRENCY"], settings["QA_MAX_UPLOAD_MB"]
    chat_css = (STATIC / "chat.css").read_text(encoding="utf-8")
    embed_css = chat_css + (STATIC / "embed.css").read_text(encoding="utf-8")

    @app.get("/embed.js", include_in_schema=False)
    def embed_script() -> FileResponse:
        return FileResponse(STATIC / "embed.js", media_type="text/javascript")

    @app.get("/embed", include_in_schema=False)
    def embed_page(request: Request) -> RedirectResponse:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/embed/{query}", status_code=307)

    embed = build_chat(service, embed=True).queue(default_concurrency_limit=limit)
    chat = build_chat(service).queue(default_concurrency_limit=limit)
    common = {"max_file_size": f"{upload_mb}mb", "show_error": True, **login(settings)}
    gr.mount_gradio_app(app, embed, path="/embed", footer_links=[], css=embed_css, **common)
    gr.mount_gradio_app(app, chat, path="/", footer_links=["api"], css=chat_css, **common)
    return app


def login(settings: dict[str, Any]) -> dict[str, Any]:
    """Gradio's login form on both pages when QA_PAGES=login (QA_PAGES=key is qa.access's)."""
    if settings["QA_PAGES"] != "login":
        return {}
    return {"auth": login_checker(settings["QA_PAGE_USERS"]),
            "auth_message": "Sign in to ask the articles"}
