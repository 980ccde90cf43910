"""The chat pages behind the API key (QA_PAGES=key) or Gradio's login (QA_PAGES=login), on a real
uvicorn server on loopback."""

from __future__ import annotations

import httpx
import pytest

from index.settings import read_settings
from qa.service import Service
from qa.settings import ALL_SETTINGS
from tests.conftest import serve
from ui.server import create_app

KEY = "page-key-" + "x" * 20


def test_pages_need_the_key_once_then_a_cookie(app_service: Service) -> None:
    settings = read_settings(ALL_SETTINGS, {"QA_API_KEYS": KEY, "QA_PAGES": "key"})
    with serve(create_app(app_service, settings)) as url, \
            httpx.Client(base_url=url, follow_redirects=False) as http:
        refused = http.get("/")
        assert refused.status_code == 401 and "?key=YOUR_KEY" in refused.text
        assert http.get("/embed/?key=wrong-key-0000000000").status_code == 401
        assert http.get("/embed.js").status_code == 200  # the script itself holds no secret
        joined = http.post("/gradio_api/queue/join", json={})
        assert joined.status_code == 401 and joined.json()["error"]["code"] == "unauthorized"
        opened = http.get(f"/embed/?source=abc&key={KEY}")
        assert opened.status_code == 303 and opened.headers["location"] == "/embed/?source=abc"
        cookie = opened.headers["set-cookie"]
        assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and KEY not in cookie
        assert http.get("/embed/?source=abc").status_code == 200
        assert http.get("/").status_code == 200
        api = http.get("/api/health")  # the cookie opens pages, never the API (no CSRF)
        assert api.status_code == 401
        assert http.get("/api/health", headers={"Authorization": f"Bearer {KEY}"}).is_success


def test_login_mode_puts_gradio_login_in_front_of_both_pages(app_service: Service) -> None:
    from gradio_client import Client

    settings = read_settings(ALL_SETTINGS, {"QA_PAGES": "login", "QA_API_KEYS": "k" * 20,
                                            "QA_PAGE_USERS": "ana:correct horse"})
    with serve(create_app(app_service, settings)) as url:
        with httpx.Client(base_url=url) as http:
            assert http.get("/config").status_code == 401
            assert http.get("/embed/config").status_code == 401
            bad = http.post("/login", data={"username": "ana", "password": "wrong one"})
            assert bad.status_code == 400
        chat = Client(url + "/", auth=("ana", "correct horse"), verbose=False)
        reply = chat.predict("Who was killed at the fake roadblock?", [], "", "",
                             api_name="/chat")
        assert "Zapata" in str(reply[0])
        with pytest.raises(Exception, match="(?i)login|auth|401|credentials"):
            Client(url + "/", auth=("ana", "wrong one"), verbose=False)
