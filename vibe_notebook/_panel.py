"""The connect panel: an ipywidgets form that walks an analyst through Connect."""

from __future__ import annotations

import asyncio
import atexit
import html
import logging
import os
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from . import _session
from ._connect import (
    Connection,
    aexchange_code,
    authorize_url,
    exchange_code,
    parse_callback,
)
from ._credentials import (
    forget_connection,
    is_shared_host,
    load_connection,
    resolve_base_url,
    save_connection,
    shared_host_name,
)
from ._hosting import browser_url_for_port, hub_prefix, rebase_url
from ._redirect import RedirectCatcher, start_catcher
from ._scopes import DEFAULT_SCOPES, SCOPES
from .errors import APIError, ConfigurationError, VibeError

if TYPE_CHECKING:
    import httpx

    from .sandbox import Sandbox

__all__ = ["ConnectPanel", "connect", "disconnect"]

logger = logging.getLogger(__name__)

_HELPERS_BY_SCOPE: dict[str, tuple[str, ...]] = {
    "crm": ("deals", "leads", "contacts", "companies", "pipelines", "stages"),
    "task": ("tasks",),
    "user": ("users",),
    "user_basic": ("users",),
}

_PARTNER_HELP = (
    "vibe_notebook connects as a Vibe partner app. Its <b>partner id</b>, "
    "<b>secret</b> and <b>redirect URI</b> are on the partner's page in the Vibe "
    "dashboard; you can also pass them to <code>vn.connect(...)</code> or set "
    "<code>VIBE_CLIENT_ID</code>, <code>VIBE_CLIENT_SECRET</code> and "
    "<code>VIBE_REDIRECT_URI</code>. No account? Try everything on the embedded "
    "sandbox: <code>vn.connect(sandbox=True)</code>."
)

_NAMES_TIP = (
    "Tip: without user or user_basic, people's names (assignedBy and the like) "
    "stay empty and vn.users() is refused; Reconnect with user_basic ticked to "
    "get them."
)

_PANELS: weakref.WeakSet[ConnectPanel] = weakref.WeakSet()
_SANDBOX: Sandbox | None = None


@dataclass
class _Settings:
    """What the panel connects with; the secret lives here, never in a widget."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    base_url: str
    browser_base_url: str
    save: bool | None = None
    sandbox: bool = False
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    timeout: float = 30.0
    transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None


@dataclass
class _Flow:
    """Where the panel is in the flow: the link's state and what came of it."""

    state: str | None = None
    requested: tuple[str, ...] = ()
    connection: Connection | None = None
    busy: bool = False
    task: asyncio.Task[None] | None = None
    catcher: RedirectCatcher | None = None
    secrets: set[str] = field(default_factory=set, repr=False)


@dataclass
class _Widgets:
    header: w.HTML
    partner: w.VBox
    client_id: w.Text
    client_secret: w.Password
    redirect_uri: w.Text
    scopes: dict[str, w.Checkbox]
    scope_note: w.HTML
    authorize: w.HTML
    callback: w.Text
    connect: w.Button
    status: w.HTML
    form: w.VBox
    reconnect: w.Button
    disconnect: w.Button
    actions: w.HBox


class ConnectPanel(w.VBox):
    """The connect panel that :func:`connect` returns and the cell displays.

    Its state is plain widgets; the logic lives in this module's functions.
    ``connection`` is the Connection once connected, else None.
    """

    def __init__(self, settings: _Settings, saved: Connection | None = None):
        self._settings = settings
        self._flow = _Flow()
        self._ui = _build_widgets(settings)
        super().__init__(layout=w.Layout(max_width="64em"))
        self.add_class("vibe-panel")
        _wire(self)
        _PANELS.add(self)
        if saved is not None:
            _adopt(self, saved, note="Using the key saved on this machine.")
        else:
            _show_form(self)

    @property
    def connection(self) -> Connection | None:
        return self._flow.connection

    def connect_from(self, address: str) -> None:
        """Connect with the address the browser landed on, as if pasted."""
        _attempt(self, address)

    async def wait(self) -> None:
        """Wait for a running exchange (the panel runs it as a task in Jupyter)."""
        task = self._flow.task
        if task is not None:
            await asyncio.wait({task})

    def close(self) -> None:
        _stop_catcher(self)
        super().close()

    def __repr__(self) -> str:
        conn = self._flow.connection
        where = f"connected to {conn.portal_domain}" if conn else "not connected"
        return f"<ConnectPanel {where}>"


