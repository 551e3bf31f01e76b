"""The connect panel's flow: link, paste, exchange, adopt, and the views between."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import _session
from ._connect import (
    Connection,
    aexchange_code,
    authorize_url,
    exchange_code,
    parse_callback,
)
from ._credentials import forget_connection
from ._hosting import rebase_url
from ._panel_settings import save_note
from ._panel_views import (
    error_html,
    link_html,
    note_html,
    success_html,
    warning_html,
)
from ._redirect import RedirectCatcher, start_catcher
from .errors import APIError, ConfigurationError, VibeError

if TYPE_CHECKING:
    from ._panel import ConnectPanel

logger = logging.getLogger(__name__)


@dataclass
class Flow:
    """Where the panel is in the flow: the link's state and what came of it."""

    state: str | None = None
    requested: tuple[str, ...] = ()
    connection: Connection | None = None
    busy: bool = False
    task: asyncio.Task[None] | None = None
    catcher: RedirectCatcher | None = None
    secrets: set[str] = field(default_factory=set, repr=False)


def wire(panel: ConnectPanel) -> None:
    ui = panel._ui
    for box in ui.scopes.values():
        box.observe(lambda _change: _refresh_link(panel), names="value")
    ui.client_id.observe(lambda _change: _refresh_link(panel), names="value")
    ui.redirect_uri.observe(lambda _change: _refresh_link(panel), names="value")
    ui.connect.on_click(lambda _button: _on_connect_click(panel))
    ui.reconnect.on_click(lambda _button: show_form(panel))
    ui.disconnect.on_click(lambda _button: _disconnect_panel(panel))


def show_form(panel: ConnectPanel, status: str = "") -> None:
    ui = panel._ui
    panel.children = [ui.header, ui.form, ui.status]
    ui.status.value = status
    _refresh_link(panel)
    _start_catcher(panel)


def _show_connected(panel: ConnectPanel, conn: Connection, note: str) -> None:
    ui = panel._ui
    stop_catcher(panel)
    panel.children = [ui.header, ui.status, ui.actions]
    ui.status.value = success_html(conn, note)


def show_disconnected(panel: ConnectPanel, removed: bool) -> None:
    panel._flow.connection = None
    note = "The saved key was removed from this machine. " if removed else ""
    show_form(panel, note_html(f"Disconnected. {note}Connect again below."))


def _refresh_link(panel: ConnectPanel) -> None:
    """Make a fresh Authorize link (new one-time state) for the ticked scopes."""
    ui, settings, flow = panel._ui, panel._settings, panel._flow
    scopes = tuple(name for name, box in ui.scopes.items() if box.value)
    flow.state, flow.requested = None, scopes
    ui.connect.disabled = True
    if not scopes:
        ui.scope_note.value = warning_html(
            "Tick at least one scope: the key needs something it may read."
        )
        ui.authorize.value = ""
        return

    ui.scope_note.value = ""
    client_id = ui.client_id.value.strip() or settings.client_id
    redirect_uri = ui.redirect_uri.value.strip() or settings.redirect_uri
    if not client_id or not redirect_uri:
        ui.authorize.value = note_html(
            "Fill in the partner id and redirect URI above to get the link."
        )
        return

    try:
        url, state = authorize_url(
            client_id, redirect_uri, scopes, base_url=settings.base_url
        )
    except VibeError as exc:
        ui.authorize.value = warning_html(str(exc))
        return

    settings.client_id, settings.redirect_uri = client_id, redirect_uri
    flow.state = state
    ui.authorize.value = link_html(
        rebase_url(url, settings.base_url, settings.browser_base_url)
    )
    ui.connect.disabled = flow.busy


# --- connecting -------------------------------------------------------------


def _on_connect_click(panel: ConnectPanel) -> None:
    pasted = panel._ui.callback.value
    panel._ui.callback.value = ""
    attempt(panel, pasted)


def attempt(panel: ConnectPanel, pasted: str) -> None:
    """Parse, check the state and exchange; every outcome updates the status."""
    flow = panel._flow
    panel._ui.callback.value = ""
    if flow.busy:
        return

    _take_secret(panel)
    if flow.state is None:
        _show_failure(panel, ConfigurationError(_no_link_message(panel)))
        return

    try:
        code = parse_callback(pasted, flow.state)
        _require_secret(panel)
    except VibeError as exc:
        _show_failure(panel, exc)
        return

    _set_busy(panel, True)
    _exchange(panel, code)


def _take_secret(panel: ConnectPanel) -> None:
    """Move a typed secret from its field into memory and clear the field."""
    field_ = panel._ui.client_secret
    typed = field_.value.strip()
    field_.value = ""
    if typed:
        panel._settings.client_secret = typed
        field_.placeholder = "kept in memory for this panel; type to replace"


