"""The HTML pages of Partner Connect in the sandbox: consent, error, callback."""

from __future__ import annotations

import html
import re
from functools import cache
from importlib import resources
from string import Template
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from .._scopes import SCOPES
from ._state import Portal, SandboxHTTPError, SandboxState

if TYPE_CHECKING:
    from ._connect import Consent

__all__ = ["callback_page", "consent_page", "error_page", "read_consent_id"]

# Consent and callback pages must not be framed, cached or leak their address.
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
_CONSENT_ID = re.compile(r'name="consent_id" value="([^"]+)"')


@cache
def _template(name: str) -> Template:
    text = resources.files(__package__).joinpath("templates", name).read_text("utf-8")
    return Template(text)


def _render(name: str, status: int = 200, **values: str) -> HTMLResponse:
    page = _template(name).substitute(values)
    return HTMLResponse(page, status_code=status, headers=_PAGE_HEADERS)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_page(request: Request, error: SandboxHTTPError) -> Response:
    if _wants_json(request):
        return JSONResponse(error.body(), status_code=error.status)
    hint = str(error.extra.get("hint", ""))
    return _render(
        "error.html",
        error.status,
        code=html.escape(error.code),
        message=html.escape(error.message),
        hint=html.escape(hint),
    )


def _portal_choices(portals: list[Portal], chosen: str | None) -> str:
    chosen = chosen or (portals[0].domain if portals else None)
    items = []
    for portal in portals:
        checked = " checked" if portal.domain == chosen else ""
        domain = html.escape(portal.domain)
        items.append(
            f'<label><input type="radio" name="portal" value="{domain}"{checked}>'
            f" {html.escape(portal.name)} <small>({domain})</small></label>"
        )
    return "\n      ".join(items)


def _scope_choices(scopes: tuple[str, ...], ticked: set[str]) -> str:
    items = []
    for name in scopes:
        checked = " checked" if name in ticked else ""
        items.append(
            f'<label><input type="checkbox" name="scope" value="{name}"{checked}>'
            f' <span class="scope-name">{name}</span> '
            f'<span class="scope-description">{html.escape(SCOPES[name])}</span>'
            "</label>"
        )
    return "\n      ".join(items)


def consent_page(
    state: SandboxState,
    consent_id: str,
    consent: Consent,
    *,
    ticked: set[str] | None = None,
    portal: str | None = None,
    message: str = "",
) -> HTMLResponse:
    partner = state.partners[consent.client_id]
    notice = f'<p class="message">{html.escape(message)}</p>' if message else ""
    return _render(
        "consent.html",
        400 if message else 200,
        partner=html.escape(partner.name),
        message=notice,
        consent_id=html.escape(consent_id),
        portals=_portal_choices(list(state.portals.values()), portal),
        scopes=_scope_choices(
            consent.scopes, set(consent.scopes) if ticked is None else ticked
        ),
        redirect_uri=html.escape(consent.redirect_uri),
    )


def read_consent_id(page: str) -> str:
    """The one-time ``consent_id`` in a consent page's HTML.

    Raises
    ------
    ValueError
        The page is not a consent page (an error page, for example).
    """
    match = _CONSENT_ID.search(page)
    if match is None:
        raise ValueError("The page has no consent form; it is probably an error page.")
    return html.unescape(match.group(1))


def callback_page(request: Request, ttl: float) -> HTMLResponse:
    query = request.query_params
    address = html.escape(str(request.url))
    if "error" in query:
        error = query["error"]
        reason = "you pressed Deny" if error == "access_denied" else f"error={error}"
        return _render(
            "callback.html",
            title="Access was not granted",
            accent="#d64545",
            message=html.escape(f"The consent page answered that {reason}."),
            address=address,
            next_step="Paste this address into the notebook's connect panel so it "
            "can show what happened, then press Authorize again if you change "
            "your mind.",
        )
    return _render(
        "callback.html",
        title="Almost connected: copy this address",
        accent="#2f7d32",
        message="Access was approved. Copy the whole address below.",
        address=address,
        next_step="Paste it into the callback field of the connect panel in your "
        f"notebook and press Connect. It works once and expires in {ttl / 60:g} "
        "minutes.",
    )
