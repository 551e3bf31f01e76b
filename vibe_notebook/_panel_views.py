"""The connect panel's widgets and the HTML fragments its status shows."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ipywidgets as w

from ._scopes import SCOPES

if TYPE_CHECKING:
    from ._connect import Connection
    from ._panel_settings import Settings

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


@dataclass
class Widgets:
    """Every widget the panel owns; each view shows some of them."""

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


def build_widgets(settings: Settings) -> Widgets:
    connect_button = w.Button(
        description="Connect", button_style="primary", icon="plug", disabled=True
    )
    reconnect = w.Button(description="Reconnect", icon="refresh")
    disconnect_button = w.Button(description="Disconnect", icon="unlink")
    ui = Widgets(
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


def _layout_form(ui: Widgets, settings: Settings) -> None:
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


def _missing_partner_fields(ui: Widgets, settings: Settings) -> list[w.Widget]:
    fields: list[w.Widget] = []
    if not settings.client_id:
        fields.append(ui.client_id)
    if not settings.client_secret:
        fields.append(ui.client_secret)
    if not settings.redirect_uri:
        fields.append(ui.redirect_uri)
    return fields


def _add_classes(ui: Widgets) -> None:
    ui.authorize.add_class("vibe-authorize-link")
    ui.callback.add_class("vibe-callback-input")
    ui.connect.add_class("vibe-connect-button")
    ui.status.add_class("vibe-status")
    ui.client_secret.add_class("vibe-client-secret")
    ui.disconnect.add_class("vibe-disconnect-button")
    ui.reconnect.add_class("vibe-reconnect-button")


# --- HTML -------------------------------------------------------------------


def link_html(url: str) -> str:
    href = html.escape(url, quote=True)
    return (
        f'<a href="{href}" target="_blank" rel="noopener" '
        'style="font-weight:bold">Authorize in a new tab ↗</a>'
        '<div style="font-size:90%;color:#555">or copy the link: '
        '<code style="user-select:all;word-break:break-all">'
        f"{html.escape(url)}</code></div>"
    )


def success_html(conn: Connection, note: str) -> str:
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
        body += warning_html(warning)
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


def _e(text: str) -> str:
    return html.escape(text)


def note_html(text: str) -> str:
    return f'<div class="vibe-note">{_e(text)}</div>'


def warning_html(text: str) -> str:
    return f'<div class="vibe-warning" style="color:#8a5300">{_e(text)}</div>'


def error_html(text: str) -> str:
    return f'<div class="vibe-error" style="color:#b00020">✗ {_e(text)}</div>'
