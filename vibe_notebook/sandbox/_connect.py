"""Partner Connect in the sandbox: its routes, consent checks and code exchange."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .._scopes import SCOPES
from ._connect_pages import callback_page, consent_page, error_page
from ._state import Partner, SandboxHTTPError, SandboxState

__all__ = ["connect_routes"]

logger = logging.getLogger(__name__)

AUTHORIZE_PATH = "/v1/connect/authorize"
APPROVE_PATH = "/v1/connect/approve"
TOKEN_PATH = "/v1/connect/token"
CALLBACK_PATH = "/callback"
_FORM_TYPE = "application/x-www-form-urlencoded"
_MAX_FORM_BYTES = 64 * 1024
_DENIED = "The user denied access on the consent page."


@dataclass
class Consent:
    """An authorize request shown to the user and not yet answered."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    created_at: float


@dataclass
class _Grant:
    """An authorization code and what it may be exchanged for."""

    client_id: str
    redirect_uri: str
    portal: str
    scopes: tuple[str, ...]
    user_id: int
    issued_at: float
    used: bool = False


class _ConnectStore:
    """Pending consents and issued codes of one sandbox."""

    def __init__(self, state: SandboxState):
        self.state = state
        self.consents: dict[str, Consent] = {}
        self.grants: dict[str, _Grant] = {}

    def add_consent(self, consent: Consent) -> str:
        self._prune()
        consent_id = secrets.token_urlsafe(18)
        self.consents[consent_id] = consent
        return consent_id

    def add_grant(self, grant: _Grant) -> str:
        code = secrets.token_urlsafe(24)
        self.grants[code] = grant
        return code

    def live_consent(self, consent_id: str) -> Consent | None:
        consent = self.consents.get(consent_id)
        if consent is None or self._age(consent.created_at) > self._ttl:
            return None
        return consent

    @property
    def _ttl(self) -> float:
        return self.state.config.code_ttl_seconds

    def _age(self, since: float) -> float:
        return self.state.clock() - since

    def _prune(self) -> None:
        # Used and expired codes are kept a while longer so that a late
        # exchange is told "used" or "expired" rather than "unknown".
        for consent_id, consent in list(self.consents.items()):
            if self._age(consent.created_at) > self._ttl:
                del self.consents[consent_id]
        for code, grant in list(self.grants.items()):
            if self._age(grant.issued_at) > 2 * self._ttl:
                del self.grants[code]


def _json_error(error: SandboxHTTPError) -> JSONResponse:
    headers = {"Cache-Control": "no-store", **error.headers}
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


def _redirect(uri: str, **params: str | None) -> RedirectResponse:
    """302 to ``uri`` with ``params`` added, keeping the query it already has."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(name, value) for name, value in params.items() if value is not None]
    target = urlunsplit(parts._replace(query=urlencode(query)))
    return RedirectResponse(
        target, status_code=302, headers={"Cache-Control": "no-store"}
    )


async def _read_form(request: Request) -> dict[str, list[str]]:
    """The form-encoded body as name -> values; refuses any other body."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type.lower() != _FORM_TYPE:
        raise SandboxHTTPError(
            400,
            "INVALID_PARAMS",
            f"The body must be form-encoded ({_FORM_TYPE}), not "
            f"{content_type or 'missing'}.",
            hint="Send client_id, client_secret, code and redirect_uri as form "
            "fields, not as JSON.",
        )

    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        raise SandboxHTTPError(400, "INVALID_PARAMS", "The form body is too large.")

    fields: dict[str, list[str]] = {}
    for name, value in parse_qsl(
        body.decode("utf-8", "replace"), keep_blank_values=True
    ):
        fields.setdefault(name, []).append(value)
    return fields


def _first(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0]


# Authorize ------------------------------------------------------------------


def _find_partner(state: SandboxState, client_id: str) -> Partner:
    partner = state.partners.get(client_id) if client_id else None
    if partner is None:
        shown = repr(client_id) if client_id else "(missing)"
        raise SandboxHTTPError(
            400,
            "INVALID_CLIENT",
            f"No partner is registered with client_id {shown}.",
            hint="Check the client id in the connect panel or VIBE_CLIENT_ID; "
            "it is shown in the partner dashboard.",
        )
    return partner


def _check_enabled(partner: Partner) -> None:
    if not partner.enabled:
        raise SandboxHTTPError(
            403,
            "PARTNER_DISABLED",
            f"The partner {partner.name!r} is disabled on the Vibe Platform, so "
            "it cannot ask for access.",
            hint="Contact the partner, or connect with another client id.",
        )


