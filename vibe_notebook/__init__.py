"""Bitrix24 CRM and task data in Jupyter, through the Vibe Platform.

Heavy parts (ipywidgets, the sandbox, nest-asyncio2) load on first use, so
``import vibe_notebook`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import errors

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "AsyncClient": "._client",
    "Client": "._client",
    "authorize_url": "._connect",
    "parse_callback": "._connect",
    "exchange_code": "._connect",
    "Connection": "._connect",
    "SCOPES": "._scopes",
    "connect": "._panel",
    "disconnect": "._panel",
    "ConnectPanel": "._panel",
    "deals": "._resources",
    "leads": "._resources",
    "contacts": "._resources",
    "companies": "._resources",
    "pipelines": "._resources",
    "stages": "._resources",
    "tasks": "._resources",
    "users": "._resources",
    "funnel": "._funnel",
    "is_connected": "._session",
    "use": "._session",
}

__all__ = [
    "__version__",
    "errors",
    "AsyncClient",
    "Client",
    "authorize_url",
    "parse_callback",
    "exchange_code",
    "Connection",
    "SCOPES",
    "connect",
    "disconnect",
    "ConnectPanel",
    "deals",
    "leads",
    "contacts",
    "companies",
    "pipelines",
    "stages",
    "tasks",
    "users",
    "funnel",
    "is_connected",
    "use",
]

if TYPE_CHECKING:
    from ._client import AsyncClient, Client
    from ._connect import Connection, authorize_url, exchange_code, parse_callback
    from ._funnel import funnel
    from ._panel import ConnectPanel, connect, disconnect
    from ._resources import (
        companies,
        contacts,
        deals,
        leads,
        pipelines,
        stages,
        tasks,
        users,
    )
    from ._scopes import SCOPES
    from ._session import is_connected, use


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'vibe_notebook' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
