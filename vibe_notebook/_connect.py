"""The Partner Connect flow: Authorize link, pasted callback, code exchange."""

from __future__ import annotations

import difflib
import logging
import secrets
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from ._callback import parse_callback, shorten
from ._credentials import mask_key
from ._envelope import error_from_response
from ._scopes import DEFAULT_SCOPES, SCOPES
from ._settings import resolve_base_url
from .errors import (
    APIError,
    ConfigurationError,
    ScopesNotGrantedWarning,
    TransportError,
)

__all__ = [
    "AUTHORIZE_PATH",
    "TOKEN_PATH",
    "Connection",
    "aexchange_code",
    "authorize_url",
    "exchange_code",
    "normalize_scopes",
    "parse_callback",
    "warn_missing_scopes",
]

logger = logging.getLogger(__name__)

AUTHORIZE_PATH = "/v1/connect/authorize"
TOKEN_PATH = "/v1/connect/token"

_MIN_BLANKED = 6
_ATTEMPTED = f"Exchanging the authorization code for an API key (POST {TOKEN_PATH})"


@dataclass(frozen=True)
class Connection:
    """A portal connected through Partner Connect: its key and what it may do.

    ``repr`` and ``str`` show the key masked (``vibe_api_ab…f9d2``); the full
    key is in ``api_key`` for the client. ``scopes`` are the granted ones,
    ``requested_scopes`` those the Authorize link asked for.
    """

    api_key: str
    base_url: str
    portal_domain: str
    portal_name: str
    scopes: tuple[str, ...]
    user_name: str = ""
    user_email: str = ""
    requested_scopes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "scopes", tuple(self.scopes))
        object.__setattr__(self, "requested_scopes", tuple(self.requested_scopes))

    @property
    def masked_key(self) -> str:
        """The key with its middle hidden, for display."""
        return mask_key(self.api_key)

    @property
    def missing_scopes(self) -> tuple[str, ...]:
        """Requested scopes that the consent page did not grant."""
        return tuple(s for s in self.requested_scopes if s not in self.scopes)

    def has_scope(self, scope: str) -> bool:
        """True when the key was granted ``scope``."""
        return scope in self.scopes

    def __repr__(self) -> str:
        return (
            f"Connection(portal_domain={self.portal_domain!r}, "
            f"portal_name={self.portal_name!r}, api_key={self.masked_key!r}, "
            f"scopes={self.scopes!r}, user_name={self.user_name!r}, "
            f"user_email={self.user_email!r}, base_url={self.base_url!r})"
        )

    def __str__(self) -> str:
        user = self.user_name or self.user_email or "an unknown user"
        if self.user_name and self.user_email:
            user = f"{self.user_name} <{self.user_email}>"
        portal = f"{self.portal_name} ({self.portal_domain})"
        scopes = ", ".join(self.scopes) or "none"
        return f"{portal} as {user}; key {self.masked_key}; scopes: {scopes}"


def normalize_scopes(scopes: str | Iterable[str]) -> tuple[str, ...]:
    """Return scopes checked against the 17 known ones, de-duplicated, in order.

    Accepts an iterable of names or one comma-separated string (``"crm,task"``).

    Raises
    ------
    ConfigurationError
        When no scope is given or one is unknown; the message lists the valid
        scopes.
    """
    items = scopes.split(",") if isinstance(scopes, str) else list(scopes)
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigurationError(
                f"Scopes must be names such as 'crm', not {type(item).__name__}. "
                f"Valid scopes: {', '.join(SCOPES)}."
            )
        name = item.strip().lower()
        if name and name not in names:
            names.append(name)

    if not names:
        raise ConfigurationError(
            "No scope was chosen. Ask for at least one, for example "
            f"scopes=('crm', 'task'). Valid scopes: {', '.join(SCOPES)}."
        )

    unknown = [n for n in names if n not in SCOPES]
    if unknown:
        raise ConfigurationError(_unknown_scopes_message(unknown))

    return tuple(names)


def authorize_url(
    client_id: str,
    redirect_uri: str,
    scopes: str | Iterable[str] = DEFAULT_SCOPES,
    *,
    base_url: str | None = None,
    state: str | None = None,
) -> tuple[str, str]:
    """Build the Authorize link that opens the platform's consent page.

    Parameters
    ----------
    client_id
        The partner's client id (``VIBE_CLIENT_ID``).
    redirect_uri
        Where the browser goes after consent, exactly as registered for the
        partner (``VIBE_REDIRECT_URI``).
    scopes
        Scope names, or one comma-separated string; see ``vibe_notebook.SCOPES``.
    base_url
        The platform; defaults to ``VIBE_BASE_URL``, then production.
    state
        The one-time value echoed back in the callback; a fresh unguessable one
        is made when None. Keep it and pass it to :func:`parse_callback`.

    Returns
    -------
    tuple of (str, str)
        The link and its state.

    Examples
    --------
    >>> url, state = authorize_url("partner_1", "https://example.com/cb")
    >>> url.split("?")[0]
    'https://vibecode.bitrix24.tech/v1/connect/authorize'
    """
    client_id = _require(client_id, "client_id", "VIBE_CLIENT_ID", "client id")
    redirect_uri = _require(
        redirect_uri, "redirect_uri", "VIBE_REDIRECT_URI", "redirect URI"
    )
    names = normalize_scopes(scopes)
    state = secrets.token_urlsafe(32) if state is None else state
    if not isinstance(state, str) or not state.strip():
        raise ConfigurationError(
            "The state must be a non-empty string; leave state=None to get a fresh one."
        )

    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scopes": ",".join(names),
            "state": state,
        },
        safe=",",
    )
    return f"{resolve_base_url(base_url)}{AUTHORIZE_PATH}?{query}", state


