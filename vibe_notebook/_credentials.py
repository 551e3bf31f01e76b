"""Where API keys come from and where a connection may be kept on disk."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import stat
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from ._hosting import is_colab
from ._settings import DEFAULT_BASE_URL, resolve_base_url
from .errors import ConfigurationError, VibeWarning

if TYPE_CHECKING:
    from ._connect import Connection

__all__ = [
    "DEFAULT_BASE_URL",
    "credentials_path",
    "forget_connection",
    "is_shared_host",
    "list_connections",
    "load_connection",
    "mask_key",
    "require_api_key",
    "resolve_api_key",
    "resolve_base_url",
    "save_connection",
    "shared_host_name",
]

logger = logging.getLogger(__name__)

_KEY_PREFIX = re.compile(r"^vibe_[a-z]+_")
_ELLIPSIS = "…"
_SHOWN_TAIL = 4
_SHOWN_HEAD = 2
_MIN_HIDDEN = 8

_PACKAGE = str(Path(__file__).parent)

_BINDER_ENV = ("BINDER_SERVICE_HOST", "BINDER_REQUEST", "BINDER_REPO_URL")
_HUB_ENV = ("JUPYTERHUB_SERVICE_PREFIX", "JUPYTERHUB_API_TOKEN")


def mask_key(key: str | None) -> str:
    """Return a key with its middle hidden, safe for reprs, logs and the panel.

    Parameters
    ----------
    key
        An API key such as ``vibe_api_ab12...f9d2``, or None.

    Returns
    -------
    str
        The type prefix, the next two characters, an ellipsis and the last
        four: ``"vibe_api_ab…f9d2"``. Short keys show only the prefix, so
        masking never reveals most of a key; ``"(no key)"`` for None or "".
    """
    if not key:
        return "(no key)"

    match = _KEY_PREFIX.match(key)
    prefix = match.group(0) if match else ""
    rest = key[len(prefix) :]
    if len(rest) < _SHOWN_HEAD + _SHOWN_TAIL + _MIN_HIDDEN:
        return f"{prefix}{_ELLIPSIS}"

    return f"{prefix}{rest[:_SHOWN_HEAD]}{_ELLIPSIS}{rest[-_SHOWN_TAIL:]}"


def resolve_api_key(
    api_key: str | None = None, base_url: str | None = None
) -> str | None:
    """Find the API key to use, or None when there is none.

    Looks at, in order: the ``api_key`` argument, the ``VIBE_API_KEY``
    environment variable, then the newest key saved for ``base_url`` (see
    :func:`save_connection`). None means the user has to connect first.
    """
    if api_key and api_key.strip():
        return api_key.strip()

    from_env = os.environ.get("VIBE_API_KEY", "").strip()
    if from_env:
        logger.debug("Using the API key from VIBE_API_KEY")
        return from_env

    saved = load_connection(base_url)
    if saved is not None:
        logger.debug("Using the key saved for %s", saved.portal_domain)
        return saved.api_key

    return None


def require_api_key(api_key: str | None, base_url: str) -> str:
    """Like :func:`resolve_api_key`, but raise when there is no usable key."""
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


def credentials_path() -> Path:
    """Return the file where connections are saved (it may not exist yet)."""
    return platformdirs.user_config_path("vibe_notebook") / "credentials.json"


def save_connection(conn: Connection) -> Path | None:
    """Keep a connection on disk so later sessions need not connect again.

    The file is ``credentials.json`` in the user config directory, mode 0600
    in a 0700 directory, written atomically. It holds one entry per portal and
    base URL; saving replaces that entry and keeps every other one.

    Returns
    -------
    Path or None
        The file written, or None when it could not be written (a read-only
        home, for example). Failure is logged as a WARNING, never raised: the
        connection still works for this session.
    """
    path = credentials_path()
    try:
        entries, corrupt = _read_entries(path)
        if corrupt:
            _set_aside(path)

        entries = [e for e in entries if not _same_slot(e, conn)]
        entries.append(_entry_from(conn))
        _write_entries(path, entries)
    except OSError as exc:
        logger.warning(
            "Could not save the connection to %s in %s (%s). It works for this "
            "session only; connect again next time, or set VIBE_API_KEY.",
            conn.portal_domain,
            path,
            exc.strerror or type(exc).__name__,
        )
        return None

    logger.info("Saved the connection to %s in %s", conn.portal_domain, path)
    return path


def load_connection(
    base_url: str | None = None, *, portal_domain: str | None = None
) -> Connection | None:
    """Return the newest saved connection for a base URL, or None.

    ``base_url`` defaults to the resolved one (VIBE_BASE_URL or production);
    ``portal_domain`` narrows the choice when several portals are saved. A
    missing, unreadable or corrupt file gives None (with a warning for the
    last two), never an exception.
    """
    matches = list_connections(base_url, portal_domain=portal_domain)
    return matches[-1] if matches else None


def list_connections(
    base_url: str | None = None, *, portal_domain: str | None = None
) -> list[Connection]:
    """Return the saved connections for a base URL, oldest first."""
    wanted = _normalize_url(resolve_base_url(base_url))
    entries = _entries_for_reading(credentials_path())
    found = [
        e
        for e in entries
        if _normalize_url(e.get("base_url")) == wanted
        and (portal_domain is None or e.get("portal_domain") == portal_domain)
    ]
    found.sort(key=lambda e: str(e.get("saved_at") or ""))
    return [c for c in map(_connection_from, found) if c is not None]


def forget_connection(
    base_url: str | None = None, *, portal_domain: str | None = None
) -> bool:
    """Delete saved keys for a base URL (and portal, if given).

    Returns
    -------
    bool
        True when something was deleted. False when nothing matched or the
        file could not be rewritten (logged as a WARNING).
    """
    path = credentials_path()
    wanted = _normalize_url(resolve_base_url(base_url))
    try:
        entries, corrupt = _read_entries(path)
        kept = [
            e
            for e in entries
            if _normalize_url(e.get("base_url")) != wanted
            or (portal_domain is not None and e.get("portal_domain") != portal_domain)
        ]
        if corrupt or len(kept) == len(entries):
            return False

        _write_entries(path, kept)
    except OSError as exc:
        logger.warning(
            "Could not remove the saved key from %s (%s). Delete the file by "
            "hand to be sure the key is gone.",
            path,
            exc.strerror or type(exc).__name__,
        )
        return False

    logger.info(
        "Removed %d saved connection(s) from %s", len(entries) - len(kept), path
    )
    return True


def shared_host_name() -> str | None:
    """Name the shared or throwaway host the kernel runs on, or None.

    Binder, JupyterHub and Colab are recognised from their environment
    variables (and Colab from its already-imported module); nothing is
    imported to find out.
    """
    if any(os.environ.get(name) for name in _BINDER_ENV):
        return "Binder"
    if any(os.environ.get(name) for name in _HUB_ENV):
        return "JupyterHub"
    if is_colab():
        return "Colab"

    return None


def is_shared_host() -> bool:
    """True on Binder, JupyterHub or Colab, where keys are not saved unasked."""
    return shared_host_name() is not None


def _read_entries(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """Return (entries, corrupt); a missing file is empty. OSError propagates."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], False

    _warn_if_exposed(path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        _warn_corrupt(path, f"it is not valid JSON ({exc.msg}, line {exc.lineno})")
        return [], True

    connections = document.get("connections") if isinstance(document, dict) else None
    if not isinstance(connections, list):
        _warn_corrupt(path, "it has no 'connections' list")
        return [], True

    return [e for e in connections if isinstance(e, dict)], False


def _entries_for_reading(path: Path) -> list[dict[str, Any]]:
    try:
        return _read_entries(path)[0]
    except OSError as exc:
        _warn(
            f"Could not read the saved keys in {path} "
            f"({exc.strerror or type(exc).__name__}); ignoring them. "
            "Fix the file's permissions or delete it, then connect again."
        )
        return []


def _warn_if_exposed(path: Path) -> None:
    if sys.platform == "win32":
        return

    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        _warn(
            f"The saved keys in {path} can be read by other users "
            f"(mode {mode:o}). Run `chmod 600 {path}` to protect them."
        )


def _warn_corrupt(path: Path, reason: str) -> None:
    _warn(
        f"The saved keys in {path} could not be read because {reason}; "
        "ignoring them. Connect again: the next save sets the old file "
        "aside as credentials.json.corrupt and writes a fresh one."
    )


def _warn(message: str) -> None:
    """Warn with the stack level of the first caller outside vibe_notebook."""
    level, frame = 2, sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(VibeWarning(message), stacklevel=level)


def _set_aside(path: Path) -> None:
    """Keep a corrupt file next to the new one instead of overwriting it."""
    os.replace(path, path.with_name(path.name + ".corrupt"))


def _write_entries(path: Path, entries: list[dict[str, Any]]) -> None:
    """Write the file atomically, mode 0600, in a 0700 directory."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if sys.platform != "win32":
        os.chmod(path.parent, 0o700)

    payload = json.dumps({"connections": entries}, indent=2, ensure_ascii=False)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(payload + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _entry_from(conn: Connection) -> dict[str, Any]:
    return {
        "base_url": _normalize_url(conn.base_url),
        "portal_domain": conn.portal_domain,
        "portal_name": conn.portal_name,
        "api_key": conn.api_key,
        "scopes": list(conn.scopes),
        "user_name": conn.user_name,
        "user_email": conn.user_email,
        "saved_at": datetime.now(UTC).isoformat(timespec="microseconds"),
    }


def _connection_from(entry: dict[str, Any]) -> Connection | None:
    """Rebuild a Connection from a saved entry; None when the entry is damaged."""
    from ._connect import Connection

    key, domain = entry.get("api_key"), entry.get("portal_domain")
    scopes = entry.get("scopes") or []
    if not (isinstance(key, str) and key and isinstance(domain, str)):
        return None
    if not (isinstance(scopes, list) and all(isinstance(s, str) for s in scopes)):
        return None

    return Connection(
        api_key=key,
        base_url=str(entry.get("base_url") or ""),
        portal_domain=domain,
        portal_name=str(entry.get("portal_name") or ""),
        scopes=tuple(scopes),
        user_name=str(entry.get("user_name") or ""),
        user_email=str(entry.get("user_email") or ""),
    )


def _same_slot(entry: dict[str, Any], conn: Connection) -> bool:
    return (
        _normalize_url(entry.get("base_url")) == _normalize_url(conn.base_url)
        and entry.get("portal_domain") == conn.portal_domain
    )


def _normalize_url(url: Any) -> str:
    return str(url or "").strip().rstrip("/").lower()
