"""AsyncClient: headers, settings, logging, reprs, me(), get_json and errors."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from _fakeapi import KEY, FakePlatform, error_body

import vibe_notebook as vn
from vibe_notebook import _credentials, errors
from vibe_notebook._client import AsyncClient, Client, Page
from vibe_notebook._settings import DEFAULT_BASE_URL, resolve_base_url


@pytest.fixture(autouse=True)
def _no_saved_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's environment and saved keys out of these tests."""
    monkeypatch.delenv("VIBE_API_KEY", raising=False)
    monkeypatch.delenv("VIBE_BASE_URL", raising=False)
    monkeypatch.setattr(_credentials, "load_connection", lambda *a, **k: None)


def _client(fake: FakePlatform, **options) -> AsyncClient:
    return AsyncClient(
        KEY, base_url="http://fake", transport=fake.transport(), **options
    )


def test_client_sends_api_key_header_on_every_call() -> None:
    fake = FakePlatform(range(1, 4))
    client = _client(fake)

    async def main() -> None:
        await client.me()
        await client.get_json("/v1/deals")
        await client.pull("deals")

    asyncio.run(main())

    assert len(fake.requests) >= 4
    assert all(r.headers["x-api-key"] == KEY for r in fake.requests)
    assert all(
        r.headers["user-agent"].startswith("vibe_notebook/") for r in fake.requests
    )
    assert all(r.url.host == "fake" for r in fake.requests)


@pytest.mark.parametrize(
    ("argument", "env", "expected"),
    [
        ("http://127.0.0.1:9/", "https://env.example", "http://127.0.0.1:9"),
        (None, "https://env.example/v1/", "https://env.example"),
        (None, None, DEFAULT_BASE_URL),
        ("https://x.example/v1", None, "https://x.example"),
    ],
    ids=["argument-wins", "env", "default", "strips-v1"],
)
def test_base_url_resolution(
    monkeypatch: pytest.MonkeyPatch,
    argument: str | None,
    env: str | None,
    expected: str,
) -> None:
    if env:
        monkeypatch.setenv("VIBE_BASE_URL", env)

    client = AsyncClient(KEY, base_url=argument)

    assert client.base_url == expected
    assert resolve_base_url(argument) == expected


def test_base_url_must_be_http() -> None:
    with pytest.raises(errors.ConfigurationError, match="not an http"):
        AsyncClient(KEY, base_url="ftp://example.com")


def test_api_key_from_env_then_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(errors.ConfigurationError) as caught:
        AsyncClient()
    monkeypatch.setenv("VIBE_API_KEY", "vibe_api_fromenv1234567890")
    from_env = AsyncClient()
    argument = AsyncClient("vibe_api_argument1234567890")

    assert "VIBE_API_KEY" in str(caught.value)
    assert from_env._api_key == "vibe_api_fromenv1234567890"
    assert argument._api_key == "vibe_api_argument1234567890"


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(errors.ConfigurationError, match="VIBE_API_KEY is not set"):
        Client.from_env()
    monkeypatch.setenv("VIBE_API_KEY", KEY)
    monkeypatch.setenv("VIBE_BASE_URL", "http://fake")
    fake = FakePlatform()

    with Client.from_env(transport=fake.transport()) as client:
        me = client.me()

    assert me["portal"] == "example.bitrix24.ru"
    assert client.base_url == "http://fake"
    assert AsyncClient.from_env().base_url == "http://fake"


def test_from_connection_keeps_the_connection() -> None:
    from vibe_notebook._connect import Connection

    conn = Connection(KEY, "http://fake", "example.bitrix24.ru", "Example", ("crm",))
    fake = FakePlatform()

    with Client.from_connection(conn, transport=fake.transport()) as client:
        me = client.me()
    aclient = AsyncClient.from_connection(conn)

    assert me["scopes"] == ["crm", "task"]
    assert client.connection is conn
    assert aclient.connection is conn
    assert aclient.base_url == "http://fake"


def test_repr_masks_the_key() -> None:
    fake = FakePlatform()
    aclient = _client(fake)
    client = Client(KEY, base_url="http://fake", transport=fake.transport())

    for text in (repr(aclient), repr(client), str(client)):
        assert KEY not in text
        assert "vibe_api_te…cdef" in text
        assert "http://fake" in text
    client.close()


