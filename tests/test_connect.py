"""The Partner Connect flow: authorize_url, Connection, exchange_code."""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from vibe_notebook._connect import (
    Connection,
    aexchange_code,
    authorize_url,
    exchange_code,
    normalize_scopes,
    warn_missing_scopes,
)
from vibe_notebook._scopes import SCOPES
from vibe_notebook.errors import (
    APIError,
    ConfigurationError,
    InvalidClientError,
    InvalidCodeError,
    InvalidRedirectUriError,
    InvalidScopeError,
    KeyLimitReachedError,
    PartnerDisabledError,
    ScopesNotGrantedWarning,
    TransportError,
)

BASE = "http://vibe.test"
CLIENT_ID = "partner_demo"
SECRET = "partner-secret-9f8e7d6c5b4a"
REDIRECT = "http://127.0.0.1:8765/callback"
CODE = "authcode-0123456789abcdef"
KEY = "vibe_api_ab0123456789abcdef0123f9d2"

GRANTED = {
    "success": True,
    "api_key": KEY,
    "portal": {"domain": "acme.bitrix24.com", "name": "Acme Ltd"},
    "scopes": ["crm", "task"],
    "user": {"name": "Anna Smith", "email": "anna@acme.example"},
}

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VIBE_BASE_URL", "VIBE_API_KEY", "VIBE_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)


def _exchange(handler: Handler, **overrides: Any) -> Connection:
    arguments: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "redirect_uri": REDIRECT,
        "base_url": BASE,
        "transport": httpx.MockTransport(handler),
    }
    arguments.update(overrides)
    return exchange_code(CODE, **arguments)


def _answer(body: Any, status: int = 200) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    return handler


def _refusal(code: str, status: int, message: str = "Refused") -> Handler:
    body = {"success": False, "error": {"code": code, "message": message}}
    return _answer(body, status)


def _assert_no_secrets(text: str) -> None:
    for secret in (SECRET, CODE, KEY):
        assert secret not in text


# --- authorize_url --------------------------------------------------------


def test_authorize_url_has_every_parameter() -> None:
    url, state = authorize_url(CLIENT_ID, REDIRECT, ["crm", "task"], base_url=BASE)

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        f"{BASE}/v1/connect/authorize"
    )
    assert query == {
        "client_id": [CLIENT_ID],
        "redirect_uri": [REDIRECT],
        "scopes": ["crm,task"],
        "state": [state],
    }
    assert "scopes=crm,task" in url


def test_authorize_url_state_is_fresh_and_long() -> None:
    states = {authorize_url(CLIENT_ID, REDIRECT, base_url=BASE)[1] for _ in range(20)}

    assert len(states) == 20
    assert min(len(s) for s in states) >= 40


def test_authorize_url_keeps_a_given_state() -> None:
    url, state = authorize_url(CLIENT_ID, REDIRECT, base_url=BASE, state="fixed-1")

    assert state == "fixed-1"
    assert parse_qs(urlsplit(url).query)["state"] == ["fixed-1"]


def test_authorize_url_base_url_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBE_BASE_URL", "http://127.0.0.1:9999/")

    url, _ = authorize_url(CLIENT_ID, REDIRECT)

    assert url.startswith("http://127.0.0.1:9999/v1/connect/authorize?")


def test_authorize_url_default_base_url_is_production() -> None:
    url, _ = authorize_url(CLIENT_ID, REDIRECT)

    assert url.startswith("https://vibecode.bitrix24.tech/v1/connect/authorize?")


def test_authorize_url_accepts_comma_string() -> None:
    url, _ = authorize_url(CLIENT_ID, REDIRECT, "crm, task,crm", base_url=BASE)

    assert parse_qs(urlsplit(url).query)["scopes"] == ["crm,task"]


def test_authorize_url_rejects_unknown_scope_listing_valid_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        authorize_url(CLIENT_ID, REDIRECT, ["crm", "tasks"], base_url=BASE)

    message = str(caught.value)
    assert "'tasks'" in message
    assert "Did you mean 'task'" in message
    assert all(name in message for name in SCOPES)


