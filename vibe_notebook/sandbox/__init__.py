"""An embedded, faithful emulator of the Vibe Platform, for demos and tests.

>>> from vibe_notebook.sandbox import Sandbox
>>> with Sandbox() as sb:  # doctest: +SKIP
...     key = sb.issue_key()
"""

from __future__ import annotations

from ._app import create_app
from ._limits import modeled_floor
from ._server import Sandbox
from ._state import SandboxConfig, SandboxHTTPError, SandboxState

__all__ = [
    "Sandbox",
    "SandboxConfig",
    "SandboxHTTPError",
    "SandboxState",
    "create_app",
    "modeled_floor",
]
