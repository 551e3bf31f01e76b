"""The blocking Client: from a script, inside a running loop, and import weight."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
from _fakeapi import KEY, FakePlatform

from vibe_notebook import errors
from vibe_notebook._client import Client


def _client(fake: FakePlatform) -> Client:
    return Client(KEY, base_url="http://fake", transport=fake.transport())


def test_sync_many_calls_on_one_client_from_a_script() -> None:
    fake = FakePlatform(range(1, 31))

    with _client(fake) as client:
        answers = [client.get_json(f"/v1/deals?i={i}") for i in range(40)]
        rows = client.pull("deals")
        me = client.me()
        loop = client._loop

    assert len(answers) == 40
    assert [r["id"] for r in rows] == list(range(1, 31))
    assert me["portal"] == "example.bitrix24.ru"
    assert loop is not None and loop.is_closed()
    assert client.stats["requests"] == 40 + 2 + 1


def _isolated(scenario: str) -> None:
    """Run a scenario in a fresh interpreter.

    nest-asyncio2 patches asyncio for the whole process once a blocking call
    runs inside a loop, so these scenarios keep that patch out of the rest of
    the test session.
    """
    tests_dir = Path(__file__).parent
    code = f"import test_sync; test_sync.{scenario}(); print('ok')"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tests_dir,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


def test_sync_inside_a_running_loop() -> None:
    _isolated("scenario_inside_a_running_loop")


def test_sync_script_then_loop_then_script_again() -> None:
    _isolated("scenario_script_then_loop_then_script_again")


def test_sync_inside_a_widget_style_callback() -> None:
    _isolated("scenario_inside_a_widget_style_callback")


def scenario_inside_a_running_loop() -> None:
    fake = FakePlatform(range(1, 11))
    client = _client(fake)

    async def notebook_cell() -> list[Any]:
        results = [client.me() for _ in range(3)]
        results.append(client.pull("deals", limit=4))
        await asyncio.sleep(0)  # the loop still works after nested runs
        results.append(client.get_json("/v1/deals"))
        return results

    first = asyncio.run(notebook_cell())
    second = asyncio.run(notebook_cell())  # a new loop: the client follows it
    client.close()

    assert first == second
    assert first[0]["portal"] == "example.bitrix24.ru"
    assert [r["id"] for r in first[3]] == [1, 2, 3, 4]
    assert client._loop is None


def scenario_script_then_loop_then_script_again() -> None:
    fake = FakePlatform(range(1, 4))
    client = _client(fake)

    before = client.me()

    async def cell() -> dict:
        return client.me()

    inside = asyncio.run(cell())
    after = client.me()
    client.close()

    assert before == inside == after


def scenario_inside_a_widget_style_callback() -> None:
    fake = FakePlatform(range(1, 4))
    client = _client(fake)
    seen: list[int] = []

    def on_click() -> None:  # a plain callback run by the loop, like a widget's
        seen.append(len(client.pull("deals")))

    async def kernel() -> None:
        asyncio.get_running_loop().call_soon(on_click)
        for _ in range(20):
            await asyncio.sleep(0)

    asyncio.run(kernel())
    client.close()

    assert seen == [3]


def test_sync_closed_client_says_so() -> None:
    client = _client(FakePlatform())
    client.close()
    client.close()  # twice is fine

    with pytest.raises(errors.ConfigurationError, match="closed"):
        client.me()


def test_sync_errors_propagate_unchanged() -> None:
    fake = FakePlatform()
    fake.faults = [
        httpx.Response(403, json={"success": False, "error": {"code": "SCOPE_DENIED"}})
    ]

    with _client(fake) as client, pytest.raises(errors.PermissionDeniedError):
        client.get_json("/v1/tasks")


def test_sync_ctrl_c_during_pull_keeps_rows() -> None:
    fake = FakePlatform(range(1, 20_001))
    hang = asyncio.Event()
    served = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal served
        served += 1
        if served == 3:
            asyncio.get_running_loop().call_soon(_interrupt)
        if served >= 3:
            await hang.wait()
        return fake.handle(request)

    client = Client(KEY, base_url="http://fake", transport=httpx.MockTransport(handler))

    with pytest.raises(errors.PullInterrupted) as caught:
        client.pull("deals")
    client.close()

    assert len(caught.value.rows) == 1000  # the first, sample page
    assert "1,000 rows arrived" in str(caught.value)


def _interrupt() -> None:
    raise KeyboardInterrupt


def test_sync_ctrl_c_inside_a_running_loop_keeps_rows_and_stops_tasks() -> None:
    _isolated("scenario_ctrl_c_inside_a_running_loop")


def scenario_ctrl_c_inside_a_running_loop() -> None:
    fake = FakePlatform(range(1, 20_001))
    hang = asyncio.Event()
    served = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal served
        served += 1
        if served == 3:
            asyncio.get_running_loop().call_soon(_interrupt)
        if served >= 3:
            await hang.wait()
        return fake.handle(request)

    client = Client(KEY, base_url="http://fake", transport=httpx.MockTransport(handler))

    async def notebook_cell() -> tuple[errors.PullInterrupted, int]:
        try:
            client.pull("deals")
        except errors.PullInterrupted as exc:
            await asyncio.sleep(0)
            others = asyncio.all_tasks() - {asyncio.current_task()}
            return exc, len([t for t in others if not t.done()])
        raise AssertionError("the pull was not interrupted")

    caught, pending = asyncio.run(notebook_cell())
    client.close()

    assert len(caught.rows) == 1000  # the first, sample page
    assert "1,000 rows arrived" in str(caught)
    assert pending == 0


def test_import_stays_light() -> None:
    code = textwrap.dedent(
        """
        import sys
        import vibe_notebook as vn
        vn.Client, vn.AsyncClient, vn.errors
        heavy = [m for m in ("nest_asyncio2", "ipywidgets", "vibe_notebook.sandbox",
                             "starlette", "uvicorn") if m in sys.modules]
        print(",".join(heavy))
        """
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == ""