def test_authorize_url_rejects_no_scope() -> None:
    with pytest.raises(ConfigurationError, match="at least one"):
        authorize_url(CLIENT_ID, REDIRECT, [], base_url=BASE)


@pytest.mark.parametrize(
    ("client_id", "redirect_uri", "env"),
    [
        pytest.param("", REDIRECT, "VIBE_CLIENT_ID", id="no-client-id"),
        pytest.param("  ", REDIRECT, "VIBE_CLIENT_ID", id="blank-client-id"),
        pytest.param(CLIENT_ID, "", "VIBE_REDIRECT_URI", id="no-redirect-uri"),
    ],
)
def test_authorize_url_rejects_missing_partner_settings(
    client_id: str, redirect_uri: str, env: str
) -> None:
    with pytest.raises(ConfigurationError, match=env):
        authorize_url(client_id, redirect_uri, base_url=BASE)


def test_authorize_url_rejects_non_http_base_url() -> None:
    with pytest.raises(ConfigurationError, match="VIBE_BASE_URL"):
        authorize_url(CLIENT_ID, REDIRECT, base_url="vibecode.bitrix24.tech")


def test_normalize_scopes_keeps_order_and_drops_repeats() -> None:
    assert normalize_scopes(["task", "CRM", "task", " im "]) == ("task", "crm", "im")


def test_normalize_scopes_rejects_non_strings() -> None:
    with pytest.raises(ConfigurationError, match="names"):
        normalize_scopes(["crm", 3])  # type: ignore[list-item]


# --- Connection -------------------------------------------------------------


def _connection(**overrides: Any) -> Connection:
    fields: dict[str, Any] = {
        "api_key": KEY,
        "base_url": BASE,
        "portal_domain": "acme.bitrix24.com",
        "portal_name": "Acme Ltd",
        "scopes": ("crm",),
        "user_name": "Anna Smith",
        "user_email": "anna@acme.example",
        "requested_scopes": ("crm", "task"),
    }
    fields.update(overrides)
    return Connection(**fields)


def test_connection_repr_and_str_mask_the_key() -> None:
    conn = _connection()

    assert KEY not in repr(conn)
    assert KEY not in str(conn)
    assert "vibe_api_ab…f9d2" in repr(conn)
    assert "vibe_api_ab…f9d2" in str(conn)
    assert "Acme Ltd (acme.bitrix24.com)" in str(conn)


def test_connection_reports_missing_scopes() -> None:
    conn = _connection()

    assert conn.missing_scopes == ("task",)
    assert conn.has_scope("crm")
    assert not conn.has_scope("task")


def test_connection_is_frozen_and_keeps_tuples() -> None:
    conn = _connection(scopes=["crm", "task"])

    assert conn.scopes == ("crm", "task")
    with pytest.raises(AttributeError):
        conn.api_key = "other"  # type: ignore[misc]


def test_warn_missing_scopes_points_at_the_caller() -> None:
    with pytest.warns(ScopesNotGrantedWarning, match="leave task ticked") as record:
        issued = warn_missing_scopes(_connection())

    assert issued
    assert record[0].filename == __file__


def test_warn_missing_scopes_silent_when_all_granted() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        issued = warn_missing_scopes(_connection(scopes=("crm", "task")))

    assert not issued


# --- exchange_code ------------------------------------------------------------


def test_exchange_code_posts_form_and_returns_connection() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=GRANTED)

    conn = _exchange(handler, requested_scopes=["crm", "task"])

    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/v1/connect/token"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {
        "client_id": [CLIENT_ID],
        "client_secret": [SECRET],
        "code": [CODE],
        "redirect_uri": [REDIRECT],
    }
    assert conn == Connection(
        api_key=KEY,
        base_url=BASE,
        portal_domain="acme.bitrix24.com",
        portal_name="Acme Ltd",
        scopes=("crm", "task"),
        user_name="Anna Smith",
        user_email="anna@acme.example",
        requested_scopes=("crm", "task"),
    )
    assert conn.missing_scopes == ()


