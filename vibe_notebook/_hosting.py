"""Where the notebook runs: local Jupyter, JupyterHub/Binder behind a proxy, Colab."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})


def hub_prefix() -> str | None:
    """The JupyterHub service prefix (``/user/name/``), or None outside a hub.

    JupyterHub and Binder set ``JUPYTERHUB_SERVICE_PREFIX`` in the kernel's
    environment; the user's browser reaches the single-user server under it.
    """
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "").strip()
    if not prefix:
        return None

    inner = prefix.strip("/")
    return f"/{inner}/" if inner else "/"


def is_colab() -> bool:
    """True inside Google Colab, whose browser cannot reach the kernel's ports."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def browser_url_for_port(port: int) -> str:
    """The address under which the user's browser reaches a kernel-side port.

    Locally that is ``http://127.0.0.1:<port>``. Under JupyterHub or Binder the
    browser is elsewhere, so the address goes through jupyter-server-proxy:
    ``<prefix>proxy/<port>`` (a path on the hub's own origin).
    """
    prefix = hub_prefix()
    if prefix is None:
        return f"http://127.0.0.1:{port}"

    return f"{prefix}proxy/{port}"


def can_browser_reach_kernel_localhost() -> bool:
    """True when the browser and the kernel share a machine (no hub, no Colab)."""
    return hub_prefix() is None and not is_colab()


def local_port(url: str) -> int | None:
    """The port of an ``http://localhost:<port>/...`` address, else None."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in _LOCAL_HOSTS:
        return None

    try:
        return parts.port
    except ValueError:
        return None


def rebase_url(url: str, kernel_base: str, browser_base: str) -> str:
    """Rewrite an address the kernel built into the one the browser must open.

    The kernel reaches a local service at ``kernel_base``; under a hub the
    browser reaches the same service at ``browser_base`` (a proxy path).
    """
    kernel_base, browser_base = kernel_base.rstrip("/"), browser_base.rstrip("/")
    if kernel_base == browser_base or not url.startswith(kernel_base):
        return url

    return browser_base + url[len(kernel_base) :]
