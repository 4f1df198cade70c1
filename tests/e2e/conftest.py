"""Shared by the browser tests: Debian's Chromium (/usr/bin/chromium, headless) driven by Playwright.

Nothing downloads a browser; JUECE_CHROMIUM names another binary."""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("JUECE_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def browser(monkeypatch):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (scripts/setup.sh does with JUECE_SETUP_BROWSER=1)"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


class PolicyViolations(list):
    """What Chromium refused under the Content-Security-Policy on the pages watched, one line each."""

    def watch(self, page):
        def record(message):
            if "Content Security Policy" in message.text:
                self.append(f"{page.url}: {message.text}")

        page.on("console", record)
        return page


@pytest.fixture
def csp_violations():
    return PolicyViolations()