def connect(
    client_id: str | None = None,
    client_secret: str | None = None,
    redirect_uri: str | None = None,
    scopes: tuple[str, ...] | list[str] = DEFAULT_SCOPES,
    base_url: str | None = None,
    sandbox: bool = False,
    save: bool | None = None,
    *,
    timeout: float = 30.0,
) -> ConnectPanel:
    """Show the connect panel: pick scopes, approve in the browser, paste back.

    Parameters
    ----------
    client_id, client_secret, redirect_uri
        The partner app's credentials; default to ``VIBE_CLIENT_ID``,
        ``VIBE_CLIENT_SECRET`` and ``VIBE_REDIRECT_URI``. Missing ones are asked
        for in the panel (the secret in a password field).
    scopes
        Scopes ticked at first; crm and task by default.
    base_url
        The platform; defaults to ``VIBE_BASE_URL``, then production.
    sandbox
        Start (once per kernel) the embedded sandbox and connect to it; needs
        no account. The partner settings come from the sandbox.
    save
        Keep the key for later sessions. None: yes on a personal machine, no on
        Binder, JupyterHub or Colab; sandbox keys are never kept unless True.
    timeout
        Seconds to wait for the platform during the exchange.

    Returns
    -------
    ConnectPanel
        The panel; as a cell's last line it displays itself. Once connected,
        ``vn.deals()`` and its siblings use the portal.

    Examples
    --------
    >>> import vibe_notebook as vn
    >>> panel = vn.connect(sandbox=True)  # doctest: +SKIP
    >>> panel  # doctest: +SKIP
    """
    settings = _resolve_settings(
        client_id, client_secret, redirect_uri, base_url, sandbox, save
    )
    settings.scopes = tuple(s for s in scopes if s in SCOPES)
    settings.timeout = timeout
    saved = None if sandbox else load_connection(settings.base_url)
    for older in list(_PANELS):
        _stop_catcher(older)
    return ConnectPanel(settings, saved)


def disconnect(base_url: str | None = None) -> bool:
    """Forget the saved key for the portal and end the connected session.

    Parameters
    ----------
    base_url
        The platform whose saved keys to forget; defaults to the connected
        session's, then ``VIBE_BASE_URL``, then production.

    Returns
    -------
    bool
        True when a saved key was removed from disk.
    """
    target = base_url or _session_base_url() or resolve_base_url()
    removed = forget_connection(target)
    _session.set_session(None)
    for panel in list(_PANELS):
        if panel.connection is not None:
            _show_disconnected(panel, removed)
    return removed


# --- settings ---------------------------------------------------------------


def _resolve_settings(
    client_id: str | None,
    client_secret: str | None,
    redirect_uri: str | None,
    base_url: str | None,
    sandbox: bool,
    save: bool | None,
) -> _Settings:
    if sandbox:
        return _sandbox_settings(redirect_uri, save)

    base = resolve_base_url(base_url)
    return _Settings(
        client_id=_pick(client_id, "VIBE_CLIENT_ID"),
        client_secret=_pick(client_secret, "VIBE_CLIENT_SECRET"),
        redirect_uri=_pick(redirect_uri, "VIBE_REDIRECT_URI"),
        base_url=base,
        browser_base_url=base,
        save=save,
    )


def _pick(value: str | None, env: str) -> str:
    return (value or os.environ.get(env) or "").strip()


def _sandbox_settings(redirect_uri: str | None, save: bool | None) -> _Settings:
    """The embedded sandbox's partner; ``redirect_uri`` may pick another one
    registered for it (``http://localhost:8765/callback`` lets the panel catch
    the redirect)."""
    sandbox = _shared_sandbox()
    if redirect_uri is None:
        redirect_uri = sandbox.redirect_uri
    if hub_prefix() is not None:
        redirect_uri = _register_proxy_redirect(sandbox)
    return _Settings(
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        redirect_uri=redirect_uri,
        base_url=sandbox.base_url,
        browser_base_url=browser_url_for_port(_port_of(sandbox.base_url)),
        save=save,
        sandbox=True,
    )


