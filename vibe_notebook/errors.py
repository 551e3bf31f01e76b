"""Errors raised by vibe_notebook, one shallow tree under ``VibeError``.

::

    VibeError
    ├── ConfigurationError       a setting or argument is missing or wrong
    │   └── NotConnectedError    a module-level getter ran before vn.connect()
    ├── CallbackError            the pasted callback address cannot be used
    │   ├── ConsentDeniedError   the user pressed Deny on the consent page
    │   └── StateMismatchError   the address belongs to another Authorize link
    ├── TransportError           no answer: network drop, refused, timed out
    ├── PullInterrupted          a pull stopped early; carries rows so far
    └── APIError                 the platform answered with an error
        ├── ConnectError         Partner Connect: /v1/connect/token
        │   ├── InvalidClientError, InvalidRedirectUriError,
        │   │   InvalidScopeError, InvalidCodeError,
        │   └── PartnerDisabledError, KeyLimitReachedError
        ├── AuthenticationError  401: missing, unknown or expired key
        ├── PermissionDeniedError  403: scope, read-only key, plan
        ├── NotFoundError        404: no such record or endpoint
        ├── InvalidRequestError  400 / 422: bad filter, field or body
        ├── RateLimitError       429: over the key's or portal's budget
        └── ServerError          5xx: the platform or the portal failed

Every ``APIError`` carries ``code`` (the platform's code, for example
``INVALID_CODE``), ``status_code``, ``hint``, ``retry_after`` and
``request_id`` where the platform gave them. Messages say what was attempted,
what failed and what to do next; they never contain a key, secret or code.

Soft problems are warnings: ``VibeWarning`` and its subclasses.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "CallbackError",
    "ConfigurationError",
    "ConnectError",
    "ConsentDeniedError",
    "InvalidClientError",
    "InvalidCodeError",
    "InvalidRedirectUriError",
    "InvalidRequestError",
    "InvalidScopeError",
    "KeyLimitReachedError",
    "NotConnectedError",
    "NotFoundError",
    "PartnerDisabledError",
    "PermissionDeniedError",
    "PullInterrupted",
    "RateLimitError",
    "ScopesNotGrantedWarning",
    "ServerError",
    "StateMismatchError",
    "TransportError",
    "VibeError",
    "VibeWarning",
]


class VibeError(Exception):
    """Base class of every error vibe_notebook raises on purpose."""


class ConfigurationError(VibeError, ValueError):
    """A setting or argument is missing or wrong; nothing was sent."""


class NotConnectedError(ConfigurationError):
    """A module-level getter was called before a portal was connected."""


class CallbackError(VibeError, ValueError):
    """The pasted callback address cannot be turned into a code."""


class ConsentDeniedError(CallbackError):
    """The consent page answered ``error=...`` instead of a code."""


class StateMismatchError(CallbackError):
    """The ``state`` in the pasted address is not the one we sent."""


class TransportError(VibeError):
    """The platform could not be reached or did not answer in time."""


class PullInterrupted(VibeError):
    """A pull stopped before it finished.

    ``rows`` holds the records that had arrived, so nothing is lost.
    """

    def __init__(self, message: str, rows: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.rows = rows or []


class APIError(VibeError):
    """The platform answered with ``{"success": false, "error": {...}}``."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        hint: str | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code
        self.hint = hint
        self.retry_after = retry_after
        self.request_id = request_id
        self.details = details or {}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, "
            f"status_code={self.status_code!r}, message={self.message!r})"
        )


class ConnectError(APIError):
    """The Partner Connect token exchange was refused."""


class InvalidClientError(ConnectError):
    """INVALID_CLIENT: the partner id or secret is wrong."""


class InvalidRedirectUriError(ConnectError):
    """INVALID_REDIRECT_URI: the redirect URI is not registered."""


class InvalidScopeError(ConnectError):
    """INVALID_SCOPE: a requested scope does not exist."""


class InvalidCodeError(ConnectError):
    """INVALID_CODE: the code expired (10 minutes) or was used already."""


class PartnerDisabledError(ConnectError):
    """PARTNER_DISABLED: the partner account is switched off."""


class KeyLimitReachedError(ConnectError):
    """KEY_LIMIT_REACHED: the user holds the most keys allowed."""


class AuthenticationError(APIError):
    """401: the API key is missing, unknown, deleted or expired."""


class PermissionDeniedError(APIError):
    """403: the key may not do this (scope, read-only, plan)."""


class NotFoundError(APIError):
    """404: no such record or endpoint."""


class InvalidRequestError(APIError):
    """400 or 422: the request itself is wrong (filter, field, body)."""


class RateLimitError(APIError):
    """429: the key's or the portal's request budget is spent."""


class ServerError(APIError):
    """5xx: the platform or the portal behind it failed."""


class VibeWarning(UserWarning):
    """Base class of vibe_notebook's warnings."""


class ScopesNotGrantedWarning(VibeWarning):
    """Some requested scopes were unticked on the consent page."""
