"""The real pages in headless Chromium (Debian's package, driven by Playwright): ask on `/`, see the
answer and its cited source; the same on `/embed`, scoped by `?source=`, and framed by a wiki page
through the web component only where the framing policy allows it.

Screenshots go to $SCREENSHOT_DIR when it is set (the README's pictures come from here)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.settings import read_settings
from qa.service import Service
from qa.settings import ALL_SETTINGS
from tests.conftest import serve
from ui.server import create_app

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update"]
WAIT = 60_000  # ms; the machine is slow and noisy


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def shoot(page: Any, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    page.screenshot(path=str(folder / name), full_page=True)


def ask(page: Any, question: str, press_enter: bool = False) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    if press_enter:
        box.press("Enter")
    else:
        page.locator("#ask").click()


def test_chat_page_answers_with_the_cited_source(browser: Any, app_url: str,
                                                 tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url + "/")
    ask(page, "Who was killed at the fake roadblock?")
    mark = page.locator("#sources .qa-passage mark").first
    mark.wait_for(timeout=WAIT)
    assert "Zapata" in mark.inner_text()
    cited = page.locator("#sources .qa-passage").first
    assert "000_b1f5c98873b2f0c9.txt" in cited.inner_text()
    assert "[1]" in page.locator("#chat").inner_text()
    assert not page.locator("#sources details").first.evaluate("d => d.open")  # uncited: collapsed
    ask(page, "and who was wounded?", press_enter=True)
    page.locator("#searched-for").get_by_text("searched for").wait_for(timeout=WAIT)
    assert "killed fake roadblock" in page.locator("#searched-for").inner_text()
    shoot(page, "chat.png", tmp_path)
    ask(page, "   ")
    page.get_by_text("The question is empty").first.wait_for(timeout=WAIT)
    page.close()


def test_embed_page_is_scoped_and_compact(browser: Any, app_url: str, app_service: Service,
                                          tmp_path: Path) -> None:
    wikileaks = next(a for a in app_service.documents() if a.title.startswith("WikiLeaks"))
    page = browser.new_page(viewport={"width": 420, "height": 760})
    page.goto(f"{app_url}/embed?source={wikileaks.doc_id}")
    page.get_by_text(f"Answering from: {wikileaks.title}").wait_for(timeout=WAIT)
    ask(page, "What did U.S. officials express frustration with?", press_enter=True)
    page.locator("#sources .qa-passage mark").first.wait_for(timeout=WAIT)
    assert "risk averse" in page.locator("#sources .qa-passage").first.inner_text()
    texts = page.locator("#sources .qa-passage").all_text_contents()
    assert all("001_6af38f333212537e.txt" in t for t in texts)
    assert not page.get_by_text("Add articles").is_visible()
    assert not page.locator("footer").is_visible()
    shoot(page, "embed.png", tmp_path)
    page.close()


@pytest.fixture(scope="module")
def wiki_url() -> Iterator[str]:
    """A wiki on another loopback origin whose page embeds the chat of `?app=` as the README says."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    def page(request: Request) -> HTMLResponse:
        app = request.query_params["app"]
        return HTMLResponse(f'<html><body><h1>Wiki page</h1><script src="{app}/embed.js"></script>'
                            '<qa-chat height="500"></qa-chat></body></html>')

    with serve(Starlette(routes=[Route("/wiki", page)])) as url:
        yield url.replace("127.0.0.1", "localhost")  # another origin than the app's


def test_the_web_component_frames_the_chat_where_allowed(
        browser: Any, app_url: str, app_service: Service, wiki_url: str) -> None:
    page = browser.new_page()
    page.goto(f"{wiki_url}/wiki?app={app_url}")
    page.frame_locator("qa-chat iframe").locator("#question textarea").wait_for(timeout=WAIT)
    page.close()
    settings = read_settings(ALL_SETTINGS, {"QA_FRAME_ANCESTORS": "https://wiki.example.com"})
    with serve(create_app(app_service, settings)) as strict_url:
        page = browser.new_page()
        page.goto(f"{wiki_url}/wiki?app={strict_url}")
        page.locator("qa-chat iframe").wait_for(state="attached", timeout=WAIT)
        page.wait_for_timeout(3000)
        assert page.frame_locator("qa-chat iframe").locator("#question").count() == 0
        page.close()
