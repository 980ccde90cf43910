"""The real pages in headless Chromium (Debian's package, driven by Playwright): ask on `/`, see the
answer and its cited source; the same on `/embed`, scoped by `?source=`, and framed by a wiki page
through the web component only where the framing policy allows it.

Screenshots go to $SCREENSHOT_DIR when it is set (the README's pictures come from here)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from index.settings import read_settings
from qa.service import Service
from qa.settings import ALL_SETTINGS
from tests.conftest import ROOT, serve
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


@pytest.mark.parametrize("width", [360, 800])
def test_the_embed_at_the_readmes_height_shows_the_whole_input_box(
        browser: Any, app_url: str, app_service: Service, width: int) -> None:
    """The README frames /embed 560 px high: the question box and the Ask button stay inside
    it with the scope notice above and the "searched for" line under an answer."""
    height = int(re.search(r"height:(\d+)px", (ROOT / "README.md").read_text()).group(1))
    wikileaks = next(a for a in app_service.documents() if a.title.startswith("WikiLeaks"))
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{app_url}/embed?source={wikileaks.doc_id}")
    page.get_by_text(f"Answering from: {wikileaks.title}").wait_for(timeout=WAIT)
    ask(page, "And what did U.S. officials express frustration with?", press_enter=True)
    page.locator("#sources .qa-passage").first.wait_for(timeout=WAIT, state="attached")
    page.wait_for_timeout(500)
    for box in ("#question textarea", "#ask"):
        assert page.locator(box).bounding_box()["y"] + page.locator(box).bounding_box()[
            "height"] <= height, (box, page.locator(box).bounding_box())
    page.close()


@pytest.fixture(scope="module")
def wiki_url() -> Iterator[str]:
    """A wiki on another loopback origin whose page embeds the chat of `?app=` as the README says."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    def page(request: Request) -> HTMLResponse:
        app, key = request.query_params["app"], request.query_params.get("key", "")
        return HTMLResponse(f'<html><body><h1>Wiki page</h1><script src="{app}/embed.js"></script>'
                            f'<qa-chat height="500" key="{key}"></qa-chat></body></html>')

    with serve(Starlette(routes=[Route("/wiki", page)])) as url:
        yield url.replace("127.0.0.1", "localhost")  # another origin than the app's


def test_the_web_component_frames_the_chat_where_allowed(
        browser: Any, app_url: str, app_service: Service, wiki_url: str) -> None:
    page = browser.new_page()
    page.goto(f"{wiki_url}/wiki?app={app_url}")
    frame = page.frame_locator("qa-chat iframe")
    frame.locator("#question textarea").wait_for(timeout=WAIT)
    frame.locator("#question textarea").fill("Who was killed at the fake roadblock?")
    frame.locator("#ask").click()
    cite = frame.locator("#chat .qa-cite summary").first  # under the answer, in the 500 px frame
    cite.wait_for(timeout=WAIT)
    box, frame_box = cite.bounding_box(), page.locator("qa-chat iframe").bounding_box()
    assert box and frame_box and box["y"] + box["height"] <= frame_box["y"] + frame_box["height"]
    cite.click()
    assert "Zapata" in frame.locator("#chat .qa-cite q").first.inner_text()
    page.wait_for_timeout(5000)
    assert page.locator(".qa-chat-blocked").count() == 0
    page.close()
    settings = read_settings(ALL_SETTINGS, {"QA_FRAME_ANCESTORS": "https://wiki.example.com"})
    with serve(create_app(app_service, settings)) as strict_url:
        page = browser.new_page()
        page.goto(f"{wiki_url}/wiki?app={strict_url}")
        note = page.locator(".qa-chat-blocked")
        note.wait_for(timeout=WAIT)  # words, not the browser's grey "refused to connect"
        assert "QA_FRAME_ANCESTORS" in note.inner_text() and wiki_url in note.inner_text()
        assert page.frame_locator("qa-chat iframe").locator("#question").count() == 0
        page.close()


HOSTILE = ("The Zorblax festival drew nine thousand visitors to Port Elma this spring. "
           "Organisers said <img src=x onerror=\"window.__pwned='img'\"> and "
           "<script>window.__pwned='script'</script> were printed on every festival poster. "
           "The poster also showed ![pixel](PIXEL) and [click here](javascript:window.__pwned='link').")


