"""A real browser for the web UI tests: Debian's Chromium driven by Playwright (headless, no
sandbox, no background networking), against the live test server."""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR")  # docs/screenshots when refreshing the docs


@pytest.fixture(scope="module")
def browser():
    """Per test module: Playwright keeps an event loop running in this thread while the browser
    is open, and the other tests of this worker must not run under it."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no browser at {CHROMIUM}: ./crm test installs Debian's chromium")
    # Playwright's sync API keeps an event loop in this thread, which Django takes for async
    # code and refuses database calls from: they are the test's own, synchronous ones.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()
    from django.db import connections

    connections.close_all()  # what the tests opened while the loop ran
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def open_page(browser):
    """A fresh page in a browser context of the given locale (Accept-Language)."""
    contexts = []

    def open_(locale: str = "en-US", width: int = 1280):
        context = browser.new_context(locale=locale, viewport={"width": width, "height": 900})
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def screenshot(page, name: str, tmp_path: Path) -> Path:
    """Save a screenshot: under SCREENSHOTS_DIR when set (docs), else the test's tmp dir."""
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def choose_lookup(page, input_id: str, typed: str, title: str) -> None:
    """Type into a lookup's type-ahead and pick the option titled ``title``."""
    page.locator(f"#{input_id}").fill(typed)
    option = page.locator(f"#{input_id}-options [role=option]", has_text=title)
    option.wait_for()
    option.click()