def exchange_code(
    code: str,
    *,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    base_url: str | None = None,
    requested_scopes: str | Iterable[str] | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 30.0,
) -> Connection:
    """Trade the authorization code for a long-lived API key.

    ``POST /v1/connect/token`` with the form fields ``client_id``,
    ``client_secret``, ``code`` and ``redirect_uri``. The code works once and
    for 10 minutes, so the call is never retried.

    Parameters
    ----------
    code
        What :func:`parse_callback` returned.
    client_id, client_secret, redirect_uri
        The partner's credentials; ``redirect_uri`` must equal the one in the
        Authorize link.
    base_url
        The platform; defaults to ``VIBE_BASE_URL``, then production.
    requested_scopes
        The scopes the Authorize link asked for, so that
        ``Connection.missing_scopes`` can name the ones the user unticked.
    transport
        An httpx transport, for tests (``httpx.MockTransport``).
    timeout
        Seconds to wait for the platform.

    Returns
    -------
    Connection
        The key, portal, granted scopes and user.

    Raises
    ------
    ConnectError
        The platform refused: ``InvalidCodeError``, ``InvalidClientError``,
        ``InvalidRedirectUriError``, ``InvalidScopeError``,
        ``PartnerDisabledError`` or ``KeyLimitReachedError``.
    TransportError
        The platform could not be reached or did not answer in time.
    APIError
        Any other refusal, or an answer without a key.
    """
    request = _TokenRequest.build(
        code, client_id, client_secret, redirect_uri, base_url, requested_scopes
    )
    with request.sending(), httpx.Client(transport=transport, timeout=timeout) as http:
        response = http.post(request.url, data=request.form)
    return request.finish(response)


