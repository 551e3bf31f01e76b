"""Fixtures: a running sandbox and HTTP clients holding its keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from vibe_notebook.sandbox import Sandbox

ANCHOR = "2026-12-01"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """One sandbox for the session, with the rate limits off.

    Tests here send hundreds of requests within seconds; the per-key window
    and the portal's leaky bucket have their own tests.
    """
    with Sandbox(anchor=ANCHOR, requests_per_minute=0, bucket_burst=0) as running:
        yield running


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    """A client on the session sandbox with a fresh crm, task and user key."""
    headers = {"X-Api-Key": sandbox.issue_key()}
    with httpx.Client(base_url=sandbox.base_url, headers=headers) as client:
        yield client


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes with custom settings; all are stopped afterwards."""
    started: list[Sandbox] = []

    def make(**settings: Any) -> Sandbox:
        settings = {"anchor": ANCHOR, "bucket_burst": 0, **settings}
        running = Sandbox(**settings).start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
