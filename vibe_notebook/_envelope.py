"""The platform's response envelope: unwrap answers, turn errors into classes."""

from __future__ import annotations

import email.utils
import json
import re
import time
from typing import Any

import httpx

from .errors import (
    APIError,
    AuthenticationError,
    InvalidClientError,
    InvalidCodeError,
    InvalidRedirectUriError,
    InvalidRequestError,
    InvalidScopeError,
    KeyLimitReachedError,
    NotFoundError,
    PartnerDisabledError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

__all__ = [
    "CODE_CLASSES",
    "STATUS_CLASSES",
    "error_from_body",
    "error_from_response",
    "rows_of",
    "scrub",
    "unwrap",
]

_MAX_TEXT = 300

_RETRY_LATER = "It is usually temporary: wait a little and run the cell again."
_NEW_KEY = (
    "Connect again with vn.connect() (or set VIBE_API_KEY to a working key) "
    "and run the cell again."
)
_FIX_REQUEST = "Fix the request (filter, field names or body) and try again."
_ASK_ADMIN = "Ask the portal administrator, or use a key that is allowed to."

STATUS_CLASSES: dict[int, type[APIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: PermissionDeniedError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: InvalidRequestError,
    409: InvalidRequestError,
    422: InvalidRequestError,
    429: RateLimitError,
}
"""HTTP status to error class, used when the platform's code is unknown."""

_STATUS_HINTS: dict[type[APIError], str] = {
    InvalidRequestError: _FIX_REQUEST,
    AuthenticationError: "The API key was refused. " + _NEW_KEY,
    PermissionDeniedError: "The key may not do this. " + _ASK_ADMIN,
    NotFoundError: "Check the path and the id; the record may have been deleted.",
    RateLimitError: "Too many requests. Wait a few seconds and try again.",
    ServerError: _RETRY_LATER,
    APIError: "Try again; if it keeps failing, note the request id and report it.",
}

# Platform code -> (class, what to do next).  Codes and statuses follow
# vibe-api.md section 7; Partner Connect codes come from the Connect docs.
CODE_CLASSES: dict[str, tuple[type[APIError], str]] = {
    # Partner Connect: POST /v1/connect/token
    "INVALID_CLIENT": (
        InvalidClientError,
        "The partner client id or client secret is wrong. Copy both again from "
        "the partner settings (or VIBE_CLIENT_ID / VIBE_CLIENT_SECRET).",
    ),
    "INVALID_REDIRECT_URI": (
        InvalidRedirectUriError,
        "The redirect URI must match the one registered for the partner, "
        "character for character. Use the registered URI for both the "
        "Authorize link and the exchange.",
    ),
    "INVALID_SCOPE": (
        InvalidScopeError,
        "A requested scope does not exist or is not allowed for this partner. "
        "Choose scopes from vibe_notebook.SCOPES and click Authorize again.",
    ),
    "INVALID_CODE": (
        InvalidCodeError,
        "The code expired after 10 minutes or was already used. Click "
        "Authorize again and paste the new address promptly.",
    ),
    "PARTNER_DISABLED": (
        PartnerDisabledError,
        "The partner account is switched off. Contact the platform or the "
        "partner that gave you the client id.",
    ),
    "KEY_LIMIT_REACHED": (
        KeyLimitReachedError,
        "Too many keys exist for this portal. Revoke an old key for that "
        "portal in the Vibe dashboard (API Keys), then authorize again.",
    ),
    # authentication
    "MISSING_API_KEY": (
        AuthenticationError,
        "No API key was sent. Pass api_key=..., set VIBE_API_KEY, or run vn.connect().",
    ),
    "INVALID_API_KEY": (
        AuthenticationError,
        "The key is unknown, malformed or deleted. " + _NEW_KEY,
    ),
    "INVALID_APP_KEY": (
        AuthenticationError,
        "A vibe_app_ key needs a session token as well; use a vibe_api_ key "
        "from vn.connect() instead.",
    ),
    "TOKEN_EXPIRED": (AuthenticationError, "The token expired. " + _NEW_KEY),
    "TOKEN_MISSING": (
        AuthenticationError,
        "A vibe_app_ key was sent without its session token; use a vibe_api_ "
        "key from vn.connect() instead.",
    ),
    "INVALID_SESSION": (AuthenticationError, "The session is not valid. " + _NEW_KEY),
    "SESSION_APP_MISMATCH": (
        AuthenticationError,
        "The session belongs to another app. " + _NEW_KEY,
    ),
    "KEY_EXPIRED": (AuthenticationError, "The API key expired. " + _NEW_KEY),
    "KEY_INACTIVE": (
        AuthenticationError,
        "The API key is switched off. Turn it on in the Vibe dashboard or "
        + _NEW_KEY[0].lower()
        + _NEW_KEY[1:],
    ),
    "WRONG_KEY": (AuthenticationError, "This key does not fit here. " + _NEW_KEY),
    # permissions, plans and billing
    "MANAGEMENT_SCOPE_REQUIRED": (
        PermissionDeniedError,
        "The management key lacks the vibe:mgmt scope for this call.",
    ),
    "MANAGEMENT_KEY_NO_ENTITY_ACCESS": (
        PermissionDeniedError,
        "A vibe_live_ management key cannot read portal data. Use a vibe_api_ "
        "key from vn.connect().",
    ),
    "BITRIX_ACCESS_DENIED": (
        PermissionDeniedError,
        "Bitrix24 refused. The key's scopes are fixed when it is issued: "
        "connect again with the needed scope ticked.",
    ),
    "SCOPE_DENIED": (
        PermissionDeniedError,
        "The key lacks the scope for this data. Connect again with that scope "
        "ticked (see details['requiredScope']).",
    ),
    "OAUTH_REQUIRED": (
        PermissionDeniedError,
        "This endpoint needs an app key with a user session; a personal key "
        "cannot call it.",
    ),
    "WRITE_BLOCKED_READONLY_KEY": (
        PermissionDeniedError,
        "The key is read-only. Switch it to read-write in the Vibe dashboard "
        "or use another key.",
    ),
    "KEY_POLICY_READONLY_REQUIRED": (
        PermissionDeniedError,
        "The portal only allows read-only keys; writes are not possible.",
    ),
    "INFRA_SCOPE_REQUIRED": (
        PermissionDeniedError,
        "The key lacks the vibe:infra scope. " + _ASK_ADMIN,
    ),
    "B24_TARIFF_RESTRICTION": (
        PermissionDeniedError,
        "The portal's Bitrix24 plan does not allow this. " + _ASK_ADMIN,
    ),
    "BILLING_EXHAUSTED": (
        PermissionDeniedError,
        "The Vibe credit budget is spent. Top it up in the Vibe dashboard.",
    ),
    "TRIAL_EXPIRED": (
        PermissionDeniedError,
        "The trial ended. Choose a plan in the Vibe dashboard.",
    ),
    "COMMERCIAL_PLAN_REQUIRED": (
        PermissionDeniedError,
        "This needs a commercial Bitrix24 plan. " + _ASK_ADMIN,
    ),
    "PLAN_NOT_ALLOWED_ON_TRIAL": (
        PermissionDeniedError,
        "This is not available on a trial plan. " + _ASK_ADMIN,
    ),
    "KEY_CREATION_RESTRICTED": (
        PermissionDeniedError,
        "Creating keys is restricted on this portal. " + _ASK_ADMIN,
    ),
    "APP_CREATION_RESTRICTED": (
        PermissionDeniedError,
        "Creating apps is restricted on this portal. " + _ASK_ADMIN,
    ),
    "CONNECTOR_KEY_ISSUE_FORBIDDEN": (
        PermissionDeniedError,
        "The portal forbids issuing keys to connectors. " + _ASK_ADMIN,
    ),
    "CONNECTOR_APP_INSTALL_FORBIDDEN": (
        PermissionDeniedError,
        "The portal forbids installing connector apps. " + _ASK_ADMIN,
    ),
    # not found
    "ENTITY_NOT_FOUND": (
        NotFoundError,
        "Check the id; the record may have been deleted or the key may not see it.",
    ),
    # the request itself
    "INVALID_PARAMS": (InvalidRequestError, _FIX_REQUEST),
    "VALIDATION_ERROR": (InvalidRequestError, _FIX_REQUEST),
    "INVALID_FILTER_OPERATOR": (
        InvalidRequestError,
        "Use one of $gt $gte $lt $lte $ne $contains $in $nin in the filter.",
    ),
    "INVALID_AGGREGATION_OP": (
        InvalidRequestError,
        "Use count, sum, avg, min or max as the aggregation.",
    ),
    "AGGREGATION_LIMIT_EXCEEDED": (
        InvalidRequestError,
        "Narrow the filter (for example a shorter date range) and try again.",
    ),
    "BATCH_LIMIT_EXCEEDED": (
        InvalidRequestError,
        "Send at most 50 calls in one batch.",
    ),
    "BATCH_TOO_LARGE": (InvalidRequestError, "Send at most 50 calls in one batch."),
    "BITRIX_ERROR": (
        InvalidRequestError,
        "Bitrix24 rejected the request; read the message, fix the values and "
        "try again.",
    ),
    "EXEC_BUSY": (InvalidRequestError, "Another command is running. " + _RETRY_LATER),
    "SNAPSHOT_REQUIRED": (InvalidRequestError, "Take a server snapshot first."),
    "BOT_ALREADY_EXISTS": (InvalidRequestError, "Use the existing bot."),
    "NOT_BLACKHOLE": (InvalidRequestError, "This only works on a Vibe server."),
    # rate limits: refused before any work was done
    "RATE_LIMITED": (
        RateLimitError,
        "The key's request budget (about 300 a minute) is spent. Wait the "
        "retry_after seconds and try again.",
    ),
    "QUEUE_OVERFLOW": (
        RateLimitError,
        "The portal's request queue is full. " + _RETRY_LATER,
    ),
    "QUERY_LIMIT_EXCEEDED": (
        RateLimitError,
        "The portal's Bitrix24 request budget is spent. " + _RETRY_LATER,
    ),
    "OPERATION_TIME_LIMIT": (
        RateLimitError,
        "The portal spent its time budget for this method. Wait a minute and "
        "try again, or fetch less at once.",
    ),
    "DEPLOY_BACKEND_BUSY": (RateLimitError, _RETRY_LATER),
    # the platform or the portal failed
    "QUEUE_TIMEOUT": (ServerError, "The portal was slow to answer. " + _RETRY_LATER),
    "BITRIX_UNAVAILABLE": (
        ServerError,
        "The Bitrix24 portal did not answer. " + _RETRY_LATER,
    ),
    "BITRIX_TIMEOUT": (ServerError, "The Bitrix24 portal timed out. " + _RETRY_LATER),
    "TIMEOUT_QUARANTINE": (
        ServerError,
        "The platform paused calls after timeouts. Wait a minute and try again.",
    ),
    "AUTO_PAGINATION_FAILED": (
        ServerError,
        "A page failed inside the platform. Ask for fewer rows at once.",
    ),
    "ERROR_LOOP_DETECTED": (ServerError, _RETRY_LATER),
    "INTERNAL_ERROR": (ServerError, _RETRY_LATER),
    "OVERLOAD_LIMIT": (
        ServerError,
        "Bitrix24 blocked REST calls for the whole portal. Contact the portal "
        "administrator or Bitrix24 support; retrying will not help.",
    ),
    "SERVER_NOT_READY": (ServerError, _RETRY_LATER),
    "AGENT_NOT_CONNECTED": (ServerError, _RETRY_LATER),
}
"""Platform code to (error class, what to do next)."""

# key-like tokens and form fields that must never reach a message or a log
_SECRET_PATTERNS = (
    re.compile(r"vibe_(api|app|live|session)_[A-Za-z0-9_\-.~+/=]*"),
    re.compile(
        r"(?i)\b(client_secret|api_key|apikey|x-api-key|access_token)"
        r"(\"?\s*[=:]\s*\"?)[^&\s\"',;]+"
    ),
    re.compile(r"(?i)\b(code)(\s*=\s*)[^&\s\"',;]+"),
)


_TAGS = re.compile(r"<[^>]*>")


def scrub(text: str, *, limit: int = _MAX_TEXT) -> str:
    """Remove anything that looks like a key, secret or code, then truncate."""
    text = _SECRET_PATTERNS[0].sub(lambda m: f"vibe_{m.group(1)}_***", text)
    for pattern in _SECRET_PATTERNS[1:]:
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def unwrap(body: Any) -> tuple[Any, dict[str, Any]]:
    """Return ``(data, meta)`` from a decoded response body.

    Survives the quirks in vibe-api.md §3.1: ``meta`` missing or null,
    ``data`` as a single object where a list was expected (left as is: see
    :func:`rows_of`), flat answers with no ``data`` key (the Connect token
    exchange) and raw bodies with no envelope at all (returned whole).

    Raises
    ------
    APIError
        When the body is an error envelope (``success`` false).
    """
    if not isinstance(body, dict):
        return body, {}

    if body.get("success") is False or _is_error_body(body):
        raise error_from_body(body, attempted="the request")

    if "data" in body and "success" in body:
        meta = body.get("meta")
        return body["data"], meta if isinstance(meta, dict) else {}

    if "success" in body:
        flat = {k: v for k, v in body.items() if k not in ("success", "meta")}
        meta = body.get("meta")
        return flat, meta if isinstance(meta, dict) else {}

    return body, {}


def rows_of(data: Any) -> list[dict[str, Any]]:
    """Return list data as a list of records.

    Some list endpoints answer a single object when exactly one row matches
    (vibe-api.md §3.1), and an empty answer may come back as ``null``.
    """
    if data is None:
        return []
    if isinstance(data, dict):
        items = data.get("items")
        if len(data) == 1 and isinstance(items, list):
            return list(items)
        return [data]
    return list(data)


def error_from_response(response: httpx.Response, attempted: str) -> APIError:
    """Build the error for a failed response.

    Parameters
    ----------
    response
        The platform's answer (any status; the body may be JSON or not).
    attempted
        What was tried, such as ``"GET /v1/deals"``; it opens the message.

    Returns
    -------
    APIError
        The subclass for the platform's code, else for the HTTP status, with
        ``code``, ``status_code``, ``hint``, ``retry_after``, ``request_id``
        and ``details`` filled where the platform gave them.
    """
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        body = response.text
    return error_from_body(
        body,
        attempted=attempted,
        status_code=response.status_code,
        headers=response.headers,
    )


def error_from_body(
    body: Any,
    *,
    attempted: str,
    status_code: int | None = None,
    headers: httpx.Headers | None = None,
) -> APIError:
    """Build the error for a decoded error body (see error_from_response)."""
    headers = headers if headers is not None else httpx.Headers()
    code, message, extra = _error_fields(body)
    cls, hint = _classify(code, status_code)
    platform_hint = extra.get("hint")
    details: dict[str, Any] = dict(extra.get("details") or {})
    for key in ("hint", "userMessage", "warning"):
        if isinstance(extra.get(key), str):
            details[key] = scrub(extra[key])
    retry_after = _retry_after(headers, extra)
    request_id = headers.get("x-request-id") or _str_or_none(extra.get("requestId"))

    text = _message(attempted, status_code, code, message, hint, platform_hint)
    if request_id:
        text += f" (request id {request_id})"
    return cls(
        text,
        code=code,
        status_code=status_code,
        hint=hint,
        retry_after=retry_after,
        request_id=request_id,
        details=details,
    )


def _is_error_body(body: dict[str, Any]) -> bool:
    return "success" not in body and "error" in body and "data" not in body


def _error_fields(body: Any) -> tuple[str | None, str, dict[str, Any]]:
    """Return (code, message, the rest of the error object)."""
    if isinstance(body, str):
        return None, _TAGS.sub(" ", body), {}
    if not isinstance(body, dict):
        return None, "" if body is None else json.dumps(body)[:_MAX_TEXT], {}

    error = body.get("error")
    if isinstance(error, dict):
        code = _str_or_none(error.get("code"))
        return code, str(error.get("message") or ""), error
    if isinstance(error, str):
        # Bitrix/OAuth style: {"error": "CODE", "error_description": "..."}
        description = str(body.get("error_description") or "")
        return error.upper(), description, body
    return None, str(body.get("message") or ""), body


def _classify(code: str | None, status: int | None) -> tuple[type[APIError], str]:
    if code and code in CODE_CLASSES:
        return CODE_CLASSES[code]
    cls = STATUS_CLASSES.get(status or 0)
    if cls is None:
        cls = ServerError if status and status >= 500 else APIError
    if cls is APIError and status is not None and 400 <= status < 500:
        cls = InvalidRequestError
    return cls, _STATUS_HINTS[cls]


def _message(
    attempted: str,
    status: int | None,
    code: str | None,
    message: str,
    hint: str,
    platform_hint: Any,
) -> str:
    head = f"{attempted} failed"
    if status is not None:
        head += f" with HTTP {status}"
    if code:
        head += f" {code}"
    said = scrub(message)
    parts = [f"{head}: {_sentence(said)}" if said else f"{head}."]
    if isinstance(platform_hint, str) and platform_hint.strip():
        parts.append(f"Platform hint: {_sentence(scrub(platform_hint))}")
    parts.append(hint)
    return " ".join(parts)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _retry_after(headers: httpx.Headers, extra: dict[str, Any]) -> float | None:
    for value in (
        headers.get("retry-after"),
        extra.get("retryAfter"),
        extra.get("retryAfterSeconds"),
    ):
        seconds = _seconds(value)
        if seconds is not None:
            return seconds
    return None


def _seconds(value: Any) -> float | None:
    """Parse a Retry-After value: seconds, or an HTTP date."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    try:
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _str_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