def _check_redirect_uri(partner: Partner, redirect_uri: str) -> None:
    if redirect_uri in partner.redirect_uris:
        return
    shown = repr(redirect_uri) if redirect_uri else "(missing)"
    registered = ", ".join(partner.redirect_uris) or "none"
    raise SandboxHTTPError(
        400,
        "INVALID_REDIRECT_URI",
        f"The redirect_uri {shown} is not registered for partner {partner.name!r}.",
        hint="Redirect URIs are compared exactly, character for character. "
        f"Registered for this partner: {registered}.",
    )


def _parse_scopes(raw: str) -> tuple[str, ...]:
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if not names:
        raise SandboxHTTPError(
            400,
            "INVALID_SCOPE",
            "The Authorize link asks for no scopes.",
            hint="Add scopes as a comma list, for example scopes=crm,task.",
        )

    unknown = [name for name in names if name not in SCOPES]
    if unknown:
        raise SandboxHTTPError(
            400,
            "INVALID_SCOPE",
            f"Unknown scope {unknown[0]!r} in scopes={raw!r}.",
            hint=f"Known scopes: {', '.join(SCOPES)}.",
        )
    return tuple(dict.fromkeys(names))


def _checked_request(state: SandboxState, request: Request) -> Consent:
    """The authorize request, refused with the platform's code if untrusted."""
    query = request.query_params
    partner = _find_partner(state, query.get("client_id", ""))
    _check_enabled(partner)
    redirect_uri = query.get("redirect_uri", "")
    _check_redirect_uri(partner, redirect_uri)
    scopes = _parse_scopes(query.get("scopes", ""))
    return Consent(
        partner.client_id, redirect_uri, scopes, query.get("state"), state.clock()
    )


# Routes ---------------------------------------------------------------------


def connect_routes(state: SandboxState) -> list[Route]:
    """The Partner Connect routes of the sandbox, sharing ``state``.

    ``GET /v1/connect/authorize`` shows the consent page, whose form posts
    to ``POST /v1/connect/approve`` (fields ``consent_id``, ``portal``,
    ``scope`` repeated, ``decision`` = ``approve`` or ``deny``).
    ``POST /v1/connect/token`` exchanges a code for a key, and ``GET
    /callback`` shows the address to paste back into the notebook.
    """
    store = _ConnectStore(state)

    async def authorize(request: Request) -> Response:
        try:
            consent = _checked_request(state, request)
        except SandboxHTTPError as error:
            logger.info("Refused authorize request: %s", error.code)
            return error_page(request, error)

        consent_id = store.add_consent(consent)
        return consent_page(state, consent_id, consent)

    async def approve(request: Request) -> Response:
        try:
            return await _answer_consent(state, store, request)
        except SandboxHTTPError as error:
            return error_page(request, error)

    async def token(request: Request) -> Response:
        try:
            return await _exchange(state, store, request)
        except SandboxHTTPError as error:
            logger.info("Refused token exchange: %s", error.code)
            return _json_error(error)

    async def callback(request: Request) -> Response:
        return callback_page(request, state.config.code_ttl_seconds)

    return [
        Route(AUTHORIZE_PATH, authorize, methods=["GET"]),
        Route(APPROVE_PATH, approve, methods=["POST"]),
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(CALLBACK_PATH, callback, methods=["GET"]),
    ]


async def _answer_consent(
    state: SandboxState, store: _ConnectStore, request: Request
) -> Response:
    fields = await _read_form(request)
    consent_id = _first(fields, "consent_id")
    consent = store.live_consent(consent_id)
    if consent is None:
        raise SandboxHTTPError(
            400,
            "INVALID_PARAMS",
            "This consent form was already answered or has expired.",
            hint="Go back to the notebook and open the Authorize link again.",
        )

    if _first(fields, "decision") == "deny":
        del store.consents[consent_id]
        logger.info("Consent denied for partner %s", consent.client_id)
        return _redirect(
            consent.redirect_uri,
            error="access_denied",
            error_description=_DENIED,
            state=consent.state,
        )

    portal = _first(fields, "portal")
    ticked = set(fields.get("scope", []))
    granted = tuple(name for name in consent.scopes if name in ticked)
    problem = _consent_problem(state, portal, granted)
    if problem:
        return consent_page(
            state, consent_id, consent, ticked=ticked, portal=portal, message=problem
        )

    del store.consents[consent_id]
    owner = state.portals[portal].owner_id
    grant = _Grant(
        consent.client_id, consent.redirect_uri, portal, granted, owner, state.clock()
    )
    code = store.add_grant(grant)
    logger.info(
        "Consent approved for partner %s on %s with scopes %s",
        consent.client_id,
        portal,
        ",".join(granted),
    )
    return _redirect(consent.redirect_uri, code=code, state=consent.state)


