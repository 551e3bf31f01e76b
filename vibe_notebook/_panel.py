"""The connect panel: an ipywidgets form that walks an analyst through Connect."""

from __future__ import annotations

import asyncio
import logging
import weakref

import ipywidgets as w

from . import _session
from ._connect import Connection
from ._credentials import forget_connection, load_connection, resolve_base_url
from ._panel_flow import (
    Flow,
    adopt,
    attempt,
    show_disconnected,
    show_form,
    stop_catcher,
    wire,
)
from ._panel_settings import Settings, resolve_settings
from ._panel_views import build_widgets
from ._scopes import DEFAULT_SCOPES, SCOPES

__all__ = ["ConnectPanel", "connect", "disconnect"]

logger = logging.getLogger(__name__)

_PANELS: weakref.WeakSet[ConnectPanel] = weakref.WeakSet()


class ConnectPanel(w.VBox):
    """The connect panel that :func:`connect` returns and the cell displays.

    Its state is plain widgets; the flow lives in ``_panel_flow``, the widgets
    and HTML in ``_panel_views`` and the partner settings in ``_panel_settings``.
    ``connection`` is the Connection once connected, else None.
    """

    def __init__(self, settings: Settings, saved: Connection | None = None):
        self._settings = settings
        self._flow = Flow()
        self._ui = build_widgets(settings)
        super().__init__(layout=w.Layout(max_width="64em"))
        self.add_class("vibe-panel")
        wire(self)
        _PANELS.add(self)
        if saved is not None:
            adopt(self, saved, note="Using the key saved on this machine.")
        else:
            show_form(self)

    @property
    def connection(self) -> Connection | None:
        return self._flow.connection

    def connect_from(self, address: str) -> None:
        """Connect with the address the browser landed on, as if pasted."""
        attempt(self, address)

    async def wait(self) -> None:
        """Wait for a running exchange (the panel runs it as a task in Jupyter)."""
        task = self._flow.task
        if task is not None:
            await asyncio.wait({task})

    def close(self) -> None:
        stop_catcher(self)
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
    settings = resolve_settings(
        client_id, client_secret, redirect_uri, base_url, sandbox, save
    )
    settings.scopes = tuple(s for s in scopes if s in SCOPES)
    settings.timeout = timeout
    saved = None if sandbox else load_connection(settings.base_url)
    for older in list(_PANELS):
        stop_catcher(older)
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
            show_disconnected(panel, removed)
    return removed


def _session_base_url() -> str | None:
    if not _session.is_connected():
        return None
    return str(_session.get_session().base_url)