def _register_proxy_redirect(sandbox: Sandbox) -> str:
    """A redirect URI the browser can follow through jupyter-server-proxy.

    The consent form posts to ``/v1/connect/approve``; a Location relative to
    it (``../../callback``) lands on the sandbox's ``/callback`` under any hub
    prefix, whether or not the proxy rewrites ``/``-rooted Locations (recent
    jupyter-server-proxy versions prepend their prefix to those, so an
    absolute path would get it twice).
    """
    from .sandbox._connect import APPROVE_PATH, CALLBACK_PATH

    depth = APPROVE_PATH.strip("/").count("/")
    relative = "../" * depth + CALLBACK_PATH.lstrip("/")
    partner = sandbox.state.partners[sandbox.client_id]
    if relative not in partner.redirect_uris:
        partner.redirect_uris.append(relative)
    return relative


def _shared_sandbox() -> Sandbox:
    """The kernel's one embedded sandbox, started on first use."""
    global _SANDBOX
    if _SANDBOX is None:
        from .sandbox import Sandbox

        sandbox = Sandbox()
        sandbox.start()
        atexit.register(sandbox.stop)
        _SANDBOX = sandbox
        logger.info("Started the embedded sandbox at %s", sandbox.base_url)
    return _SANDBOX


def _port_of(url: str) -> int:
    from urllib.parse import urlsplit

    port = urlsplit(url).port
    if port is None:
        raise ConfigurationError(f"The sandbox address {url!r} has no port.")
    return port


def _session_base_url() -> str | None:
    if not _session.is_connected():
        return None
    return str(_session.get_session().base_url)


# --- widgets ----------------------------------------------------------------


def _build_widgets(settings: _Settings) -> _Widgets:
    connect_button = w.Button(
        description="Connect", button_style="primary", icon="plug", disabled=True
    )
    reconnect = w.Button(description="Reconnect", icon="refresh")
    disconnect_button = w.Button(description="Disconnect", icon="unlink")
    ui = _Widgets(
        header=w.HTML("<b>Connect a Bitrix24 portal through Vibe</b>"),
        partner=w.VBox(),
        client_id=w.Text(value=settings.client_id, description="Partner id"),
        client_secret=w.Password(description="Secret"),
        redirect_uri=w.Text(value=settings.redirect_uri, description="Redirect URI"),
        scopes=_scope_boxes(settings.scopes),
        scope_note=w.HTML(),
        authorize=w.HTML(),
        callback=w.Text(
            placeholder="Paste the address your browser landed on after Approve",
            layout=w.Layout(width="100%"),
        ),
        connect=connect_button,
        status=w.HTML(),
        form=w.VBox(),
        reconnect=reconnect,
        disconnect=disconnect_button,
        actions=w.HBox([reconnect, disconnect_button]),
    )
    _layout_form(ui, settings)
    _add_classes(ui)
    return ui


def _scope_boxes(ticked: tuple[str, ...]) -> dict[str, w.Checkbox]:
    return {
        name: w.Checkbox(
            value=name in ticked,
            description=f"{name}: {text}",
            indent=False,
            tooltip=text,
            layout=w.Layout(width="auto"),
        )
        for name, text in SCOPES.items()
    }


def _layout_form(ui: _Widgets, settings: _Settings) -> None:
    missing = _missing_partner_fields(ui, settings)
    if missing:
        ui.partner.children = [w.HTML(f"<p>{_PARTNER_HELP}</p>"), *missing]

    grid = w.GridBox(
        list(ui.scopes.values()),
        layout=w.Layout(grid_template_columns="repeat(auto-fill, minmax(26em, 1fr))"),
    )
    ui.form.children = [
        ui.partner,
        w.HTML("<b>1.</b> Choose what the notebook may read:"),
        grid,
        ui.scope_note,
        w.HTML("<b>2.</b> Open the consent page, pick the portal and approve:"),
        ui.authorize,
        w.HTML("<b>3.</b> Paste the address the browser landed on, then Connect:"),
        w.HBox([ui.callback, ui.connect]),
    ]


def _missing_partner_fields(ui: _Widgets, settings: _Settings) -> list[w.Widget]:
    fields: list[w.Widget] = []
    if not settings.client_id:
        fields.append(ui.client_id)
    if not settings.client_secret:
        fields.append(ui.client_secret)
    if not settings.redirect_uri:
        fields.append(ui.redirect_uri)
    return fields


