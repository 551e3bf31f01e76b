"""Where the client's base URL and API key come from, and how a key is shown."""

from __future__ import annotations

import os
import re

from .errors import ConfigurationError

__all__ = [
    "DEFAULT_BASE_URL",
    "mask_key",
    "require_api_key",
    "resolve_api_key",
    "resolve_base_url",
]

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


def resolve_api_key(api_key: str | None, base_url: str) -> str | None:
    """Return the key: argument, then VIBE_API_KEY, then a saved connection."""
    if api_key and api_key.strip():
        return api_key.strip()

    try:
        from ._credentials import resolve_api_key as resolve_saved
    except ImportError:  # pragma: no cover - the credentials module is optional
        return os.environ.get("VIBE_API_KEY", "").strip() or None
    return resolve_saved(None, base_url)


def require_api_key(api_key: str | None, base_url: str) -> str:
    """Like resolve_api_key, but raise a clear error when there is no key."""
    key = resolve_api_key(api_key, base_url)
    if key is None:
        raise ConfigurationError(
            f"No API key for {base_url}. Pass api_key='vibe_api_...', set the "
            "VIBE_API_KEY environment variable, or run vn.connect() first."
        )
    if any(ch.isspace() or not ch.isprintable() for ch in key):
        raise ConfigurationError(
            "The API key contains spaces or control characters. Copy it again "
            "without line breaks."
        )
    return key


def mask_key(key: str | None) -> str:
    """Return the key with its middle hidden, as in ``vibe_api_ab…f9d2``."""
    try:
        from ._credentials import mask_key as mask
    except ImportError:  # pragma: no cover - the credentials module is optional
        return _mask_locally(key)
    return mask(key)


def _mask_locally(key: str | None) -> str:
    if not key:
        return "(no key)"
    match = re.match(r"vibe_[a-z]+_", key)
    prefix = match.group(0) if match else ""
    rest = key[len(prefix) :]
    if len(rest) < 14:
        return f"{prefix}…"
    return f"{prefix}{rest[:2]}…{rest[-4:]}"
