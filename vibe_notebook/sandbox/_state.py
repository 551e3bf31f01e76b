"""The sandbox's in-memory platform: partners, portals, keys and settings."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class SandboxHTTPError(Exception):
    """An error the sandbox answers with the platform's error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {
            "success": False,
            "error": {"code": self.code, "message": self.message, **self.extra},
        }


@dataclass
class SandboxConfig:
    """Every knob of the sandbox; defaults are the `test` profile."""

    seed: int = 42
    deals: int = 1500
    profile: str = "test"
    quirks: bool = True
    requests_per_minute: int = 300
    max_in_flight: int = 4
    queue_size: int = 16
    bucket_burst: int = 50
    bucket_drain_per_second: float = 2.0
    code_ttl_seconds: float = 600.0
    keys_per_portal: int = 5
    fault_seed: int = 0
    fault_rates: dict[str, float] = field(default_factory=dict)


@dataclass
class Partner:
    client_id: str
    client_secret: str
    name: str
    redirect_uris: list[str]
    enabled: bool = True


@dataclass
class KeyRecord:
    key: str
    portal_domain: str
    scopes: frozenset[str]
    user_id: int
    client_id: str | None
    created_at: float


@dataclass
class Portal:
    domain: str
    name: str
    tables: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)


class SandboxState:
    """Everything one running sandbox knows; shared by all its routes."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.config = config or SandboxConfig()
        self.clock = clock
        self.portals: dict[str, Portal] = {}
        self.partners: dict[str, Partner] = {}
        self.keys: dict[str, KeyRecord] = {}

    def issue_key(
        self,
        portal_domain: str,
        scopes: frozenset[str] | set[str] | list[str],
        user_id: int = 1,
        client_id: str | None = None,
    ) -> str:
        key = "vibe_api_sbx" + secrets.token_hex(14)
        self.keys[key] = KeyRecord(
            key, portal_domain, frozenset(scopes), user_id, client_id, self.clock()
        )
        return key

    def key_record(self, key: str | None) -> KeyRecord | None:
        return self.keys.get(key) if key else None
