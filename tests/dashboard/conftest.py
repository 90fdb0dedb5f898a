"""Fixtures for the dashboard: users, a logged-in browser (Debian's Chromium driven by Playwright),
axe-core injected into every page, and screenshots under test-output/screenshots/."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.dashboard.helpers import ROOT, User, create_user
from tests.support import Server, World

CHROMIUM = "/usr/bin/chromium"
# As the machine's notes have it: headless, and nothing that reaches for other hosts.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_VERSION = "4.14.1"
AXE_DIR = ROOT / ".cache" / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-output" / "screenshots"


def _axe_script() -> Path:
    """axe-core from npm, test-only: installed into .cache/axe once (under a lock: xdist workers)."""
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    with open(AXE_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not AXE_SCRIPT.exists():
            npm = shutil.which("npm")
            assert npm, "npm is needed to install axe-core for the accessibility checks"
            subprocess.run(
                [
                    npm,
                    "install",
                    "--silent",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    str(AXE_DIR),
                    f"axe-core@{AXE_VERSION}",
                ],
                check=True,
                timeout=300,
            )
    return AXE_SCRIPT


# Module scope, not session: Playwright's sync API keeps an event loop running in the thread while
# it is started, and the worker's next module may call asyncio.run() (tests/api/test_rate_limits.py).
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    assert os.path.exists(CHROMIUM), "Debian's chromium is needed: apt-get install -y chromium (make test does it)"
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def axe() -> Path:
    return _axe_script()


@pytest.fixture
def context(browser: Browser, axe: Path) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) with axe-core loaded into every page it opens (an init
    script, so the pages' own Content-Security-Policy does not stop it)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(path=str(axe))
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def dialogs() -> list[str]:
    """The messages of every JavaScript dialog (alert, confirm) a page opened: none is expected."""
    return []


@pytest.fixture
def page(context: BrowserContext, dialogs: list[str]) -> Page:
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return page


@pytest.fixture
def dispatcher(server: Server, world: World) -> User:
    return create_user(server, world, "dispatcher")


@pytest.fixture
def viewer(server: Server, world: World) -> User:
    return create_user(server, world, "viewer")


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
