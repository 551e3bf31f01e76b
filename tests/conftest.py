"""Shared test settings: no test reads the real environment or saved keys."""

from __future__ import annotations

import pytest

_VIBE_ENV = (
    "VIBE_API_KEY",
    "VIBE_BASE_URL",
    "VIBE_CLIENT_ID",
    "VIBE_CLIENT_SECRET",
    "VIBE_REDIRECT_URI",
    "VIBE_SANDBOX",
    "JUPYTERHUB_SERVICE_PREFIX",
    "BINDER_SERVICE_HOST",
)


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch, tmp_path_factory):
    for name in _VIBE_ENV:
        monkeypatch.delenv(name, raising=False)
    config_home = tmp_path_factory.mktemp("xdg-config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