def _add_classes(ui: _Widgets) -> None:
    ui.authorize.add_class("vibe-authorize-link")
    ui.callback.add_class("vibe-callback-input")
    ui.connect.add_class("vibe-connect-button")
    ui.status.add_class("vibe-status")
    ui.client_secret.add_class("vibe-client-secret")
    ui.disconnect.add_class("vibe-disconnect-button")
    ui.reconnect.add_class("vibe-reconnect-button")


def _wire(panel: ConnectPanel) -> None:
    ui = panel._ui
    for box in ui.scopes.values():
        box.observe(lambda _change: _refresh_link(panel), names="value")
    ui.client_id.observe(lambda _change: _refresh_link(panel), names="value")
    ui.redirect_uri.observe(lambda _change: _refresh_link(panel), names="value")
    ui.connect.on_click(lambda _button: _on_connect_click(panel))
    ui.reconnect.on_click(lambda _button: _show_form(panel))
    ui.disconnect.on_click(lambda _button: _disconnect_panel(panel))


# --- views ------------------------------------------------------------------


def _show_form(panel: ConnectPanel, status: str = "") -> None:
    ui = panel._ui
    panel.children = [ui.header, ui.form, ui.status]
    ui.status.value = status
    _refresh_link(panel)
    _start_catcher(panel)


def _show_connected(panel: ConnectPanel, conn: Connection, note: str) -> None:
    ui = panel._ui
    _stop_catcher(panel)
    panel.children = [ui.header, ui.status, ui.actions]
    ui.status.value = _success_html(conn, note)


def _show_disconnected(panel: ConnectPanel, removed: bool) -> None:
    panel._flow.connection = None
    note = "The saved key was removed from this machine. " if removed else ""
    _show_form(panel, _note_html(f"Disconnected. {note}Connect again below."))


def _refresh_link(panel: ConnectPanel) -> None:
    """Make a fresh Authorize link (new one-time state) for the ticked scopes."""
    ui, settings, flow = panel._ui, panel._settings, panel._flow
    scopes = tuple(name for name, box in ui.scopes.items() if box.value)
    flow.state, flow.requested = None, scopes
    ui.connect.disabled = True
    if not scopes:
        ui.scope_note.value = _warning_html(
            "Tick at least one scope: the key needs something it may read."
        )
        ui.authorize.value = ""
        return

    ui.scope_note.value = ""
    client_id = ui.client_id.value.strip() or settings.client_id
    redirect_uri = ui.redirect_uri.value.strip() or settings.redirect_uri
    if not client_id or not redirect_uri:
        ui.authorize.value = _note_html(
            "Fill in the partner id and redirect URI above to get the link."
        )
        return

    try:
        url, state = authorize_url(
            client_id, redirect_uri, scopes, base_url=settings.base_url
        )
    except VibeError as exc:
        ui.authorize.value = _warning_html(str(exc))
        return

    settings.client_id, settings.redirect_uri = client_id, redirect_uri
    flow.state = state
    ui.authorize.value = _link_html(
        rebase_url(url, settings.base_url, settings.browser_base_url)
    )
    ui.connect.disabled = flow.busy


# --- connecting -------------------------------------------------------------


def _on_connect_click(panel: ConnectPanel) -> None:
    pasted = panel._ui.callback.value
    panel._ui.callback.value = ""
    _attempt(panel, pasted)


def _attempt(panel: ConnectPanel, pasted: str) -> None:
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
    try:
        conn = await aexchange_code(code, **_exchange_options(panel))
    except VibeError as exc:
        _show_failure(panel, exc)
        return
    except Exception:
        _show_unexpected(panel)
        logger.exception("The connect panel's exchange failed unexpectedly")
        return

    _connected(panel, conn)


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
    note = _save_note(panel._settings, conn)
    _adopt(panel, conn, note=note)
    _set_busy(panel, False)


def _adopt(panel: ConnectPanel, conn: Connection, *, note: str) -> None:
    """Make ``conn`` the session that vn.deals() and friends use, and show it."""
    from ._client import Client

    panel._flow.connection, panel._flow.state = conn, None
    _session.set_session(Client.from_connection(conn))
    _show_connected(panel, conn, note)


def _save_note(settings: _Settings, conn: Connection) -> str:
    """Save the key when the policy says so; say where it went (or why not)."""
    if settings.save is False:
        return "Not saved (save=False): the key lives in this kernel only."
    if settings.save is None and settings.sandbox:
        return "Not saved: sandbox keys end with this kernel."
    if settings.save is None and is_shared_host():
        return (
            f"Not saved: this is {shared_host_name()}, a shared or throwaway "
            "host. Pass save=True to vn.connect() to keep the key anyway."
        )

    path = save_connection(conn)
    if path is None:
        return "The key could not be saved (see the log); it works for this kernel."
    return f"Saved for next time in {path} (readable only by you)."