def _require_secret(panel: ConnectPanel) -> None:
    if not panel._settings.client_secret:
        raise ConfigurationError(
            "The partner secret is missing. Type it in the Secret field above "
            "(or set VIBE_CLIENT_SECRET), then paste the address again and "
            "press Connect."
        )


def _no_link_message(panel: ConnectPanel) -> str:
    if not any(box.value for box in panel._ui.scopes.values()):
        return "Tick at least one scope, click Authorize, approve, then paste."
    return (
        "There is no Authorize link yet: fill in the partner id and redirect "
        "URI above, click the link, approve, then paste the address here."
    )


def _exchange(panel: ConnectPanel, code: str) -> None:
    """Run the exchange as a task on a running loop (Jupyter), else blocking."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None

    if loop is None:
        _exchange_blocking(panel, code)
    else:
        panel._flow.task = loop.create_task(_exchange_async(panel, code))


def _exchange_blocking(panel: ConnectPanel, code: str) -> None:
    try:
        conn = exchange_code(code, **_exchange_options(panel))
    except VibeError as exc:
        _show_failure(panel, exc)
        return
    except Exception:
        _show_unexpected(panel)
        raise

    _connected(panel, conn)


async def _exchange_async(panel: ConnectPanel, code: str) -> None:
    # Nothing may escape a task: the status would stay at "Connecting…".
    try:
        conn = await aexchange_code(code, **_exchange_options(panel))
        _connected(panel, conn)
    except VibeError as exc:
        _show_failure(panel, exc)
    except Exception:
        _show_unexpected(panel)
        logger.exception("The connect panel's exchange failed unexpectedly")


def _exchange_options(panel: ConnectPanel) -> dict[str, Any]:
    settings = panel._settings
    panel._flow.secrets.add(settings.client_secret)
    options: dict[str, Any] = {
        "client_id": settings.client_id,
        "client_secret": settings.client_secret,
        "redirect_uri": settings.redirect_uri,
        "base_url": settings.base_url,
        "requested_scopes": panel._flow.requested,
        "timeout": settings.timeout,
    }
    if settings.transport is not None:
        options["transport"] = settings.transport
    return options


def _connected(panel: ConnectPanel, conn: Connection) -> None:
    note = save_note(panel._settings, conn)
    adopt(panel, conn, note=note)
    _set_busy(panel, False)


def adopt(panel: ConnectPanel, conn: Connection, *, note: str) -> None:
    """Make ``conn`` the session that vn.deals() and friends use, and show it."""
    from ._client import Client

    panel._flow.connection, panel._flow.state = conn, None
    _session.set_session(Client.from_connection(conn))
    _show_connected(panel, conn, note)


def _disconnect_panel(panel: ConnectPanel) -> None:
    conn = panel._flow.connection
    base_url = conn.base_url if conn else panel._settings.base_url
    removed = forget_connection(base_url)
    _session.set_session(None)
    show_disconnected(panel, removed)


def _set_busy(panel: ConnectPanel, busy: bool) -> None:
    ui = panel._ui
    panel._flow.busy = busy
    ui.connect.disabled = busy or panel._flow.state is None
    ui.connect.description = "Connecting…" if busy else "Connect"
    ui.callback.disabled = busy
    if busy:
        ui.status.value = note_html("Connecting… exchanging the code for a key.")


def _show_failure(panel: ConnectPanel, exc: VibeError) -> None:
    """Show our own error as a short message with its fix; no traceback."""
    logger.info("Connect failed: %s", type(exc).__name__)
    _set_busy(panel, False)
    panel._ui.status.value = error_html(_scrub(_error_text(exc), panel))


def _show_unexpected(panel: ConnectPanel) -> None:
    _set_busy(panel, False)
    panel._ui.status.value = error_html(
        "Something unexpected went wrong while connecting; the traceback is in "
        "the log. Try Connect again, and report it if it repeats."
    )


def _error_text(exc: VibeError) -> str:
    text = str(exc)
    hint = exc.hint if isinstance(exc, APIError) else None
    if hint and hint not in text:
        text = f"{text} {hint}"
    return text


def _scrub(text: str, panel: ConnectPanel) -> str:
    """Blank out any secret the panel has handled, should a message carry one."""
    for secret in {panel._settings.client_secret, *panel._flow.secrets}:
        if secret:
            text = text.replace(secret, "***")
    return text


# --- redirect catcher -------------------------------------------------------


def _start_catcher(panel: ConnectPanel) -> None:
    if panel._flow.catcher is not None or not panel._settings.redirect_uri:
        return

    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    panel._flow.catcher = start_catcher(
        panel._settings.redirect_uri, panel.connect_from, loop=loop
    )


def stop_catcher(panel: ConnectPanel) -> None:
    catcher, panel._flow.catcher = panel._flow.catcher, None
    if catcher is not None:
        catcher.close()
