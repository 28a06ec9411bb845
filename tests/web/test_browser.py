"""The chat page in Debian's headless Chromium (driven by Playwright), against the real app on uvicorn:
ask, see a cited answer, open the cited paragraph highlighted, ask a follow-up, rate it, find the row."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.feedback import FeedbackStore
from core.settings import PROJECT_ROOT, Settings

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.browser]

CHROMIUM = os.environ.get("COALITION_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: `make test` installs Debian's chromium (scripts/setup.sh); "
                    "or set COALITION_CHROMIUM")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


def test_ask_cite_open_source_follow_up_and_rate(browser: object, base_url: str, web_settings: Settings) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base_url + "/")
    page.get_by_label("Ask a question").fill("How can an organisation join the coalition?")
    page.get_by_role("button", name="Ask", exact=True).click()

    answer = page.locator("li.answer").last
    expect(answer.locator(".label")).to_contain_text("Answer", timeout=15_000)
    expect(answer.locator(".text")).to_contain_text("secretariat")
    chip = answer.locator("button.chip").first
    expect(chip).to_be_visible()
    expect(answer.locator(".sources li").first).to_contain_text("GB.349/INS/4 ¶")
    locator = answer.locator(".sources button.source").first.inner_text().split(" — ")[0]
    expect(answer.locator(".comment")).to_be_hidden()

    chip.click()
    viewer = page.locator("#viewer")
    expect(viewer).to_be_visible()
    cited = viewer.locator("section.passage.cited")
    expect(cited).to_have_count(1)
    expect(cited.locator("h3")).to_have_text(locator)
    mark = cited.locator("mark")
    expect(mark).to_be_visible()
    assert len(mark.inner_text()) > 20
    assert cited.evaluate("el => { const r = el.getBoundingClientRect(); return r.top < window.innerHeight && r.bottom > 0 }")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-source-viewer.png"), full_page=True)

    page.get_by_label("Ask a question").fill("and does it cost anything?")
    page.keyboard.press("Enter")
    follow = page.locator("li.answer").nth(1)
    expect(follow.locator(".label")).to_contain_text("Answer", timeout=15_000)
    expect(follow.locator(".text")).not_to_be_empty()

    follow.get_by_role("button", name="Not helpful").click()
    expect(follow.locator(".note")).to_contain_text("Thanks")
    follow.locator(".comment input").fill("should say there are no fees")
    follow.get_by_role("button", name="Send comment").click()
    expect(follow.locator(".note")).to_contain_text("Comment saved")
    rows = [r for r in FeedbackStore(web_settings.feedback_path).feedback() if r["question"] == "and does it cost anything?"]
    assert len(rows) == 1 and rows[0]["rating"] == "down" and rows[0]["comment"] == "should say there are no fees"
    assert rows[0]["history"][0]["content"] == "How can an organisation join the coalition?"

    page.get_by_label("Ask a question").fill("What is the capital of Australia?")
    page.keyboard.press("Enter")
    refused = page.locator("li.answer").nth(2)
    expect(refused).to_have_class("turn answer abstained", timeout=15_000)
    expect(refused.locator(".label")).to_have_text("Not in the documents")
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
    assert not errors, errors


def test_phone_width_and_deep_link(browser: object, base_url: str, client: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    import httpx

    assert isinstance(client, httpx.Client)
    gb = client.get("/documents/gb349-ins4").json()
    p20 = next(p for p in gb["passages"] if p["locator"] == "GB.349/INS/4 ¶20")
    page = browser.new_page(viewport={"width": 375, "height": 740})
    page.goto(f"{base_url}/?doc=gb349-ins4#{p20['id']}")
    cited = page.locator("#viewer section.passage.cited")
    expect(cited).to_contain_text("membership fees")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page scrolls sideways at phone width ({width}px)"
    page.get_by_role("button", name="Close the source").click()
    expect(page.locator("#viewer")).to_be_hidden()
    box = page.get_by_label("Ask a question")
    expect(box).to_be_focused()
    assert box.bounding_box()["width"] > 300  # type: ignore[index]
    page.screenshot(path=str(ARTIFACTS / "chat-phone.png"))


def test_practices_view_filters_and_opens_sources(browser: object, base_url: str) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base_url + "/")
    page.get_by_role("button", name="Practices").click()
    expect(page.locator("#p-status")).to_contain_text("practice records found")
    page.get_by_label("Country").select_option("Brazil")
    page.get_by_label("Kind").select_option("project")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#p-status")).to_have_text("3 practice records found.")
    records = page.locator("li.record h3")
    expect(records).to_have_count(3)
    assert any("cotton producing countries" in t for t in records.all_inner_texts())
    page.get_by_label("Search practices").fill("quantum computing blockchain cryptocurrency")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#p-status")).to_have_text("No practices match these filters.")
    page.get_by_role("button", name="Clear").click()
    expect(page.locator("li.record").first).to_be_visible()
    page.get_by_role("button", name="Social dialogue (").first.click()
    expect(page.get_by_label("Theme")).to_have_value("social_dialogue")
    first = page.locator("li.record").first
    first.get_by_role("button", name="Source:").click()
    expect(page.locator("#viewer section.passage.cited")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "practices.png"), full_page=True)
    assert not errors, errors


def test_docs_work_offline_and_nothing_breaks_the_csp(browser: object, base_url: str) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_page()
    outside: list[str] = []
    problems: list[str] = []
    page.route(re.compile(r"^(?!http://127\.0\.0\.1[:/]).*"), lambda route: (outside.append(route.request.url), route.abort()))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(base_url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Coalition Assistant", timeout=15_000)
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    page.goto(base_url + "/")
    expect(page.locator("#audience")).to_have_text("Audience: public — answers from public documents")  # no keys
    page.get_by_label("Ask a question").fill("Are there membership fees?")
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(page.locator("li.answer").last.locator(".text")).to_contain_text("membership fees", timeout=15_000)
    page.close()
    assert outside == [] and [p for p in problems if "Content Security Policy" in p or "Refused" in p] == [], problems