def test_exchange_code_reports_unticked_scopes() -> None:
    body = {**GRANTED, "scopes": ["crm"]}

    conn = _exchange(_answer(body), requested_scopes="crm,task,im")

    assert conn.scopes == ("crm",)
    assert conn.missing_scopes == ("task", "im")


def test_exchange_code_accepts_scopes_as_comma_string() -> None:
    conn = _exchange(_answer({**GRANTED, "scopes": "crm, task"}))

    assert conn.scopes == ("crm", "task")


def test_exchange_code_accepts_a_data_wrapper() -> None:
    body = {
        "success": True,
        "data": {k: v for k, v in GRANTED.items() if k != "success"},
    }

    conn = _exchange(_answer(body))

    assert conn.api_key == KEY


CONNECT_CODES = [
    pytest.param("INVALID_CLIENT", 400, InvalidClientError, "client", id="client"),
    pytest.param(
        "INVALID_REDIRECT_URI", 400, InvalidRedirectUriError, "redirect", id="redirect"
    ),
    pytest.param("INVALID_SCOPE", 400, InvalidScopeError, "scope", id="scope"),
    pytest.param("INVALID_CODE", 400, InvalidCodeError, "10 minutes", id="code"),
    pytest.param(
        "PARTNER_DISABLED", 403, PartnerDisabledError, "contact", id="partner-disabled"
    ),
    pytest.param(
        "KEY_LIMIT_REACHED", 429, KeyLimitReachedError, "revoke", id="key-limit"
    ),
]


@pytest.mark.parametrize(("code", "status", "error", "advice"), CONNECT_CODES)
def test_exchange_code_maps_connect_codes(
    code: str, status: int, error: type[APIError], advice: str
) -> None:
    with pytest.raises(error) as caught:
        _exchange(_refusal(code, status))

    assert type(caught.value) is error
    assert caught.value.code == code
    assert caught.value.status_code == status
    assert advice in str(caught.value).lower()
    assert "/v1/connect/token" in str(caught.value)
    _assert_no_secrets(str(caught.value))
    _assert_no_secrets(repr(caught.value))


def test_exchange_code_error_never_echoes_code_or_secret() -> None:
    echo = f"Code {CODE} is not valid for client {CLIENT_ID} with secret {SECRET}"

    error = {"code": "INVALID_CODE", "message": echo, "hint": echo}
    body = {"success": False, "error": error}

    with pytest.raises(InvalidCodeError) as caught:
        _exchange(_answer(body, 400))

    _assert_no_secrets(str(caught.value))
    _assert_no_secrets(repr(caught.value))
    _assert_no_secrets(repr(caught.value.details))
    assert caught.value.message == str(caught.value)


def test_exchange_code_success_false_with_200_is_an_error() -> None:
    with pytest.raises(InvalidCodeError):
        _exchange(_refusal("INVALID_CODE", 200))


def test_exchange_code_unknown_failure_is_api_error() -> None:
    with pytest.raises(APIError) as caught:
        _exchange(_answer({"oops": True}, status=500))

    assert caught.value.status_code == 500


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(["not", "an", "object"], "not a JSON object", id="list"),
        pytest.param({"success": True}, "no 'api_key'", id="no-key"),
        pytest.param(
            {**GRANTED, "portal": {"name": "Acme"}},
            "no 'portal.domain'",
            id="no-domain",
        ),
    ],
)
def test_exchange_code_malformed_success_is_explained(body: Any, reason: str) -> None:
    with pytest.raises(APIError) as caught:
        _exchange(_answer(body))

    assert reason in str(caught.value)
    assert "base URL" in str(caught.value)
    _assert_no_secrets(str(caught.value))


def test_exchange_code_non_json_success_is_explained() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>Welcome</html>")

    with pytest.raises(APIError, match="not a JSON object"):
        _exchange(handler)