def _disconnect_panel(panel: ConnectPanel) -> None:
    conn = panel._flow.connection
    base_url = conn.base_url if conn else panel._settings.base_url
    removed = forget_connection(base_url)
    _session.set_session(None)
    _show_disconnected(panel, removed)


def _set_busy(panel: ConnectPanel, busy: bool) -> None:
    ui = panel._ui
    panel._flow.busy = busy
    ui.connect.disabled = busy or panel._flow.state is None
    ui.connect.description = "Connecting…" if busy else "Connect"
    ui.callback.disabled = busy
    if busy:
        ui.status.value = _note_html("Connecting… exchanging the code for a key.")


def _show_failure(panel: ConnectPanel, exc: VibeError) -> None:
    """Show our own error as a short message with its fix; no traceback."""
    logger.info("Connect failed: %s", type(exc).__name__)
    _set_busy(panel, False)
    panel._ui.status.value = _error_html(_scrub(_error_text(exc), panel))


def _show_unexpected(panel: ConnectPanel) -> None:
    _set_busy(panel, False)
    panel._ui.status.value = _error_html(
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


def _helpers_lost(conn: Connection) -> list[str]:
    """vn helpers that will be refused because of the unticked scopes."""
    lost: list[str] = []
    for scope in conn.missing_scopes:
        for helper in _HELPERS_BY_SCOPE.get(scope, ()):
            if helper == "users" and {"user", "user_basic"} & set(conn.scopes):
                continue
            if helper not in lost:
                lost.append(helper)
    return lost


# --- redirect catcher ---------------------------------------------------------


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


def _stop_catcher(panel: ConnectPanel) -> None:
    catcher, panel._flow.catcher = panel._flow.catcher, None
    if catcher is not None:
        catcher.close()


# --- HTML -------------------------------------------------------------------


def _link_html(url: str) -> str:
    href = html.escape(url, quote=True)
    return (
        f'<a href="{href}" target="_blank" rel="noopener" '
        'style="font-weight:bold">Authorize in a new tab ↗</a>'
        '<div style="font-size:90%;color:#555">or copy the link: '
        '<code style="user-select:all;word-break:break-all">'
        f"{html.escape(url)}</code></div>"
    )


def _success_html(conn: Connection, note: str) -> str:
    user = conn.user_name or conn.user_email or "unknown user"
    if conn.user_name and conn.user_email:
        user = f"{conn.user_name} <{conn.user_email}>"
    lines = [
        f"<b style='color:#1b7f3b'>✓ Connected to {_e(conn.portal_name)}</b> "
        f"({_e(conn.portal_domain)})",
        f"User: {_e(user)}",
        f"Granted scopes: {_e(', '.join(conn.scopes) or 'none')}",
        f"Key: <code>{_e(conn.masked_key)}</code>. {_e(note)}",
    ]
    if not {"user", "user_basic"} & set(conn.scopes + conn.missing_scopes):
        lines.append(_e(_NAMES_TIP))
    warning = _missing_scopes_text(conn)
    body = "<br>".join(lines)
    if warning:
        body += _warning_html(warning)
    return f'<div class="vibe-ok">{body}<br>Next: <code>vn.deals()</code></div>'


def _missing_scopes_text(conn: Connection) -> str:
    missing = conn.missing_scopes
    if not missing:
        return ""

    names = ", ".join(missing)
    lost = _helpers_lost(conn)
    effect = (
        "so " + ", ".join(f"vn.{h}()" for h in lost) + " will not work"
        if lost
        else "so data that needs it will be refused"
    )
    return (
        f"⚠ Not granted: {names} (unticked on the consent page), {effect}. To "
        "add it, click Reconnect, keep it ticked and approve again."
    )


def _e(text: str) -> str:
    return html.escape(text)


def _note_html(text: str) -> str:
    return f'<div class="vibe-note">{_e(text)}</div>'


def _warning_html(text: str) -> str:
    return f'<div class="vibe-warning" style="color:#8a5300">{_e(text)}</div>'


def _error_html(text: str) -> str:
    return f'<div class="vibe-error" style="color:#b00020">✗ {_e(text)}</div>'
