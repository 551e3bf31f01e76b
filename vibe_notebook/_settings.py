"""Where the platform address comes from: argument, VIBE_BASE_URL, default."""

from __future__ import annotations

import os

from .errors import ConfigurationError

__all__ = ["DEFAULT_BASE_URL", "resolve_base_url"]

DEFAULT_BASE_URL = "https://vibecode.bitrix24.tech"


def resolve_base_url(base_url: str | None = None) -> str:
    """Return the platform address: argument, then VIBE_BASE_URL, then default.

    A trailing slash or ``/v1`` is dropped, since request paths start with
    ``/v1/``.

    Raises
    ------
    ConfigurationError
        When the address is not an ``http://`` or ``https://`` URL.
    """
    value = (base_url or os.environ.get("VIBE_BASE_URL") or "").strip()
    value = (value or DEFAULT_BASE_URL).rstrip("/")
    if not value.lower().startswith(("http://", "https://")):
        raise ConfigurationError(
            f"The base URL {value!r} is not an http:// or https:// address. "
            f"Pass base_url='{DEFAULT_BASE_URL}' (or a sandbox's base_url), or "
            "fix VIBE_BASE_URL."
        )

    if value.endswith("/v1"):
        value = value[: -len("/v1")]
    return value