def test_log_has_one_info_line_per_request_and_no_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakePlatform(range(1, 4))
    fake.faults = [
        httpx.Response(404, json=error_body("ENTITY_NOT_FOUND", f"no {KEY}"))
    ]
    client = _client(fake)
    caplog.set_level(logging.DEBUG)

    async def main() -> None:
        with pytest.raises(errors.NotFoundError):
            await client.get_json("/v1/deals/9")
        await client.me()

    asyncio.run(main())

    ours = [r for r in caplog.records if r.name == "vibe_notebook._client"]
    assert [r.getMessage().rsplit(" ", 2)[0] for r in ours] == [
        "GET /v1/deals/9 404",
        "GET /v1/me 200",
    ]
    assert all(
        r.levelno == logging.INFO and r.getMessage().endswith(" ms") for r in ours
    )
    assert KEY not in caplog.text
    assert KEY[9:] not in caplog.text


def test_me_and_get_json_return_data() -> None:
    fake = FakePlatform(range(1, 4))
    client = _client(fake)

    async def main() -> tuple:
        return (
            await client.me(),
            await client.get_json("/v1/deals", {"limit": 2}),
            await client.request("GET", "deals", params={"limit": 1}),
        )

    me, deals, page = asyncio.run(main())

    assert me == fake.me()
    assert [d["id"] for d in deals] == [1, 2]
    assert isinstance(page, Page)
    assert page.data == {"id": 1, "title": "Deal 1", "stageId": "NEW"}
    assert page.rows == [page.data]
    assert page.meta == {"total": 0, "hasMore": True}
    assert page.status_code == 200
    assert fake.requests[-1].url.path == "/v1/deals"


@pytest.mark.parametrize(
    ("response", "cls", "code"),
    [
        (
            httpx.Response(401, json=error_body("INVALID_API_KEY", "nope")),
            errors.AuthenticationError,
            "INVALID_API_KEY",
        ),
        (
            httpx.Response(
                403,
                json=error_body(
                    "SCOPE_DENIED", "no", details={"requiredScope": "task"}
                ),
            ),
            errors.PermissionDeniedError,
            "SCOPE_DENIED",
        ),
        (
            httpx.Response(404, json=error_body("ENTITY_NOT_FOUND", "Item not found")),
            errors.NotFoundError,
            "ENTITY_NOT_FOUND",
        ),
        (
            httpx.Response(
                400,
                json=error_body(
                    "INVALID_FILTER_OPERATOR", "Unknown filter operator: to"
                ),
            ),
            errors.InvalidRequestError,
            "INVALID_FILTER_OPERATOR",
        ),
        (
            httpx.Response(200, json=error_body("BITRIX_ERROR", "bad")),
            errors.InvalidRequestError,
            "BITRIX_ERROR",
        ),
        (httpx.Response(200, text="<html>login</html>"), errors.ServerError, None),
    ],
    ids=["401", "403", "404", "400", "200-success-false", "200-not-json"],
)
def test_errors_surface_with_what_was_attempted(
    response: httpx.Response, cls: type, code: str | None
) -> None:
    fake = FakePlatform()
    fake.faults = [response]
    client = _client(fake)

    with pytest.raises(cls) as caught:
        asyncio.run(client.get_json("/v1/deals/5"))

    assert caught.value.code == code
    assert str(caught.value).startswith("GET /v1/deals/5 ")
    assert KEY not in str(caught.value)
    assert len(fake.requests) == 1


def test_refused_connection_becomes_transport_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client = AsyncClient(
        KEY,
        base_url="http://fake",
        transport=httpx.MockTransport(refuse),
        max_retries=0,
    )

    with pytest.raises(errors.TransportError, match="GET /v1/me got no answer"):
        asyncio.run(client.me())


def test_full_addresses_and_odd_entities_are_refused() -> None:
    client = _client(FakePlatform())

    with pytest.raises(errors.ConfigurationError, match="full address"):
        asyncio.run(client.get_json("https://evil.example/v1/me"))
    with pytest.raises(errors.ConfigurationError, match="not an entity"):
        asyncio.run(client.pull("../me"))


def test_stats_count_requests_and_rows() -> None:
    fake = FakePlatform(range(1, 6))
    client = _client(fake)

    rows = asyncio.run(client.pull("deals"))

    assert client.stats["requests"] == len(fake.requests) == 2
    assert client.stats["rows"] == len(rows) == 5
    assert client.stats["retries"] == 0


def test_async_context_manager_closes() -> None:
    fake = FakePlatform()

    async def main() -> AsyncClient:
        async with _client(fake) as client:
            await client.me()
        return client

    client = asyncio.run(main())

    assert client._http is None


def test_public_names_are_exported() -> None:
    assert vn.Client is Client
    assert vn.AsyncClient is AsyncClient
