"""``python -m vibe_notebook.sandbox``, run as a new user would run it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

CLI = [sys.executable, "-m", "vibe_notebook.sandbox"]


def _banner(process: subprocess.Popen[str], timeout: float = 60) -> str:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Serving until Ctrl-C"):
            return "".join(lines)
    raise AssertionError("the CLI printed no banner:\n" + "".join(lines))


def _field(banner: str, label: str) -> str:
    match = re.search(rf"^\s*{label}\s+(\S+)", banner, re.MULTILINE)
    assert match, f"no {label!r} in banner:\n{banner}"
    return match.group(1)


@pytest.fixture(scope="module")
def running_cli() -> Iterator[tuple[subprocess.Popen[str], str]]:
    args = [*CLI, "--port", "0", "--profile", "test", "--deals", "200", "--seed", "3"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        yield process, _banner(process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_cli_prints_everything_needed_to_connect(
    running_cli: tuple[subprocess.Popen[str], str],
) -> None:
    _, banner = running_cli

    base_url = _field(banner, "base URL")

    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
    assert _field(banner, "client id") == "sbx_demo_partner"
    assert _field(banner, "client secret").startswith("sbx_secret_")
    assert _field(banner, "redirect URI") == f"{base_url}/callback"
    assert _field(banner, "authorize URL").startswith(
        f"{base_url}/v1/connect/authorize?client_id=sbx_demo_partner"
    )
    assert re.search(r"^\s+vibe_api_\w+$", banner, re.MULTILINE)


def test_cli_key_and_authorize_link_work(
    running_cli: tuple[subprocess.Popen[str], str],
) -> None:
    _, banner = running_cli
    base_url = _field(banner, "base URL")
    key = re.search(r"^\s+(vibe_api_\w+)$", banner, re.MULTILINE)
    assert key

    deals = httpx.get(
        f"{base_url}/v1/deals", params={"limit": 500}, headers={"X-Api-Key": key[1]}
    )
    consent = httpx.get(_field(banner, "authorize URL"))

    assert len(deals.json()["data"]) == 200
    assert consent.status_code == 200
    assert "consent_id" in consent.text


def test_cli_stops_cleanly_on_ctrl_c(
    running_cli: tuple[subprocess.Popen[str], str],
) -> None:
    process, _ = running_cli

    process.send_signal(signal.SIGINT)

    assert process.wait(timeout=15) == 0


def test_cli_rejects_a_malformed_fault_rate() -> None:
    result = subprocess.run(
        [*CLI, "--fault-rate", "502"], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 2
    assert "KIND=PROBABILITY" in result.stderr


def test_cli_rejects_an_unknown_fault_kind() -> None:
    result = subprocess.run(
        [*CLI, "--port", "0", "--fault-rate", "teapot=0.1"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "teapot" in result.stderr
