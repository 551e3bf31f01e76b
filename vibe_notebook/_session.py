"""The connected session that module-level getters such as vn.deals() use."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from .errors import ConfigurationError, NotConnectedError

if TYPE_CHECKING:
    from ._client import Client

logger = logging.getLogger(__name__)

_current: Client | None = None


def set_session(client: Client | None) -> None:
    global _current
    _current = client


def use(client: Client) -> Client:
    """Make ``client`` the session that ``vn.deals()`` and its siblings use.

    The panel does this after Connect; call it yourself when you built a
    client in code, for example from a key kept in a secret store.

    Examples
    --------
    >>> client = vn.use(vn.Client(api_key=key, base_url=url))  # doctest: +SKIP
    >>> vn.deals().shape  # doctest: +SKIP
    """
    from ._client import Client

    if not isinstance(client, Client):
        raise ConfigurationError(
            f"vn.use() takes a vn.Client, not {type(client).__name__}. "
            "Build one with vn.Client(api_key=..., base_url=...)."
        )
    set_session(client)
    return client


def get_session() -> Client:
    """Return the session, connecting from VIBE_API_KEY or a saved key."""
    if _current is None:
        set_session(_session_from_key())
    if _current is None:
        raise NotConnectedError(
            "No portal is connected yet. Run a cell with `vn.connect()` and "
            "finish the Connect step (or `vn.connect(sandbox=True)` to try "
            "the embedded sandbox), then run this cell again."
        )
    return _current


def is_connected() -> bool:
    return _current is not None


def _session_from_key() -> Client | None:
    """A client from VIBE_API_KEY or a saved connection, when there is one."""
    from ._client import Client
    from ._credentials import load_connection
    from ._settings import resolve_base_url

    base_url = resolve_base_url()
    if os.environ.get("VIBE_API_KEY", "").strip():
        logger.info("Using VIBE_API_KEY for %s", base_url)
        return Client.from_env()

    saved = load_connection(base_url)
    if saved is None:
        return None
    logger.info("Using the key saved for %s (%s)", saved.portal_domain, base_url)
    return Client.from_connection(saved)
