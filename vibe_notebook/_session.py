"""The connected session that module-level getters such as vn.deals() use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import NotConnectedError

if TYPE_CHECKING:
    from ._client import Client

_current: Client | None = None


def set_session(client: Client | None) -> None:
    global _current
    _current = client


def get_session() -> Client:
    if _current is None:
        raise NotConnectedError(
            "No portal is connected yet. Run a cell with `vn.connect()` and "
            "finish the Connect step (or `vn.connect(sandbox=True)` to try "
            "the embedded sandbox), then run this cell again."
        )
    return _current


def is_connected() -> bool:
    return _current is not None
