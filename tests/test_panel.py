"""Headless tests of the connect panel: set values, click, read widget state."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import os
import re
import socket
import stat
from collections.abc import Iterator
from dataclasses import fields
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import ipywidgets as w
import pytest

import vibe_notebook as vn
from vibe_notebook import _hosting, _panel, _panel_settings, _session
from vibe_notebook._panel import ConnectPanel
from vibe_notebook._redirect import start_catcher
from vibe_notebook._scopes import SCOPES
from vibe_notebook.sandbox import Sandbox
from vibe_notebook.sandbox._state import Partner

_ENV = (
    "VIBE_BASE_URL",
    "VIBE_API_KEY",
    "VIBE_CLIENT_ID",
    "VIBE_CLIENT_SECRET",
    "VIBE_REDIRECT_URI",
    "JUPYTERHUB_SERVICE_PREFIX",
    "JUPYTERHUB_API_TOKEN",
    "BINDER_SERVICE_HOST",
    "BINDER_REQUEST",
    "BINDER_REPO_URL",
    "COLAB_RELEASE_TAG",
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(keys_per_portal=10_000) as sb:
        sb.state.config.keys_per_portal = 10_000
        yield sb


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[None]:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    _session.set_session(None)
    yield
    _session.set_session(None)
    for panel in list(_panel._PANELS):
        panel.close()


# --- helpers ----------------------------------------------------------------


def _panel_for(sb: Sandbox, **options: Any) -> ConnectPanel:
    options.setdefault("save", False)
    return vn.connect(
        client_id=sb.client_id,
        client_secret=sb.client_secret,
        redirect_uri=sb.redirect_uri,
        base_url=sb.base_url,
        **options,
    )


def _href(panel: ConnectPanel) -> str:
    match = re.search(r'href="([^"]+)"', panel._ui.authorize.value)
    assert match, panel._ui.authorize.value
    return html.unescape(match.group(1))


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _paste_and_connect(panel: ConnectPanel, address: str) -> None:
    panel._ui.callback.value = address
    panel._ui.connect.click()


def _untick(panel: ConnectPanel, *names: str) -> None:
    for name in names:
        panel._ui.scopes[name].value = False


def _widgets_of(panel: ConnectPanel) -> list[w.Widget]:
    """Every widget the panel owns, shown or hidden (all sync to the page)."""
    found: list[w.Widget] = []
    pending: list[Any] = [panel]
    pending += [getattr(panel._ui, f.name) for f in fields(panel._ui)]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending += list(item.values())
            continue
        if not isinstance(item, w.Widget) or item in found:
            continue
        found.append(item)
        pending += list(getattr(item, "children", ()))
    return found


def _leaks(panel: ConnectPanel, *secrets: str) -> list[str]:
    """The secrets found in any widget's state or in the panel's repr."""
    states = [json.dumps(x.get_state(), default=str) for x in _widgets_of(panel)]
    blob = "\n".join([repr(panel), str(panel.connection), *states])
    assert len(states) > 30
    return [s for s in secrets if s and s in blob]


def _all_keys(sb: Sandbox) -> list[str]:
    return list(sb.state.keys)


def _status(panel: ConnectPanel) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", panel._ui.status.value))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- item 1: partner settings -----------------------------------------------


def test_connect_asks_for_missing_partner_settings() -> None:
    panel = vn.connect()

    shown = panel._ui.partner.children
    help_text = shown[0].value

    assert panel._ui.client_id in shown
    assert isinstance(panel._ui.client_secret, w.Password)
    assert panel._ui.client_secret in shown
    assert panel._ui.redirect_uri in shown
    assert "vn.connect(sandbox=True)" in help_text
    assert "VIBE_CLIENT_SECRET" in help_text
    assert "href" not in panel._ui.authorize.value
    assert panel._ui.connect.disabled


def test_connect_builds_link_once_partner_fields_are_filled() -> None:
    panel = vn.connect()

    panel._ui.client_id.value = "partner_typed"
    panel._ui.redirect_uri.value = "https://example.com/cb"

    query = _query(_href(panel))
    assert query["client_id"] == "partner_typed"
    assert query["redirect_uri"] == "https://example.com/cb"
    assert not panel._ui.connect.disabled


def test_connect_reads_partner_settings_from_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIBE_CLIENT_ID", "partner_env")
    monkeypatch.setenv("VIBE_CLIENT_SECRET", "secret_env_value")
    monkeypatch.setenv("VIBE_REDIRECT_URI", "https://example.com/back")

    panel = vn.connect()

    assert panel._ui.partner.children == ()
    assert _query(_href(panel))["client_id"] == "partner_env"
    assert _href(panel).startswith("https://vibecode.bitrix24.tech/v1/connect/")
    assert _leaks(panel, "secret_env_value") == []


# --- item 2: scopes, link, classes --------------------------------------------


def test_panel_shows_every_scope_with_crm_and_task_ticked(sandbox: Sandbox) -> None:
    panel = _panel_for(sandbox)

    boxes = panel._ui.scopes

    assert list(boxes) == list(SCOPES)
    assert len(boxes) == 17
    assert {n for n, b in boxes.items() if b.value} == {"crm", "task"}
    assert SCOPES["disk"] in boxes["disk"].description
    assert _query(_href(panel))["scopes"] == "crm,task"


def test_panel_link_opens_new_tab_and_is_copyable(sandbox: Sandbox) -> None:
    panel = _panel_for(sandbox)

    markup = panel._ui.authorize.value

    assert 'target="_blank"' in markup
    assert 'rel="noopener"' in markup
    assert html.escape(_href(panel)) in markup.split("<code", 1)[1]


def test_panel_link_gets_fresh_state_when_scopes_change(sandbox: Sandbox) -> None:
    panel = _panel_for(sandbox)
    before = _query(_href(panel))

    panel._ui.scopes["disk"].value = True
    after = _query(_href(panel))

    assert after["state"] != before["state"]
    assert after["scopes"] == "crm,task,disk"
    assert panel._flow.state == after["state"]


def test_panel_requires_at_least_one_scope(sandbox: Sandbox) -> None:
    panel = _panel_for(sandbox)

    _untick(panel, "crm", "task")

    assert "href" not in panel._ui.authorize.value
    assert "at least one scope" in panel._ui.scope_note.value
    assert panel._ui.connect.disabled
    panel._ui.scopes["user"].value = True
    assert _query(_href(panel))["scopes"] == "user"
    assert panel._ui.scope_note.value == ""


def test_panel_widgets_carry_css_classes(sandbox: Sandbox) -> None:
    panel = _panel_for(sandbox)

    ui = panel._ui

    assert "vibe-authorize-link" in ui.authorize._dom_classes
    assert "vibe-callback-input" in ui.callback._dom_classes
    assert "vibe-connect-button" in ui.connect._dom_classes
    assert "vibe-status" in ui.status._dom_classes


# --- item 3: success ----------------------------------------------------------


def test_panel_connects_and_shows_portal_user_and_scopes(sandbox: Sandbox) -> None:
    panel = _panel_for(sandbox)
    address = sandbox.approve(_href(panel))

    _paste_and_connect(panel, address)

    conn = panel.connection
    assert conn is not None
    text = _status(panel)
    assert conn.portal_name in text and conn.portal_domain in text
    assert conn.user_name in text
    assert "Granted scopes: crm, task" in text
    assert conn.masked_key in text
    assert "Not granted" not in text
    assert panel._ui.actions in panel.children
    assert panel._ui.disconnect in panel._ui.actions.children
    assert vn.is_connected()
    assert _session.get_session().connection == conn
    assert panel._ui.callback.value == ""
    code = _query(address)["code"]
    assert _leaks(panel, conn.api_key, sandbox.client_secret, code) == []


def test_panel_warns_which_helpers_fail_when_scope_unticked(
    sandbox: Sandbox,
) -> None:
    panel = _panel_for(sandbox)
    address = sandbox.approve(_href(panel), scopes=["crm"])

    _paste_and_connect(panel, address)

    text = _status(panel)
    assert panel.connection is not None
    assert panel.connection.missing_scopes == ("task",)
    assert "Not granted: task" in text
    warning = text.split("Not granted")[1].split("will not work")[0]
    assert "vn.tasks()" in warning
    assert "vn.deals()" not in warning


def test_panel_session_serves_data_helpers(sandbox: Sandbox) -> None:
    panel = _panel_for(sandbox)
    _paste_and_connect(panel, sandbox.approve(_href(panel)))

    me = _session.get_session().me()

    assert panel.connection is not None
    assert isinstance(me, dict)


def test_panel_repr_shows_no_key(sandbox: Sandbox) -> None:
    panel = _panel_for(sandbox)
    _paste_and_connect(panel, sandbox.approve(_href(panel)))

    text = repr(panel)

    assert panel.connection is not None
    assert panel.connection.portal_domain in text
    assert panel.connection.api_key not in text


def test_panel_exchanges_on_running_loop_as_task(sandbox: Sandbox) -> None:
    async def scenario() -> ConnectPanel:
        panel = _panel_for(sandbox)
        _paste_and_connect(panel, sandbox.approve(_href(panel)))
        assert panel._ui.connect.description == "Connecting…"
        assert panel._ui.connect.disabled
        await panel.wait()
        return panel

    panel = asyncio.run(scenario())

    assert panel.connection is not None
    assert panel._ui.connect.description == "Connect"
    assert "Connected to" in _status(panel)


# --- item 4: failures ---------------------------------------------------------

_CONNECT_ERRORS = [
    ("INVALID_CLIENT", 400, "partner"),
    ("INVALID_REDIRECT_URI", 400, "redirect"),
    ("INVALID_SCOPE", 400, "scope"),
    ("INVALID_CODE", 400, "Authorize"),
    ("PARTNER_DISABLED", 403, "partner"),
    ("KEY_LIMIT_REACHED", 429, "key"),
]


def _refusing(code: str, status: int) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        body = {"success": False, "error": {"code": code, "message": f"{code}."}}
        return httpx.Response(status, json=body)

    return httpx.MockTransport(answer)


def _raising(exc: Exception) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(answer)


def _assert_usable_after_failure(
    panel: ConnectPanel, sb: Sandbox, address: str
) -> None:
    """The failure left the panel ready, clean, and able to connect next."""
    ui = panel._ui
    assert "vibe-error" in ui.status.value
    assert "Traceback" not in ui.status.value
    assert not ui.connect.disabled
    assert ui.connect.description == "Connect"
    assert ui.callback.value == "" and not ui.callback.disabled
    assert ui.client_secret.value == ""
    code = _query(address).get("code", "")
    assert _leaks(panel, sb.client_secret, code, *_all_keys(sb)) == []

    panel._settings.transport = None
    _paste_and_connect(panel, sb.approve(_href(panel)))
    assert panel.connection is not None


@pytest.mark.parametrize(
    ("code", "status", "word"), _CONNECT_ERRORS, ids=[c[0] for c in _CONNECT_ERRORS]
)
def test_panel_shows_fix_for_connect_error(
    sandbox: Sandbox, code: str, status: int, word: str
) -> None:
    panel = _panel_for(sandbox)
    panel._settings.transport = _refusing(code, status)
    address = sandbox.approve(_href(panel))

    _paste_and_connect(panel, address)

    text = _status(panel)
    assert panel.connection is None
    assert word.lower() in text.lower()
    assert len(text) < 600
    _assert_usable_after_failure(panel, sandbox, address)


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (httpx.ConnectError("refused"), "could not be reached"),
        (httpx.ReadTimeout("slow"), "did not answer in time"),
    ],
    ids=["network", "timeout"],
)
def test_panel_shows_fix_for_network_trouble(
    sandbox: Sandbox, exc: Exception, words: str
) -> None:
    panel = _panel_for(sandbox)
    panel._settings.transport = _raising(exc)
    address = sandbox.approve(_href(panel))

    _paste_and_connect(panel, address)

    assert words in _status(panel)
    assert "Connect again" in _status(panel)
    _assert_usable_after_failure(panel, sandbox, address)


def test_panel_times_out_against_silent_server(sandbox: Sandbox) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        panel = _panel_for(sandbox, timeout=0.2)
        address = sandbox.approve(_href(panel))
        panel._settings.base_url = f"http://127.0.0.1:{port}"

        _paste_and_connect(panel, address)

    assert "did not answer in time" in _status(panel)
    panel._settings.base_url = sandbox.base_url
    _assert_usable_after_failure(panel, sandbox, address)


def test_panel_reports_refused_connection(sandbox: Sandbox) -> None:
    panel = _panel_for(sandbox)
    address = sandbox.approve(_href(panel))
    panel._settings.base_url = f"http://127.0.0.1:{_free_port()}"

    _paste_and_connect(panel, address)

    assert "could not be reached" in _status(panel)
    panel._settings.base_url = sandbox.base_url
    _assert_usable_after_failure(panel, sandbox, address)


def test_panel_rejects_reused_code_from_real_sandbox(sandbox: Sandbox) -> None:
    panel = _panel_for(sandbox)
    address = sandbox.approve(_href(panel))
    _paste_and_connect(panel, address)
    panel._ui.reconnect.click()
    state = panel._flow.state
    assert state is not None
    reused = address.replace(_query(address)["state"], state)

    _paste_and_connect(panel, reused)

    assert "already used" in _status(panel)
    assert "vibe-error" in panel._ui.status.value
    assert not panel._ui.connect.disabled


def test_panel_rejects_wrong_secret_from_real_sandbox(sandbox: Sandbox) -> None:
    panel = vn.connect(
        client_id=sandbox.client_id,
        redirect_uri=sandbox.redirect_uri,
        base_url=sandbox.base_url,
        save=False,
    )
    panel._ui.client_secret.value = "definitely-not-the-secret"
    address = sandbox.approve(_href(panel))

    _paste_and_connect(panel, address)

    assert panel.connection is None
    assert "vibe-error" in panel._ui.status.value
    assert panel._ui.client_secret.value == ""
    assert not panel._ui.connect.disabled
    assert _leaks(panel, "definitely-not-the-secret", sandbox.client_secret) == []
    panel._ui.client_secret.value = sandbox.client_secret
    _paste_and_connect(panel, sandbox.approve(_href(panel)))
    assert panel.connection is not None
    assert _leaks(panel, sandbox.client_secret, panel.connection.api_key) == []


def test_panel_reports_old_link_state(sandbox: Sandbox) -> None:
    panel = _panel_for(sandbox)
    old_address = sandbox.approve(_href(panel))
    panel._ui.scopes["disk"].value = True

    _paste_and_connect(panel, old_address)

    assert "does not match" in _status(panel)
    _assert_usable_after_failure(panel, sandbox, old_address)


def test_panel_reports_denied_consent(sandbox: Sandbox) -> None:
    panel = _panel_for(sandbox)
    address = sandbox.approve(_href(panel), deny=True)

    _paste_and_connect(panel, address)

    assert "denied" in _status(panel)
    assert "Approve" in _status(panel)
    _assert_usable_after_failure(panel, sandbox, address)


@pytest.mark.parametrize(
    ("pasted", "words"),
    [
        ("", "Nothing was pasted"),
        ("   ", "Nothing was pasted"),
        ("hello there", "not an address"),
        ("https://example.com/callback?state=abc", "no 'code'"),
    ],
    ids=["empty", "blank", "words", "no-code"],
)
def test_panel_reports_malformed_paste(
    sandbox: Sandbox, pasted: str, words: str
) -> None:
    panel = _panel_for(sandbox)

    _paste_and_connect(panel, pasted)

    assert words in _status(panel)
    _assert_usable_after_failure(panel, sandbox, pasted)


def test_panel_asks_for_missing_secret(sandbox: Sandbox) -> None:
    panel = vn.connect(
        client_id=sandbox.client_id,
        redirect_uri=sandbox.redirect_uri,
        base_url=sandbox.base_url,
        save=False,
    )
    address = sandbox.approve(_href(panel))

    _paste_and_connect(panel, address)

    assert "secret is missing" in _status(panel)
    assert not panel._ui.connect.disabled


def test_panel_uses_typed_secret_and_clears_field(sandbox: Sandbox) -> None:
    panel = vn.connect(
        client_id=sandbox.client_id,
        redirect_uri=sandbox.redirect_uri,
        base_url=sandbox.base_url,
        save=False,
    )
    panel._ui.client_secret.value = sandbox.client_secret
    address = sandbox.approve(_href(panel))

    _paste_and_connect(panel, address)

    assert panel.connection is not None
    assert panel._ui.client_secret.value == ""
    assert _leaks(panel, sandbox.client_secret, panel.connection.api_key) == []


def test_panel_surfaces_unexpected_errors(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    panel = _panel_for(sandbox)
    panel._settings.transport = _raising(RuntimeError("a bug"))
    address = sandbox.approve(_href(panel))

    with caplog.at_level(logging.WARNING):
        _paste_and_connect(panel, address)

    assert "unexpected" in _status(panel)
    assert "a bug" in caplog.text
    assert not panel._ui.connect.disabled
    assert panel._ui.callback.value == ""


# --- item 6: credentials --------------------------------------------------------


def _saved_text(tmp_path: Any) -> str:
    path = tmp_path / "config" / "vibe_notebook" / "credentials.json"
    return path.read_text() if path.exists() else ""


def test_panel_saves_key_on_personal_machine(sandbox: Sandbox, tmp_path: Any) -> None:
    panel = _panel_for(sandbox, save=None)

    _paste_and_connect(panel, sandbox.approve(_href(panel)))

    path = tmp_path / "config" / "vibe_notebook" / "credentials.json"
    assert panel.connection is not None
    assert panel.connection.api_key in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "Saved for next time" in _status(panel)


def test_panel_does_not_save_with_save_false(sandbox: Sandbox, tmp_path: Any) -> None:
    panel = _panel_for(sandbox, save=False)

    _paste_and_connect(panel, sandbox.approve(_href(panel)))

    assert panel.connection is not None
    assert _saved_text(tmp_path) == ""
    assert "Not saved (save=False)" in _status(panel)


def test_panel_does_not_save_on_shared_host(
    sandbox: Sandbox, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BINDER_REQUEST", "v2/gh/example/repo/HEAD")
    panel = _panel_for(sandbox, save=None)

    _paste_and_connect(panel, sandbox.approve(_href(panel)))

    assert panel.connection is not None
    assert _saved_text(tmp_path) == ""
    assert "Binder" in _status(panel) and "save=True" in _status(panel)


def test_panel_saves_on_shared_host_when_asked(
    sandbox: Sandbox, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BINDER_REQUEST", "v2/gh/example/repo/HEAD")
    panel = _panel_for(sandbox, save=True)

    _paste_and_connect(panel, sandbox.approve(_href(panel)))

    assert panel.connection is not None
    assert panel.connection.api_key in _saved_text(tmp_path)


def test_connect_opens_connected_with_saved_key(sandbox: Sandbox) -> None:
    first = _panel_for(sandbox, save=True)
    _paste_and_connect(first, sandbox.approve(_href(first)))
    _session.set_session(None)

    again = _panel_for(sandbox)

    assert again.connection is not None
    assert again.connection.api_key == first.connection.api_key  # type: ignore[union-attr]
    assert again._ui.actions in again.children
    assert "saved" in _status(again)
    assert vn.is_connected()
    again._ui.reconnect.click()
    assert again._ui.form in again.children
    assert _query(_href(again))["state"]


def test_disconnect_forgets_key_and_session(sandbox: Sandbox, tmp_path: Any) -> None:
    panel = _panel_for(sandbox, save=True)
    _paste_and_connect(panel, sandbox.approve(_href(panel)))
    key = panel.connection.api_key  # type: ignore[union-attr]

    removed = vn.disconnect()

    assert removed is True
    assert key not in _saved_text(tmp_path)
    assert not vn.is_connected()
    assert panel.connection is None
    assert "Disconnected" in _status(panel)
    assert _panel_for(sandbox).connection is None


def test_panel_disconnect_button_forgets_key(sandbox: Sandbox, tmp_path: Any) -> None:
    panel = _panel_for(sandbox, save=True)
    _paste_and_connect(panel, sandbox.approve(_href(panel)))
    key = panel.connection.api_key  # type: ignore[union-attr]

    panel._ui.disconnect.click()

    assert key not in _saved_text(tmp_path)
    assert not vn.is_connected()
    assert panel._ui.form in panel.children
    assert _leaks(panel, key) == []


# --- item 7: the embedded sandbox ------------------------------------------------


def test_connect_sandbox_wires_everything() -> None:
    panel = vn.connect(sandbox=True)
    sb = _panel_settings._SANDBOX
    assert sb is not None

    _paste_and_connect(panel, sb.approve(_href(panel)))

    assert panel.connection is not None
    assert panel.connection.base_url == sb.base_url
    assert "sandbox keys end with this kernel" in _status(panel)
    assert vn.connect(sandbox=True)._settings.base_url == sb.base_url
    assert _panel_settings._SANDBOX is sb
    panel._ui.reconnect.click()
    assert _href(panel).startswith(f"{sb.base_url}/v1/connect/authorize?")


def test_connect_sandbox_under_hub_goes_through_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/test/")
    monkeypatch.setattr(_panel_settings, "_SANDBOX", None)
    panel = vn.connect(sandbox=True)
    sb = _panel_settings._SANDBOX
    assert sb is not None
    try:
        port = urlsplit(sb.base_url).port
        href = _href(panel)

        assert href.startswith(f"/user/test/proxy/{port}/v1/connect/authorize?")
        assert _query(href)["redirect_uri"] == "../../callback"
        assert panel._settings.base_url == sb.base_url
        assert panel._flow.catcher is None
    finally:
        sb.stop()


# --- item 8: catching the redirect on localhost ----------------------------------


def _local_partner(sb: Sandbox, port: int) -> tuple[str, str, str]:
    redirect = f"http://127.0.0.1:{port}/vibe/callback"
    partner = Partner("local_partner", "local_secret_value", "Local", [redirect])
    sb.state.partners[partner.client_id] = partner
    return partner.client_id, partner.client_secret, redirect


def test_panel_catches_localhost_redirect(sandbox: Sandbox) -> None:
    client_id, secret, redirect = _local_partner(sandbox, _free_port())
    panel = vn.connect(
        client_id=client_id,
        client_secret=secret,
        redirect_uri=redirect,
        base_url=sandbox.base_url,
        save=False,
    )
    catcher = panel._flow.catcher
    assert catcher is not None
    address = sandbox.approve(_href(panel))

    page = httpx.get(address)
    assert catcher.delivered.wait(10)

    assert page.status_code == 200
    assert "close this tab" in page.text
    assert _query(address)["code"] not in page.text
    assert panel.connection is not None
    assert panel._flow.catcher is None
    assert _leaks(panel, secret, _query(address)["code"]) == []


def test_redirect_catcher_ignores_unrelated_requests(sandbox: Sandbox) -> None:
    port = _free_port()
    got: list[str] = []
    catcher = start_catcher(f"http://localhost:{port}/cb", got.append)
    assert catcher is not None
    try:
        wrong_path = httpx.get(f"http://127.0.0.1:{port}/other?state=x")
        no_query = httpx.get(f"http://127.0.0.1:{port}/cb")
        answer = httpx.get(f"http://127.0.0.1:{port}/cb?code=c1&state=s1")
        assert catcher.delivered.wait(10)
    finally:
        catcher.close()

    assert (wrong_path.status_code, no_query.status_code) == (404, 404)
    assert answer.status_code == 200
    assert got == [f"http://localhost:{port}/cb?code=c1&state=s1"]


def test_panel_falls_back_to_paste_when_port_is_taken(sandbox: Sandbox) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        client_id, secret, redirect = _local_partner(sandbox, taken.getsockname()[1])
        panel = vn.connect(
            client_id=client_id,
            client_secret=secret,
            redirect_uri=redirect,
            base_url=sandbox.base_url,
            save=False,
        )

        _paste_and_connect(panel, sandbox.approve(_href(panel)))

    assert panel._flow.catcher is None
    assert panel.connection is not None


def test_redirect_catcher_skips_remote_and_non_local_uris(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = _free_port()

    remote = start_catcher("https://example.com/cb", print)
    no_port = start_catcher("http://localhost/cb", print)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/x/")
    behind_hub = start_catcher(f"http://127.0.0.1:{port}/cb", print)

    assert (remote, no_port, behind_hub) == (None, None, None)


# --- the hosting helpers --------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("/user/test/", "/user/test/proxy/8123"),
        ("/user/test", "/user/test/proxy/8123"),
        ("user/a b/", "/user/a b/proxy/8123"),
        ("/", "/proxy/8123"),
        ("", "http://127.0.0.1:8123"),
    ],
    ids=["slashes", "no-trailing", "no-leading", "root", "local"],
)
def test_hosting_browser_url_for_port(
    monkeypatch: pytest.MonkeyPatch, prefix: str, expected: str
) -> None:
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", prefix)

    assert _hosting.browser_url_for_port(8123) == expected


@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("http://localhost:8765/cb", 8765),
        ("http://127.0.0.1:9/x", 9),
        ("https://localhost:8765/cb", None),
        ("http://example.com:8765/cb", None),
        ("http://localhost/cb", None),
    ],
    ids=["localhost", "loopback", "https", "remote", "no-port"],
)
def test_hosting_local_port(url: str, port: int | None) -> None:
    assert _hosting.local_port(url) == port


def test_hosting_rebase_url() -> None:
    url = "http://127.0.0.1:5000/v1/connect/authorize?x=1"

    moved = _hosting.rebase_url(url, "http://127.0.0.1:5000", "/user/t/proxy/5000")

    assert moved == "/user/t/proxy/5000/v1/connect/authorize?x=1"
    assert _hosting.rebase_url(url, "http://other:1", "/p") == url


def test_hosting_knows_colab(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-1")

    assert _hosting.is_colab()
    assert not _hosting.can_browser_reach_kernel_localhost()
    assert os.environ["COLAB_RELEASE_TAG"] == "release-1"


def test_panel_catches_redirect_on_running_loop(sandbox: Sandbox) -> None:
    client_id, secret, redirect = _local_partner(sandbox, _free_port())

    async def scenario() -> ConnectPanel:
        panel = vn.connect(
            client_id=client_id,
            client_secret=secret,
            redirect_uri=redirect,
            base_url=sandbox.base_url,
            save=False,
        )
        catcher = panel._flow.catcher
        assert catcher is not None
        address = await asyncio.to_thread(sandbox.approve, _href(panel))
        page = await asyncio.to_thread(httpx.get, address)
        assert page.status_code == 200
        while panel._flow.task is None:
            await asyncio.sleep(0)
        await panel.wait()
        return panel

    panel = asyncio.run(scenario())

    assert panel.connection is not None
    assert "Connected to" in _status(panel)


def test_new_panel_takes_over_the_redirect_port(sandbox: Sandbox) -> None:
    client_id, secret, redirect = _local_partner(sandbox, _free_port())
    options: dict[str, Any] = {"client_id": client_id, "client_secret": secret}

    first = vn.connect(redirect_uri=redirect, save=False, **options)
    second = vn.connect(redirect_uri=redirect, save=False, **options)

    assert first._flow.catcher is None
    assert second._flow.catcher is not None


def test_connect_sandbox_accepts_a_registered_localhost_redirect() -> None:
    redirect = "http://localhost:8765/callback"

    panel = vn.connect(sandbox=True, redirect_uri=redirect)

    assert _query(_href(panel))["redirect_uri"] == redirect


def test_panel_suggests_user_scope_for_names(sandbox: Sandbox) -> None:
    panel = _panel_for(sandbox)
    _paste_and_connect(panel, sandbox.approve(_href(panel)))

    assert "user_basic" in _status(panel)
    panel._ui.reconnect.click()
    panel._ui.scopes["user_basic"].value = True
    _paste_and_connect(panel, sandbox.approve(_href(panel)))
    assert "Tip:" not in _status(panel)
