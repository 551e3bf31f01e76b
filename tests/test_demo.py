"""The demo command on a fresh copy, then the quickstart's connect flow in Chromium.

Slow (it builds a new venv and installs the demo extra), so it carries the
``ui`` marker: ``pytest -m ui tests/test_demo.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).parent.parent
CHROMIUM = os.environ.get("VIBE_CHROMIUM", "/usr/bin/chromium")
_SKIPPED = shutil.ignore_patterns(
    ".venv", ".git", "test-output", "*.egg-info", "__pycache__", ".*_cache"
)
_ADDRESS = re.compile(r"http://\S+/lab/tree/notebooks/quickstart\.ipynb\?token=\w+")


def test_demo_script_is_valid_bash() -> None:
    result = subprocess.run(
        ["bash", "-n", str(REPO / "scripts" / "demo.sh")], capture_output=True
    )

    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def demo_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run scripts/demo.sh in a copy of the checkout; yield the printed address."""
    copy = tmp_path_factory.mktemp("clone") / "vibe_notebook"
    shutil.copytree(REPO, copy, ignore=_SKIPPED)
    log_path = copy.parent / "demo.log"
    env = {**os.environ, "PORT": "8950", "HOST": "127.0.0.1"}
    env.pop("VIRTUAL_ENV", None)

    with log_path.open("w") as log:
        demo = subprocess.Popen(
            ["bash", "scripts/demo.sh"],
            cwd=copy,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield _wait_for_address(log_path, demo)
        finally:
            os.killpg(demo.pid, signal.SIGTERM)
            demo.wait(timeout=30)


def _wait_for_address(log_path: Path, demo: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        found = _ADDRESS.search(log_path.read_text())
        if found:
            return found.group(0)
        if demo.poll() is not None:
            break
        time.sleep(1)
    pytest.fail(f"scripts/demo.sh printed no address:\n{log_path.read_text()[-3000:]}")


@pytest.mark.ui
def test_demo_serves_the_quickstart_and_the_panel_connects(demo_address: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        page = context.new_page()
        page.set_default_timeout(90_000)
        page.goto(demo_address + "&reset")
        page.get_by_text("| Idle").wait_for()

        _run_cells(page, first=0, count=4)
        with context.expect_page() as consent_info:
            page.locator(".vibe-authorize-link a").first.click()
        consent = consent_info.value
        consent.get_by_role("button", name="Approve").click()
        consent.wait_for_url(re.compile(r".*[?&]code="))

        page.bring_to_front()
        page.locator(".vibe-callback-input input").fill(consent.url)
        page.locator(".vibe-connect-button").click()
        status = page.locator(".vibe-status")
        status.filter(has_text="Connected").wait_for()

        _run_cells(page, first=4, count=3)
        stdout = page.locator("[data-mime-type='application/vnd.jupyter.stdout']")
        connected = stdout.filter(has_text="Connected to")
        connected.wait_for()
        text = connected.inner_text()
        browser.close()

    assert "Acme Trading" in text


def _run_cells(page: Page, *, first: int, count: int) -> None:
    """Select cell ``first`` and run it and the next ``count - 1`` cells."""
    page.locator(".jp-Notebook .jp-Cell").nth(first).click()
    page.keyboard.press("Escape")
    for _ in range(count):
        page.keyboard.press("Shift+Enter")
        time.sleep(0.3)
