"""The session behind vn.deals() and its siblings."""

from __future__ import annotations

import httpx
import pytest

import vibe_notebook as vn
from vibe_notebook import _session
from vibe_notebook._connect import Connection
from vibe_notebook._credentials import save_connection
from vibe_notebook.errors import ConfigurationError, NotConnectedError

_KEY = "vibe_api_testsessionkey0000000000"


@pytest.fixture(autouse=True)
def _no_session(monkeypatch):
    monkeypatch.setattr(_session, "_current", None)


def _connection(base_url: str) -> Connection:
    return Connection(
        api_key=_KEY,
        base_url=base_url,
        portal_domain="acme.bitrix24.com",
        portal_name="Acme",
        scopes=("crm",),
        user_name="Ann",
        user_email="ann@example.com",
        requested_scopes=("crm",),
    )


def test_session_without_key_raises_not_connected():
    with pytest.raises(NotConnectedError, match=r"vn\.connect\(\)"):
        _session.get_session()


def test_session_from_env_key(monkeypatch):
    monkeypatch.setenv("VIBE_API_KEY", _KEY)
    monkeypatch.setenv("VIBE_BASE_URL", "http://127.0.0.1:9")

    client = _session.get_session()

    assert client.base_url == "http://127.0.0.1:9"
    assert _KEY not in repr(client)
    assert vn.is_connected()


def test_session_from_saved_connection(monkeypatch):
    monkeypatch.setenv("VIBE_BASE_URL", "http://127.0.0.1:9")
    save_connection(_connection("http://127.0.0.1:9"))

    client = _session.get_session()

    assert client.connection is not None
    assert client.connection.portal_domain == "acme.bitrix24.com"


def test_saved_connection_for_other_base_url_is_not_used(monkeypatch):
    monkeypatch.setenv("VIBE_BASE_URL", "http://127.0.0.1:9")
    save_connection(_connection("http://127.0.0.1:10"))

    with pytest.raises(NotConnectedError):
        _session.get_session()


def test_use_sets_the_session_for_module_getters():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"success": True, "data": {"ok": 1}})

    client = vn.Client(
        api_key=_KEY,
        base_url="http://sandbox.test",
        transport=httpx.MockTransport(handler),
    )

    assert vn.use(client) is client
    assert _session.get_session() is client


def test_use_rejects_anything_but_a_client():
    with pytest.raises(ConfigurationError, match="vn.Client"):
        vn.use("vibe_api_not_a_client")  # type: ignore[arg-type]
