"""Credentials: key masking, key resolution, the saved-connections file."""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from vibe_notebook._connect import Connection
from vibe_notebook._credentials import (
    credentials_path,
    forget_connection,
    is_shared_host,
    list_connections,
    load_connection,
    mask_key,
    resolve_api_key,
    save_connection,
    shared_host_name,
)
from vibe_notebook.errors import VibeWarning

PROD = "https://vibecode.bitrix24.tech"
LOCAL = "http://127.0.0.1:8123"
KEY_A = "vibe_api_ab0123456789abcdef0123f9d2"
KEY_B = "vibe_api_cd9876543210fedcba9876aa11"

HOST_ENV = (
    "BINDER_SERVICE_HOST",
    "BINDER_REQUEST",
    "BINDER_REPO_URL",
    "JUPYTERHUB_SERVICE_PREFIX",
    "JUPYTERHUB_API_TOKEN",
    "COLAB_RELEASE_TAG",
)

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for name in ("VIBE_API_KEY", "VIBE_BASE_URL", *HOST_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    return tmp_path


def _conn(key: str = KEY_A, **overrides: Any) -> Connection:
    fields: dict[str, Any] = {
        "api_key": key,
        "base_url": PROD,
        "portal_domain": "acme.bitrix24.com",
        "portal_name": "Acme Ltd",
        "scopes": ("crm", "task"),
        "user_name": "Anna Smith",
        "user_email": "anna@acme.example",
    }
    fields.update(overrides)
    return Connection(**fields)


def _saved_entries() -> list[dict[str, Any]]:
    document = json.loads(credentials_path().read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = document["connections"]
    return entries


# --- mask_key -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        pytest.param(KEY_A, "vibe_api_ab…f9d2", id="api-key"),
        pytest.param("vibe_live_xy0123456789abcd5678", "vibe_live_xy…5678", id="live"),
        pytest.param("vibe_api_short", "vibe_api_…", id="short-key"),
        pytest.param("plainsecretvalue1234", "pl…1234", id="no-prefix"),
        pytest.param("abc", "…", id="tiny"),
        pytest.param("", "(no key)", id="empty"),
        pytest.param(None, "(no key)", id="none"),
    ],
)
def test_mask_key_hides_the_middle(key: str | None, masked: str) -> None:
    assert mask_key(key) == masked


def test_mask_key_never_shows_most_of_a_key() -> None:
    masked = mask_key(KEY_A)

    assert len(masked) < len(KEY_A) // 2 + len("vibe_api_")
    assert KEY_A[11:-4] not in masked


# --- resolve_api_key ------------------------------------------------------------


def test_resolve_api_key_prefers_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBE_API_KEY", KEY_B)
    save_connection(_conn(KEY_B))

    assert resolve_api_key(f"  {KEY_A} ") == KEY_A


def test_resolve_api_key_then_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBE_API_KEY", KEY_B)
    save_connection(_conn(KEY_A))

    assert resolve_api_key() == KEY_B


def test_resolve_api_key_then_saved_file_for_that_base_url() -> None:
    save_connection(_conn(KEY_A, base_url=PROD))
    save_connection(_conn(KEY_B, base_url=LOCAL))

    assert resolve_api_key(base_url=LOCAL) == KEY_B
    assert resolve_api_key() == KEY_A


def test_resolve_api_key_saved_file_follows_vibe_base_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    save_connection(_conn(KEY_B, base_url=LOCAL))
    monkeypatch.setenv("VIBE_BASE_URL", LOCAL + "/")

    assert resolve_api_key() == KEY_B


def test_resolve_api_key_none_when_nothing_known() -> None:
    assert resolve_api_key() is None
    assert resolve_api_key("   ") is None


# --- save / load ------------------------------------------------------------------


def test_credentials_path_honours_xdg_config_home(config_home: Path) -> None:
    assert credentials_path() == config_home / "vibe_notebook" / "credentials.json"


@posix_only
def test_save_connection_writes_private_file(config_home: Path) -> None:
    path = save_connection(_conn())

    assert path == credentials_path()
    assert path is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["credentials.json"]


def test_save_connection_file_layout() -> None:
    save_connection(_conn())

    (entry,) = _saved_entries()
    assert set(entry) == {
        "base_url",
        "portal_domain",
        "portal_name",
        "api_key",
        "scopes",
        "user_name",
        "user_email",
        "saved_at",
    }
    assert entry["api_key"] == KEY_A
    assert entry["scopes"] == ["crm", "task"]


def test_load_connection_round_trips() -> None:
    save_connection(_conn())

    loaded = load_connection(PROD)

    assert loaded == _conn()


def test_save_connection_one_entry_per_portal_and_base_url() -> None:
    save_connection(_conn(KEY_A))
    save_connection(_conn(KEY_B))
    save_connection(_conn(KEY_A, portal_domain="beta.bitrix24.com"))
    save_connection(_conn(KEY_A, base_url=LOCAL))

    slots = sorted((e["base_url"], e["portal_domain"]) for e in _saved_entries())
    assert slots == [
        ("http://127.0.0.1:8123", "acme.bitrix24.com"),
        ("https://vibecode.bitrix24.tech", "acme.bitrix24.com"),
        ("https://vibecode.bitrix24.tech", "beta.bitrix24.com"),
    ]
    acme = load_connection(PROD, portal_domain="acme.bitrix24.com")
    assert acme is not None and acme.api_key == KEY_B