def _consent_problem(state: SandboxState, portal: str, granted: tuple[str, ...]) -> str:
    if portal not in state.portals:
        return "Choose one of the portals listed below."
    if not granted:
        return "Tick at least one kind of access, or press Deny."
    return ""


# Token ----------------------------------------------------------------------


async def _exchange(
    state: SandboxState, store: _ConnectStore, request: Request
) -> JSONResponse:
    fields = await _read_form(request)
    wanted = ("client_id", "client_secret", "code", "redirect_uri")
    missing = [name for name in wanted if not _first(fields, name)]
    if missing:
        raise SandboxHTTPError(
            400,
            "INVALID_PARAMS",
            f"The token request lacks the form fields {', '.join(missing)}.",
            hint="Send client_id, client_secret, code and redirect_uri.",
        )

    partner = _authenticate(state, _first(fields, "client_id"), fields)
    code = _first(fields, "code")
    grant = _checked_grant(state, store, code, partner, _first(fields, "redirect_uri"))
    _check_key_limit(state, grant, partner)

    grant.used = True
    api_key = state.issue_key(
        grant.portal, list(grant.scopes), grant.user_id, partner.client_id
    )
    logger.info(
        "Issued a key on %s to partner %s with scopes %s",
        grant.portal,
        partner.client_id,
        ",".join(grant.scopes),
    )
    return JSONResponse(
        _token_body(state, grant, api_key),
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _authenticate(
    state: SandboxState, client_id: str, fields: dict[str, list[str]]
) -> Partner:
    partner = state.partners.get(client_id)
    secret = _first(fields, "client_secret")
    if partner is None or not secrets.compare_digest(
        secret.encode(), partner.client_secret.encode()
    ):
        raise SandboxHTTPError(
            400,
            "INVALID_CLIENT",
            "The client_id or client_secret is wrong.",
            hint="Copy both from the partner dashboard (or the sandbox's startup "
            "banner) and try again.",
        )
    _check_enabled(partner)
    return partner


def _checked_grant(
    state: SandboxState,
    store: _ConnectStore,
    code: str,
    partner: Partner,
    redirect_uri: str,
) -> _Grant:
    grant = store.grants.get(code)
    age = state.clock() - grant.issued_at if grant else 0.0
    ttl = state.config.code_ttl_seconds
    if grant is None:
        reason = "is unknown"
    elif grant.used:
        reason = "was already used; codes work once"
    elif age > ttl:
        reason = f"expired: codes live {ttl / 60:g} minutes"
    elif grant.client_id != partner.client_id:
        reason = "was issued to another partner"
    elif grant.redirect_uri != redirect_uri:
        reason = "was issued for a different redirect_uri"
    else:
        return grant

    raise SandboxHTTPError(
        400,
        "INVALID_CODE",
        f"The authorization code {reason}.",
        hint="Press Authorize again in the notebook, approve, and paste the new "
        f"address within {ttl / 60:g} minutes.",
    )


def _check_key_limit(state: SandboxState, grant: _Grant, partner: Partner) -> None:
    limit = state.config.keys_per_portal
    held = sum(
        1
        for record in state.keys.values()
        if record.portal_domain == grant.portal
        and record.user_id == grant.user_id
        and record.client_id == partner.client_id
    )
    if held >= limit:
        raise SandboxHTTPError(
            429,
            "KEY_LIMIT_REACHED",
            f"This user already holds {held} keys from partner {partner.name!r} "
            f"for portal {grant.portal}, the most allowed ({limit}).",
            hint="Reuse a saved connection, or revoke an old key before "
            "connecting again.",
        )


def _token_body(state: SandboxState, grant: _Grant, api_key: str) -> dict[str, Any]:
    portal = state.portals[grant.portal]
    user = state.user(grant.portal, grant.user_id) or {}
    full_name = f"{user.get('name', '')} {user.get('lastName', '')}".strip()
    return {
        "success": True,
        "api_key": api_key,
        "portal": {"domain": portal.domain, "name": portal.name},
        "scopes": list(grant.scopes),
        "user": {
            "name": full_name or "Portal Administrator",
            "email": user.get("email") or f"admin@{portal.domain}",
        },
    }