@pytest.mark.parametrize(
    ("failure", "phrase"),
    [
        pytest.param(httpx.ConnectError("refused"), "could not be reached", id="down"),
        pytest.param(httpx.ReadTimeout("slow"), "did not answer in time", id="timeout"),
        pytest.param(
            httpx.RemoteProtocolError("dropped"), "could not be reached", id="dropped"
        ),
    ],
)
def test_exchange_code_network_failure_is_transport_error(
    failure: Exception, phrase: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    with pytest.raises(TransportError) as caught:
        _exchange(handler)

    message = str(caught.value)
    assert phrase in message
    assert BASE in message
    assert "10 minutes" in message
    _assert_no_secrets(message)
    _assert_no_secrets(repr(caught.value))


@pytest.mark.parametrize(
    ("missing", "env"),
    [
        pytest.param("client_id", "VIBE_CLIENT_ID", id="client-id"),
        pytest.param("client_secret", "VIBE_CLIENT_SECRET", id="client-secret"),
        pytest.param("redirect_uri", "VIBE_REDIRECT_URI", id="redirect-uri"),
    ],
)
def test_exchange_code_checks_settings_before_any_request(
    missing: str, env: str
) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json=GRANTED)

    with pytest.raises(ConfigurationError, match=env):
        _exchange(handler, **{missing: ""})

    assert calls == []


def test_exchange_code_rejects_empty_code() -> None:
    with pytest.raises(ConfigurationError, match="parse_callback"):
        exchange_code(
            " ",
            client_id=CLIENT_ID,
            client_secret=SECRET,
            redirect_uri=REDIRECT,
            base_url=BASE,
            transport=httpx.MockTransport(_answer(GRANTED)),
        )


def test_exchange_code_logs_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="vibe_notebook")

    _exchange(_answer({**GRANTED, "scopes": ["crm"]}), requested_scopes=["crm", "task"])

    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any(m.startswith("POST /v1/connect/token -> 200 (") for m in infos)
    assert any("granted scopes: crm" in m and "not granted: task" in m for m in infos)
    _assert_no_secrets(caplog.text)


def test_exchange_code_logs_refusal_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="vibe_notebook")

    with pytest.raises(InvalidCodeError):
        _exchange(_refusal("INVALID_CODE", 400))

    lines = [r.getMessage() for r in caplog.records]
    assert len([m for m in lines if m.startswith("POST /v1/connect/token -> 400")]) == 1
    _assert_no_secrets(caplog.text)


def test_aexchange_code_returns_connection() -> None:
    transport = httpx.MockTransport(_answer(GRANTED))

    conn = asyncio.run(
        aexchange_code(
            CODE,
            client_id=CLIENT_ID,
            client_secret=SECRET,
            redirect_uri=REDIRECT,
            base_url=BASE,
            requested_scopes=("crm", "task", "disk"),
            transport=transport,
        )
    )

    assert conn.api_key == KEY
    assert conn.missing_scopes == ("disk",)


def test_aexchange_code_maps_errors_and_timeouts() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow")

    async def both() -> list[type[BaseException]]:
        raised = []
        for handler in (_refusal("KEY_LIMIT_REACHED", 429), timeout):
            try:
                await aexchange_code(
                    CODE,
                    client_id=CLIENT_ID,
                    client_secret=SECRET,
                    redirect_uri=REDIRECT,
                    base_url=BASE,
                    transport=httpx.MockTransport(handler),
                )
            except Exception as exc:
                raised.append(type(exc))
        return raised

    assert asyncio.run(both()) == [KeyLimitReachedError, TransportError]


def test_exchange_code_body_is_json_with_flat_shape() -> None:
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(200, content=json.dumps(GRANTED).encode())

    conn = _exchange(handler)

    assert b"code=" in seen[0]
    assert conn.portal_name == "Acme Ltd"
    assert conn.user_email == "anna@acme.example"