def test_article_text_never_runs_in_the_chat(browser: Any, embedder: Any, tmp_path: Path) -> None:
    """Markup inside an article shows as text in the answer and the sources: no script, no
    event handler, no image or link made from it."""
    from index.embed import MODEL_NAME
    from index.store import open_store

    requested: list[str] = []
    service = Service(open_store(str(tmp_path / "store"), None, MODEL_NAME), embedder)
    with serve(create_app(service, read_settings(ALL_SETTINGS, {}))) as url:
        text = HOSTILE.replace("PIXEL", f"{url}/pixel.png")
        assert service.add_uploads([("festival.txt", text.encode())]).new == 1
        page = browser.new_page()
        page.on("request", lambda r: requested.append(r.url))
        page.goto(url + "/")
        ask(page, "What was printed on every festival poster?")
        page.locator("#sources .qa-passage mark").first.wait_for(timeout=WAIT)
        page.wait_for_timeout(1000)
        assert page.evaluate("window.__pwned") is None
        assert "<script>" in page.locator("#sources").inner_text()
        assert "onerror" in page.locator("#chat").inner_text()
        assert page.locator("#chat img, #sources img, #chat a[href^=javascript]").count() == 0
        assert not any("pixel.png" in u for u in requested)
        page.close()


def test_a_keyed_chat_opens_with_its_key_and_frames_into_the_wiki(
        browser: Any, app_service: Service, wiki_url: str) -> None:
    key = "wiki-" + "k" * 24
    settings = read_settings(ALL_SETTINGS, {"QA_API_KEYS": key, "QA_PAGES": "key"})
    with serve(create_app(app_service, settings)) as url:
        page = browser.new_page()
        page.goto(url + "/")
        assert "needs an access key" in page.inner_text("body")
        wiki = wiki_url.replace("localhost", "127.0.0.1")  # same site: the key's cookie is sent
        page.goto(f"{wiki}/wiki?app={url}&key={key}")
        frame = page.frame_locator("qa-chat iframe")
        frame.locator("#question textarea").fill("Who was killed at the fake roadblock?")
        frame.locator("#ask").click()
        frame.locator("#sources .qa-passage mark").first.wait_for(timeout=WAIT)
        assert "Zapata" in frame.locator("#sources").inner_text()
        chat_frame = next(f for f in page.frames if "/embed" in f.url)
        assert "key=" not in chat_frame.url  # redirected away: the key stays out of history
        page.close()


READ_PROBES = ["/api/health", "/api/documents", "/gradio_api/info", "/config", "/", "/embed/",
               "/embed/config", "/gradio_api/file=/etc/passwd", "/embed/gradio_api/info"]


def test_a_page_on_another_origin_reads_nothing_from_the_app(
        browser: Any, app_service: Service, wiki_url: str) -> None:
    """Another site's script, in a browser that holds the app's page cookie, can neither read a
    response (no CORS grant, on Gradio's routes too) nor make a change (cross-site POSTs are
    refused before any work)."""
    key = "reader-" + "r" * 24
    settings = read_settings(ALL_SETTINGS, {"QA_READ_KEYS": key, "QA_PAGES": "key",
                                            "QA_FRAME_ANCESTORS": "'self'"})
    with serve(create_app(app_service, settings)) as url:
        page = browser.new_page()
        page.goto(f"{url}/?key={key}")  # the browser now holds the page cookie
        page.goto(f"{wiki_url}/wiki?app={url}")
        outcomes = page.evaluate("""async ([app, paths]) => {
            const out = {};
            for (const p of paths) {
                try {
                    const r = await fetch(app + p, {credentials: "include"});
                    out[p] = "read " + r.status + " " + (await r.text()).slice(0, 40);
                } catch (e) { out[p] = "blocked"; }
            }
            for (const p of ["/gradio_api/call/chat", "/gradio_api/upload", "/api/ask"]) {
                try {
                    const r = await fetch(app + p, {method: "POST", credentials: "include",
                        headers: {"content-type": "text/plain"}, body: '{"data": ["x"]}'});
                    out["POST " + p] = "read " + r.status;
                } catch (e) { out["POST " + p] = "sent, unreadable"; }
            }
            return out;
        }""", [url, READ_PROBES])
        assert all(v == "blocked" for k, v in outcomes.items() if not k.startswith("POST")), \
            outcomes
        assert all(v == "sent, unreadable" for k, v in outcomes.items() if k.startswith("POST"))
        page.close()
    # the simple POSTs reached the server: each was refused there as cross-site (403)
    with serve(create_app(app_service, settings)) as url, httpx.Client(base_url=url) as http:
        for path in ("/gradio_api/call/chat", "/gradio_api/upload", "/api/ask"):
            refused = http.post(path, content=b'{"data": ["x"]}',
                                headers={"Origin": wiki_url, "content-type": "text/plain"})
            assert refused.status_code == 403, (path, refused.status_code)