async def aexchange_code(
    code: str,
    *,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    base_url: str | None = None,
    requested_scopes: str | Iterable[str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 30.0,
) -> Connection:
    """Async twin of :func:`exchange_code`, on ``httpx.AsyncClient``."""
    request = _TokenRequest.build(
        code, client_id, client_secret, redirect_uri, base_url, requested_scopes
    )
    with request.sending():
        async with httpx.AsyncClient(transport=transport, timeout=timeout) as http:
            response = await http.post(request.url, data=request.form)
    return request.finish(response)


def warn_missing_scopes(conn: Connection, *, stacklevel: int = 1) -> bool:
    """Warn with ``ScopesNotGrantedWarning`` when requested scopes were unticked.

    Returns True when a warning was issued. ``stacklevel=1`` blames the line
    that called this function; raise it to blame that function's caller, as
    with :func:`warnings.warn`.
    """
    missing = conn.missing_scopes
    if not missing:
        return False

    granted = ", ".join(conn.scopes) or "no scope"
    names = ", ".join(missing)
    warnings.warn(
        ScopesNotGrantedWarning(
            f"The consent page granted {granted} but not {names}: it was "
            f"unticked. Data that needs {names} will be refused with "
            "PermissionDeniedError. To get it, click Authorize again and leave "
            f"{names} ticked."
        ),
        stacklevel=stacklevel + 1,
    )
    return True


@dataclass(repr=False)
class _TokenRequest:
    """A checked token-exchange request; holds the secret, so no repr.

    The sync and async exchanges share it: each only opens its client inside
    :meth:`sending` and posts, then hands the response to :meth:`finish`.
    """

    url: str
    base_url: str
    form: dict[str, str]
    requested: tuple[str, ...]
    started: float = 0.0

    @classmethod
    def build(
        cls,
        code: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        base_url: str | None,
        requested_scopes: str | Iterable[str] | None,
    ) -> _TokenRequest:
        form = {
            "client_id": _require(
                client_id, "client_id", "VIBE_CLIENT_ID", "client id"
            ),
            "client_secret": _require(
                client_secret, "client_secret", "VIBE_CLIENT_SECRET", "client secret"
            ),
            "code": _require_code(code),
            "redirect_uri": _require(
                redirect_uri, "redirect_uri", "VIBE_REDIRECT_URI", "redirect URI"
            ),
        }
        requested = (
            () if requested_scopes is None else normalize_scopes(requested_scopes)
        )
        base = resolve_base_url(base_url)
        return cls(f"{base}{TOKEN_PATH}", base, form, requested)

    def __repr__(self) -> str:
        return f"_TokenRequest(url={self.url!r})"

    @contextmanager
    def sending(self) -> Iterator[None]:
        """Time the post, and turn a network failure into TransportError."""
        self.started = time.perf_counter()
        try:
            yield
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc

    def _transport_error(self, exc: httpx.HTTPError) -> TransportError:
        what = (
            "did not answer in time"
            if isinstance(exc, httpx.TimeoutException)
            else f"could not be reached ({type(exc).__name__})"
        )
        logger.info("POST %s -> %s", TOKEN_PATH, type(exc).__name__)
        return TransportError(
            f"{_ATTEMPTED} failed: the platform at {self.base_url} {what}. Check "
            "the network and the base URL (base_url= or VIBE_BASE_URL), then press "
            "Connect again: the code stays valid for 10 minutes unless the "
            "platform already used it."
        )

    def finish(self, response: httpx.Response) -> Connection:
        elapsed_ms = (time.perf_counter() - self.started) * 1000
        logger.info(
            "POST %s -> %d (%.0f ms)", TOKEN_PATH, response.status_code, elapsed_ms
        )
        body = _json_or_none(response)
        failed = isinstance(body, dict) and body.get("success") is False
        if response.status_code >= 400 or failed:
            raise self._scrubbed(error_from_response(response, _ATTEMPTED))

        conn = _connection_from_body(body, response.status_code, self)
        logger.info(
            "Connected to %s; granted scopes: %s%s",
            conn.portal_domain,
            ",".join(conn.scopes) or "none",
            f"; not granted: {','.join(conn.missing_scopes)}"
            if conn.missing_scopes
            else "",
        )
        return conn

    def _scrubbed(self, error: APIError) -> APIError:
        """Blank out the code and secret should the platform echo them."""
        error.message = self._blank(error.message)
        error.args = (error.message,)
        error.details = {
            k: self._blank(v) if isinstance(v, str) else v
            for k, v in error.details.items()
        }
        return error

    def _blank(self, text: str) -> str:
        for value in (self.form["code"], self.form["client_secret"]):
            # a very short value would blank out unrelated characters
            if len(value) >= _MIN_BLANKED:
                text = text.replace(value, "***")
        return text


def _connection_from_body(
    body: Any, status_code: int, request: _TokenRequest
) -> Connection:
    # The token answer is flat (vibe-api.md §10.1); accept a "data" wrapper too,
    # in case the platform moves it into the usual envelope.
    if (
        isinstance(body, dict)
        and "api_key" not in body
        and isinstance(body.get("data"), dict)
    ):
        body = body["data"]
    if not isinstance(body, dict):
        raise _malformed(status_code, "it is not a JSON object")

    key = body.get("api_key")
    portal = _object(body.get("portal"))
    user = _object(body.get("user"))
    domain = portal.get("domain")
    if not isinstance(key, str) or not key.strip():
        raise _malformed(status_code, "it has no 'api_key'")
    if not isinstance(domain, str) or not domain.strip():
        raise _malformed(status_code, "it has no 'portal.domain'")

    return Connection(
        api_key=key.strip(),
        base_url=request.base_url,
        portal_domain=domain.strip(),
        portal_name=str(portal.get("name") or domain.strip()),
        scopes=_granted_scopes(body.get("scopes")),
        user_name=str(user.get("name") or ""),
        user_email=str(user.get("email") or ""),
        requested_scopes=request.requested,
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _granted_scopes(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return ()

    names = [s.strip() for s in value if isinstance(s, str) and s.strip()]
    return tuple(dict.fromkeys(names))


def _malformed(status_code: int, reason: str) -> APIError:
    return APIError(
        f"{_ATTEMPTED} returned HTTP {status_code}, but the answer cannot be used: "
        f"{reason}. Check that the base URL points at the Vibe platform, then "
        "click Authorize again (the code may already be spent).",
        status_code=status_code,
    )


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _require(value: Any, argument: str, env: str, what: str) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()

    raise ConfigurationError(
        f"The partner {what} is missing. Pass {argument}=... or set {env}; the "
        "value comes from the partner settings in the Vibe dashboard (the "
        "sandbox prints its own)."
    )


def _require_code(code: Any) -> str:
    if isinstance(code, str) and code.strip():
        return code.strip()

    raise ConfigurationError(
        "There is no authorization code to exchange. Get one with "
        "parse_callback() from the address the browser landed on after approval."
    )


def _unknown_scopes_message(unknown: list[str]) -> str:
    quoted = ", ".join(repr(shorten(n)) for n in unknown)
    hints = [
        f"'{match[0]}' instead of '{shorten(n)}'"
        for n in unknown
        if (match := difflib.get_close_matches(n, SCOPES, n=1))
    ]
    advice = f" Did you mean {'; '.join(hints)}?" if hints else ""
    return (
        f"Unknown scope{'s' if len(unknown) > 1 else ''} {quoted}.{advice} "
        f"Valid scopes: {', '.join(SCOPES)}."
    )
