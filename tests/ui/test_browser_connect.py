"""The whole connect flow in JupyterLab, driven through Debian's Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.ui

_KERNEL_IDLE = """() => {
  const widget = window.jupyterapp?.shell.currentWidget;
  return widget?.sessionContext?.session?.kernel?.status === 'idle';
}"""
_SAVED = "() => !window.jupyterapp.shell.currentWidget.context.model.dirty"


def _run_cells_from(page: Page, index: int) -> None:
    page.evaluate(
        """async (index) => {
          const notebook = window.jupyterapp.shell.currentWidget.content;
          notebook.activeCellIndex = index;
          await window.jupyterapp.commands.execute('notebook:run-cell');
        }""",
        index,
    )


def _cell_output(page: Page, index: int) -> str:
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    result = cell.locator(".jp-OutputArea-executeResult .jp-OutputArea-output")
    expect(result).to_be_visible()
    return result.inner_text()


def _approve_without_task(page: Page) -> str:
    """Open the Authorize link, untick task, approve; return the landed address."""
    link = page.locator(".vibe-authorize-link a")
    with page.context.expect_page() as opened:
        link.click()
    consent = opened.value
    consent.wait_for_load_state()
    assert "/v1/connect/authorize" in consent.url

    consent.locator('input[name="scope"][value="task"]').uncheck()
    consent.get_by_role("button", name="Approve").click()
    consent.wait_for_url(re.compile(r".*/callback\?.*code=.*"))
    expect(consent.locator("#callback-address")).to_have_value(consent.url)
    address = consent.url
    consent.close()
    return address


def _expect_connected(status: Any, page: Page, lab: Any, shot: Path) -> None:
    """Wait for the success view; on failure keep a screenshot and the log."""
    try:
        expect(status).to_contain_text("Connected to")
    except AssertionError as exc:
        page.screenshot(path=str(shot))
        log = lab.log.read_text(errors="replace")[-4000:]
        raise AssertionError(f"{exc}\nJupyterLab's log ends with:\n{log}") from exc


def test_connect_panel_in_jupyterlab(
    jupyter_lab: Any, page: Page, output_dir: Path
) -> None:
    variant = "hub" if "/user/test/" in jupyter_lab.url else "local"
    page.set_default_timeout(60_000)
    page.goto(jupyter_lab.page_url())
    page.wait_for_function(_KERNEL_IDLE)

    _run_cells_from(page, 0)
    panel = page.locator(".vibe-panel")
    expect(page.locator(".vibe-authorize-link a")).to_be_visible()
    panel.screenshot(path=str(output_dir / f"panel-{variant}-before.png"))
    href = page.locator(".vibe-authorize-link a").get_attribute("href") or ""
    if variant == "hub":
        assert href.startswith("/user/test/proxy/")

    address = _approve_without_task(page)
    if variant == "hub":
        assert urlsplit(address).path.startswith("/user/test/proxy/")
    code = parse_qs(urlsplit(address).query)["code"][0]

    page.locator(".vibe-callback-input input").fill(address)
    page.locator(".vibe-connect-button").click()
    status = page.locator(".vibe-status")
    _expect_connected(status, page, jupyter_lab, output_dir / f"{variant}-stuck.png")
    expect(status).to_contain_text("Not granted: task")
    expect(status).to_contain_text("vn.tasks()")
    expect(page.locator(".vibe-callback-input")).to_have_count(0)
    panel.screenshot(path=str(output_dir / f"panel-{variant}-after.png"))

    _run_cells_from(page, 1)
    page.wait_for_function(_KERNEL_IDLE)
    _run_cells_from(page, 2)
    shape = _cell_output(page, 2)
    rows = int(re.fullmatch(r"\((\d+), \d+\)", shape.strip()).group(1))  # type: ignore[union-attr]
    assert rows > 0

    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function(_SAVED)
    _assert_saved_notebook_is_clean(jupyter_lab, code, shape.strip())


def _assert_saved_notebook_is_clean(lab: Any, code: str, shape: str) -> None:
    saved = lab.notebook.read_text()
    secrets = json.loads(lab.secrets_file.read_text())
    api_key, client_secret = secrets["api_key"], secrets["client_secret"]
    masked = f"{api_key[:11]}…{api_key[-4:]}"

    # The checks below must be able to fail: real values, and a saved file
    # that really holds the outputs and the widget state.
    assert api_key.startswith("vibe_api_") and len(api_key) > 20
    assert len(client_secret) >= 16 and len(code) >= 16
    assert shape in saved
    assert "application/vnd.jupyter.widget-state+json" in saved
    assert masked in saved or masked.encode("unicode_escape").decode() in saved

    for key in secrets["all_keys"]:
        assert key not in saved
    assert client_secret not in saved
    assert code not in saved
    assert not re.search(r"vibe_api_[A-Za-z0-9]{12,}", saved)