def test_the_api_docs_render_with_no_network(browser: Any, app_url: str) -> None:
    """Swagger UI comes from this server (no CDN): the browser has no network here."""
    requested: list[str] = []
    page = browser.new_page()
    page.on("request", lambda r: requested.append(r.url))
    page.goto(app_url + "/docs")
    page.get_by_text("/api/ask/stream").first.wait_for(timeout=WAIT)
    assert "Answer a question with cited passages" in page.inner_text("body")
    assert all(u.startswith(app_url) for u in requested), [u for u in requested
                                                           if not u.startswith(app_url)]
    page.close()


def test_a_title_is_text_in_the_embed_notice(browser: Any, embedder: Any, tmp_path: Path) -> None:
    """A title written as Markdown (an image) shows as its characters and loads nothing, for
    every reader of `/embed?source=ID`."""
    from index.embed import MODEL_NAME
    from index.store import open_store

    requested: list[str] = []
    service = Service(open_store(str(tmp_path / "store"), None, MODEL_NAME), embedder)
    with serve(create_app(service, read_settings(ALL_SETTINGS, {}))) as url:
        title = f"![x]({url}/pixel.png) **Festival**"
        text = f"---\ntitle: \"{title}\"\n---\nThe festival drew nine thousand visitors.\n"
        assert service.add_uploads([("festival.md", text.encode())]).new == 1
        doc_id = service.documents()[0].doc_id
        page = browser.new_page()
        page.on("request", lambda r: requested.append(r.url))
        page.goto(f"{url}/embed?source={doc_id}")
        notice = page.locator("#notice")
        notice.get_by_text("Answering from:").wait_for(timeout=WAIT)
        assert title in notice.inner_text()
        assert notice.locator("img, strong").count() == 0
        assert not any("pixel.png" in u for u in requested)
        page.close()


@pytest.fixture
def tracker() -> Iterator[tuple[str, list[str]]]:
    """An image host on another loopback port that notes every request it gets."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    hits: list[str] = []

    def pixel(request: Request) -> Response:
        hits.append(str(request.url))
        return Response(b"GIF89a", media_type="image/gif")

    with serve(Starlette(routes=[Route("/{name}", pixel)])) as url:
        yield url, hits


def test_markdown_in_a_title_or_url_loads_nothing_in_the_embed_citations(
        browser: Any, embedder: Any, tmp_path: Path, tracker: tuple[str, list[str]]) -> None:
    """Issue 21, finding 2: a JSONL article whose title and URL hold a blank line and then an
    image made the browser fetch it when the embed showed the citation, and a title written as a
    Markdown link became a link. Both are shown as their characters."""
    import json

    from index.embed import MODEL_NAME
    from index.store import open_store

    host, hits = tracker
    title = f"[Your key expired - renew here](http://evil.example)\n\n![p]({host}/title.png)"
    record = {"id": "fest", "title": title, "url": f"http://a.example/f\n\n![q]({host}/url.png)",
              "text": "The Zorblax festival drew nine thousand visitors to Port Elma this spring. "
                      "Read more at http://evil.example/wombat or www.evil.example today."}
    service = Service(open_store(str(tmp_path / "store"), None, MODEL_NAME), embedder)
    assert service.add_uploads([("feed.jsonl", json.dumps(record).encode())]).new == 1
    with serve(create_app(service, read_settings(ALL_SETTINGS, {}))) as url:
        page = browser.new_page(viewport={"width": 420, "height": 760})
        page.goto(f"{url}/embed/")
        ask(page, "How many visitors did the Zorblax festival draw?")
        cite = page.locator("#chat .qa-cite summary").first
        cite.wait_for(timeout=WAIT)
        cite.click()  # open: its quote and source are shown
        page.wait_for_timeout(1500)
        chat = page.locator("#chat")
        assert "[Your key expired - renew here](http://evil.example)" in cite.inner_text()
        assert chat.locator("img").count() == 0 and hits == []
        assert chat.locator("a[href*='evil.example'], a[href*='127.0.0.1']").count() == 0
        page.close()