def test_load_connection_newest_wins() -> None:
    save_connection(_conn(KEY_A, portal_domain="old.bitrix24.com"))
    save_connection(_conn(KEY_B, portal_domain="new.bitrix24.com"))

    newest = load_connection(PROD)

    assert newest is not None
    assert newest.portal_domain == "new.bitrix24.com"
    assert [c.portal_domain for c in list_connections(PROD)] == [
        "old.bitrix24.com",
        "new.bitrix24.com",
    ]


def test_load_connection_none_without_file() -> None:
    assert load_connection(PROD) is None
    assert list_connections(PROD) == []


def test_save_connection_keeps_unknown_entries() -> None:
    path = credentials_path()
    path.parent.mkdir(parents=True)
    foreign = {"base_url": "https://other.example", "note": "kept"}
    path.write_text(json.dumps({"connections": [foreign]}), encoding="utf-8")
    os.chmod(path, 0o600)

    save_connection(_conn())

    assert foreign in _saved_entries()
    assert len(_saved_entries()) == 2


@posix_only
def test_load_connection_warns_about_readable_file() -> None:
    path = save_connection(_conn())
    assert path is not None
    os.chmod(path, 0o644)

    with pytest.warns(VibeWarning, match="chmod 600") as record:
        loaded = load_connection(PROD)

    assert loaded is not None
    assert record[0].filename == __file__
    assert KEY_A not in str(record[0].message)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("{not json", id="not-json"),
        pytest.param('["a list"]', id="not-an-object"),
        pytest.param('{"connections": 5}', id="no-list"),
    ],
)
def test_load_connection_corrupt_file_warns_and_is_empty(content: str) -> None:
    path = credentials_path()
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    os.chmod(path, 0o600)

    with pytest.warns(VibeWarning, match="could not be read"):
        assert load_connection(PROD) is None


def test_load_connection_skips_damaged_entries() -> None:
    save_connection(_conn())
    document = {"connections": [*_saved_entries(), {"api_key": 5}, "junk"]}
    credentials_path().write_text(json.dumps(document), encoding="utf-8")

    assert [c.api_key for c in list_connections(PROD)] == [KEY_A]


def test_save_connection_sets_corrupt_file_aside() -> None:
    path = credentials_path()
    path.parent.mkdir(parents=True)
    path.write_text("{broken", encoding="utf-8")
    os.chmod(path, 0o600)

    with pytest.warns(VibeWarning):
        saved = save_connection(_conn())

    assert saved == path
    assert path.with_name("credentials.json.corrupt").read_text() == "{broken"
    assert load_connection(PROD) == _conn()


def test_save_connection_failure_logs_and_returns_none(
    config_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (config_home / "vibe_notebook").write_text("a file where the folder should be")
    caplog.set_level(logging.WARNING, logger="vibe_notebook")

    result = save_connection(_conn())

    assert result is None
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "acme.bitrix24.com" in record.getMessage()
    assert "this session only" in record.getMessage()
    assert KEY_A not in caplog.text


def test_save_connection_logs_never_show_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="vibe_notebook")

    save_connection(_conn())
    resolve_api_key()

    assert "acme.bitrix24.com" in caplog.text
    assert KEY_A not in caplog.text


def test_forget_connection_removes_only_matching_entries() -> None:
    save_connection(_conn(KEY_A))
    save_connection(_conn(KEY_A, portal_domain="beta.bitrix24.com"))
    save_connection(_conn(KEY_B, base_url=LOCAL))

    removed = forget_connection(PROD, portal_domain="beta.bitrix24.com")

    assert removed
    assert [c.portal_domain for c in list_connections(PROD)] == ["acme.bitrix24.com"]
    assert forget_connection(PROD)
    assert load_connection(PROD) is None
    assert load_connection(LOCAL) is not None


def test_forget_connection_false_when_nothing_saved() -> None:
    assert not forget_connection(PROD)


# --- shared hosts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "host"),
    [
        pytest.param("BINDER_SERVICE_HOST", "Binder", id="binder-service"),
        pytest.param("BINDER_REQUEST", "Binder", id="binder-request"),
        pytest.param("BINDER_REPO_URL", "Binder", id="binder-repo"),
        pytest.param("JUPYTERHUB_SERVICE_PREFIX", "JupyterHub", id="hub-prefix"),
        pytest.param("JUPYTERHUB_API_TOKEN", "JupyterHub", id="hub-token"),
        pytest.param("COLAB_RELEASE_TAG", "Colab", id="colab-env"),
    ],
)
def test_is_shared_host_from_environment(
    monkeypatch: pytest.MonkeyPatch, variable: str, host: str
) -> None:
    monkeypatch.setenv(variable, "x")

    assert is_shared_host()
    assert shared_host_name() == host


def test_is_shared_host_colab_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))

    assert shared_host_name() == "Colab"


def test_is_shared_host_false_on_a_laptop() -> None:
    assert not is_shared_host()
    assert shared_host_name() is None
