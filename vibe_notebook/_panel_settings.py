"""Where the connect panel's partner settings come from, and its save policy."""

from __future__ import annotations

import atexit
import logging
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._credentials import (
    is_shared_host,
    resolve_base_url,
    save_connection,
    shared_host_name,
)
from ._hosting import browser_url_for_port, hub_prefix
from ._scopes import DEFAULT_SCOPES
from .errors import ConfigurationError

if TYPE_CHECKING:
    import httpx

    from ._connect import Connection
    from .sandbox import Sandbox

logger = logging.getLogger(__name__)

_SANDBOX: Sandbox | None = None


@dataclass
class Settings:
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


def resolve_settings(
    client_id: str | None,
    client_secret: str | None,
    redirect_uri: str | None,
    base_url: str | None,
    sandbox: bool,
    save: bool | None,
) -> Settings:
    """Arguments first, then the environment; the sandbox brings its own."""
    if sandbox:
        return _sandbox_settings(redirect_uri, save)

    base = resolve_base_url(base_url)
    return Settings(
        client_id=_pick(client_id, "VIBE_CLIENT_ID"),
        client_secret=_pick(client_secret, "VIBE_CLIENT_SECRET"),
        redirect_uri=_pick(redirect_uri, "VIBE_REDIRECT_URI"),
        base_url=base,
        browser_base_url=base,
        save=save,
    )


def _pick(value: str | None, env: str) -> str:
    return (value or os.environ.get(env) or "").strip()


def _sandbox_settings(redirect_uri: str | None, save: bool | None) -> Settings:
    """The embedded sandbox's partner; ``redirect_uri`` may pick another one
    registered for it (``http://localhost:8765/callback`` lets the panel catch
    the redirect)."""
    sandbox = _shared_sandbox()
    if redirect_uri is None:
        redirect_uri = sandbox.redirect_uri
    if hub_prefix() is not None:
        redirect_uri = _register_proxy_redirect(sandbox)
    return Settings(
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


def save_note(settings: Settings, conn: Connection) -> str:
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
