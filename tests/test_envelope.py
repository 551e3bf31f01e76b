"""Envelope unwrapping, the status and code tables, and message scrubbing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from vibe_notebook import errors
from vibe_notebook._envelope import (
    CODE_CLASSES,
    error_from_body,
    error_from_response,
    rows_of,
    scrub,
    unwrap,
)


def _error(status: int, code: str | None = None, message: str = "m", **extra: Any):
    body: dict[str, Any] = {"success": False, "error": {"message": message, **extra}}
    if code is not None:
        body["error"]["code"] = code
    return error_from_response(httpx.Response(status, json=body), "GET /v1/deals")


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.InvalidRequestError),
        (401, errors.AuthenticationError),
        (402, errors.PermissionDeniedError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (405, errors.InvalidRequestError),
        (409, errors.InvalidRequestError),
        (418, errors.InvalidRequestError),
        (422, errors.InvalidRequestError),
        (429, errors.RateLimitError),
        (500, errors.ServerError),
        (502, errors.ServerError),
        (503, errors.ServerError),
        (504, errors.ServerError),
        (302, errors.APIError),
    ],
    ids=lambda v: str(v) if isinstance(v, int) else v.__name__,
)
def test_error_status_maps_to_class(status: int, cls: type) -> None:
    error = _error(status, code="SOMETHING_NEW")

    assert type(error) is cls
    assert error.status_code == status
    assert error.code == "SOMETHING_NEW"
    assert error.hint


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        ("INVALID_CLIENT", 400, errors.InvalidClientError),
        ("INVALID_REDIRECT_URI", 400, errors.InvalidRedirectUriError),
        ("INVALID_SCOPE", 400, errors.InvalidScopeError),
        ("INVALID_CODE", 400, errors.InvalidCodeError),
        ("PARTNER_DISABLED", 403, errors.PartnerDisabledError),
        ("KEY_LIMIT_REACHED", 429, errors.KeyLimitReachedError),
        ("MISSING_API_KEY", 401, errors.AuthenticationError),
        ("INVALID_API_KEY", 401, errors.AuthenticationError),
        ("INVALID_APP_KEY", 401, errors.AuthenticationError),
        ("TOKEN_EXPIRED", 401, errors.AuthenticationError),
        ("TOKEN_MISSING", 401, errors.AuthenticationError),
        ("KEY_EXPIRED", 401, errors.AuthenticationError),
        ("MANAGEMENT_SCOPE_REQUIRED", 403, errors.PermissionDeniedError),
        ("MANAGEMENT_KEY_NO_ENTITY_ACCESS", 403, errors.PermissionDeniedError),
        ("BITRIX_ACCESS_DENIED", 403, errors.PermissionDeniedError),
        ("SCOPE_DENIED", 403, errors.PermissionDeniedError),
        ("WRITE_BLOCKED_READONLY_KEY", 403, errors.PermissionDeniedError),
        ("BILLING_EXHAUSTED", 402, errors.PermissionDeniedError),
        ("ENTITY_NOT_FOUND", 404, errors.NotFoundError),
        ("INVALID_PARAMS", 400, errors.InvalidRequestError),
        ("INVALID_FILTER_OPERATOR", 400, errors.InvalidRequestError),
        ("BITRIX_ERROR", 422, errors.InvalidRequestError),
        ("BATCH_TOO_LARGE", 400, errors.InvalidRequestError),
        ("RATE_LIMITED", 429, errors.RateLimitError),
        ("QUEUE_OVERFLOW", 429, errors.RateLimitError),
        ("OPERATION_TIME_LIMIT", 429, errors.RateLimitError),
        ("QUEUE_TIMEOUT", 504, errors.ServerError),
        ("BITRIX_UNAVAILABLE", 502, errors.ServerError),
        ("BITRIX_TIMEOUT", 504, errors.ServerError),
        ("INTERNAL_ERROR", 500, errors.ServerError),
        ("OVERLOAD_LIMIT", 503, errors.ServerError),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_error_code_maps_to_class(code: str, status: int, cls: type) -> None:
    error = _error(status, code=code)

    assert type(error) is cls
    assert error.code == code
    assert error.hint and error.hint in str(error)


@pytest.mark.parametrize("code", sorted(CODE_CLASSES), ids=str)
def test_error_code_wins_over_status(code: str) -> None:
    error = _error(418, code=code)

    assert type(error) is CODE_CLASSES[code][0]
    assert error.hint == CODE_CLASSES[code][1]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("INVALID_CODE", ("10 minutes", "already used", "Authorize again")),
        ("KEY_LIMIT_REACHED", ("Revoke an old key", "Vibe dashboard")),
        ("PARTNER_DISABLED", ("Contact the platform", "partner")),
        ("INVALID_CLIENT", ("client secret",)),
        ("INVALID_REDIRECT_URI", ("registered",)),
        ("INVALID_SCOPE", ("SCOPES",)),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_error_connect_hints_say_what_to_do(code: str, words: tuple[str, ...]) -> None:
    error = error_from_response(
        httpx.Response(400, json={"success": False, "error": {"code": code}}),
        "POST /v1/connect/token",
    )

    assert isinstance(error, errors.ConnectError)
    for word in words:
        assert word in str(error)
    assert str(error).startswith("POST /v1/connect/token failed with HTTP 400")


def test_error_message_names_attempt_code_and_platform_message() -> None:
    error = _error(404, code="ENTITY_NOT_FOUND", message="Item not found")

    assert str(error).startswith(
        "GET /v1/deals failed with HTTP 404 ENTITY_NOT_FOUND: Item not found."
    )


def test_error_retry_after_from_header_wins() -> None:
    response = httpx.Response(
        429,
        headers={"Retry-After": "3", "X-Request-Id": "req-42"},
        json={"success": False, "error": {"code": "RATE_LIMITED", "retryAfter": 2}},
    )

    error = error_from_response(response, "GET /v1/deals")

    assert error.retry_after == 3.0
    assert error.request_id == "req-42"
    assert "req-42" in str(error)


def test_error_retry_after_from_body_and_http_date() -> None:
    from_body = _error(504, code="QUEUE_TIMEOUT", retryAfter=5)
    dated = error_from_response(
        httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        "GET /v1/deals",
    )

    assert from_body.retry_after == 5.0
    assert dated.retry_after == 0.0


def test_error_details_keep_platform_extras() -> None:
    error = _error(
        403,
        code="SCOPE_DENIED",
        details={"requiredScope": "task"},
        hint="Add the task scope",
        userMessage="Нет доступа",
    )

    assert error.details["requiredScope"] == "task"
    assert error.details["hint"] == "Add the task scope"
    assert error.details["userMessage"] == "Нет доступа"
    assert "Platform hint: Add the task scope." in str(error)


@pytest.mark.parametrize(
    ("response", "cls", "code"),
    [
        (
            httpx.Response(502, text="<html><b>Bad gateway</b></html>"),
            "ServerError",
            None,
        ),
        (httpx.Response(500), "ServerError", None),
        (
            httpx.Response(
                401, json={"error": "expired_token", "error_description": "x"}
            ),
            "AuthenticationError",
            "EXPIRED_TOKEN",
        ),
        (
            httpx.Response(400, json={"error": "invalid_client"}),
            "InvalidClientError",
            "INVALID_CLIENT",
        ),
        (
            httpx.Response(403, json={"success": False, "error": {}}),
            "PermissionDeniedError",
            None,
        ),
        (
            httpx.Response(400, json=["not", "an", "object"]),
            "InvalidRequestError",
            None,
        ),
    ],
    ids=["html", "empty", "bitrix-style", "oauth-style", "no-code", "json-list"],
)
def test_error_survives_odd_bodies(
    response: httpx.Response, cls: str, code: str | None
) -> None:
    error = error_from_response(response, "GET /v1/deals")

    assert type(error).__name__ == cls
    assert error.code == code
    assert "<" not in str(error)
    assert str(error).startswith("GET /v1/deals failed")


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("key vibe_api_AbC123xyz_987 rejected", "AbC123xyz"),
        ("app vibe_app_zz99-Q was used", "zz99"),
        ("mgmt vibe_live_LIVE0001 here", "LIVE0001"),
        ("session vibe_session_s3ss10n.tok", "s3ss10n"),
        ("exchange code=ab12cd34&state=x failed", "ab12cd34"),
        ("client_secret=topsecret&code=1", "topsecret"),
        ('{"client_secret": "hush"}', "hush"),
        ("api_key: vibe_api_q9 and api_key=plain123", "plain123"),
        ("access_token=tok777", "tok777"),
    ],
    ids=[
        "api",
        "app",
        "live",
        "session",
        "code",
        "secret",
        "json-secret",
        "api_key",
        "token",
    ],
)
def test_scrub_removes_secrets(text: str, leaked: str) -> None:
    cleaned = scrub(text)

    assert leaked not in cleaned
    assert "***" in cleaned


def test_scrub_truncates_long_bodies() -> None:
    cleaned = scrub("x" * 5000)

    assert len(cleaned) == 300
    assert cleaned.endswith("…")


def test_error_message_never_carries_key_or_code() -> None:
    response = httpx.Response(
        400,
        json={
            "success": False,
            "error": {
                "code": "INVALID_CODE",
                "message": "code=Zq9Zq9 for vibe_api_SECRETKEY123 client_secret=s3",
                "hint": "retry with vibe_api_SECRETKEY123",
            },
        },
    )

    error = error_from_response(response, "POST /v1/connect/token")

    for secret in ("Zq9Zq9", "SECRETKEY123", "s3 "):
        assert secret not in str(error)
        assert secret not in repr(error)
    assert "SECRETKEY123" not in str(error.details)


@pytest.mark.parametrize(
    ("body", "data", "meta"),
    [
        (
            {
                "success": True,
                "data": [{"id": 1}],
                "meta": {"total": 0, "hasMore": True},
            },
            [{"id": 1}],
            {"total": 0, "hasMore": True},
        ),
        (
            {"success": True, "data": {"id": 7}, "meta": {"total": 0}},
            {"id": 7},
            {"total": 0},
        ),
        ({"success": True, "data": [], "meta": None}, [], {}),
        ({"success": True, "data": [{"id": 1}]}, [{"id": 1}], {}),
        ({"success": True, "data": None}, None, {}),
        (
            {"success": True, "data": {"count": 3, "meta": {"truncated": False}}},
            {"count": 3, "meta": {"truncated": False}},
            {},
        ),
        (
            {"success": True, "api_key": "k", "portal": {"domain": "d"}},
            {"api_key": "k", "portal": {"domain": "d"}},
            {},
        ),
        ({"choices": [1]}, {"choices": [1]}, {}),
        ([1, 2], [1, 2], {}),
        ({"success": True, "data": [], "meta": "junk"}, [], {}),
    ],
    ids=[
        "list-total-0-hasMore-lies",
        "single-object",
        "meta-null",
        "meta-missing",
        "data-null",
        "aggregate-meta-inside",
        "flat-connect-token",
        "no-envelope",
        "bare-list",
        "meta-not-dict",
    ],
)
def test_unwrap_survives_quirks(body: Any, data: Any, meta: dict[str, Any]) -> None:
    assert unwrap(body) == (data, meta)


@pytest.mark.parametrize(
    "body",
    [
        {"success": False, "error": {"code": "ENTITY_NOT_FOUND", "message": "gone"}},
        {"error": {"code": "RATE_LIMITED"}},
    ],
    ids=["success-false", "error-only"],
)
def test_unwrap_raises_on_error_envelope(body: dict[str, Any]) -> None:
    with pytest.raises(errors.APIError) as caught:
        unwrap(body)

    assert caught.value.code == body["error"]["code"]


@pytest.mark.parametrize(
    ("data", "rows"),
    [
        (None, []),
        ([], []),
        ([{"id": 1}, {"id": 2}], [{"id": 1}, {"id": 2}]),
        ({"id": 5}, [{"id": 5}]),
        ({"items": [{"id": 3}]}, [{"id": 3}]),
    ],
    ids=["null", "empty", "list", "single-object", "items-wrapper"],
)
def test_rows_of_normalises_list_shapes(data: Any, rows: list[dict[str, Any]]) -> None:
    assert rows_of(data) == rows


def test_error_from_body_without_status() -> None:
    error = error_from_body({"error": {"code": "INVALID_PARAMS"}}, attempted="GET /x")

    assert isinstance(error, errors.InvalidRequestError)
    assert error.status_code is None
    assert str(error).startswith("GET /x failed INVALID_PARAMS.")
