"""The sandbox's in-memory platform: partners, portals, keys and settings."""

from __future__ import annotations

import secrets
import threading
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
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
    anchor: str | None = None
    eager_limit: int = 200_000


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


Row = dict[str, Any]


class Table(Mapping[Any, Row]):
    """The rows of one entity on one portal, kept in id order.

    Rows are never changed in place: an update stores a new dict, so a list
    that holds row references keeps a consistent snapshot while writes go on.
    Integer ids stay sorted (new ids are always larger), which lets keyset
    reads (``id > X``) find their start by bisection. A table built with a
    ``factory`` makes its generated rows on demand, so a portal with a million
    deals costs little memory; rows created or changed later are stored.
    """

    def __init__(
        self,
        rows: Iterable[Row] = (),
        *,
        int_ids: bool = True,
        factory: Callable[[int], Row] | None = None,
        size: int = 0,
    ):
        self.int_ids = int_ids
        self.lock = threading.RLock()
        self._factory = factory
        self._rows: dict[Any, Row] = {}
        self._ids: Any = array("q", range(1, size + 1)) if int_ids else []
        for row in rows:
            self._rows[row["id"]] = row
            self._ids.append(row["id"])
        if int_ids and list(self._ids) != sorted(self._ids):
            self._ids = array("q", sorted(self._ids))
        last = self._ids[-1] if int_ids and len(self._ids) else 0
        self._next_id = max(last, size) + 1

    def __getitem__(self, key: Any) -> Row:
        row = self.get(key)
        if row is None:
            raise KeyError(key)
        return row

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._ids))

    def __len__(self) -> int:
        return len(self._ids)

    def get(self, key: Any, default: Any = None) -> Any:
        row = self._rows.get(key)
        if row is not None or self._factory is None:
            return default if row is None else row
        if not isinstance(key, int) or not self._has_id(key):
            return default
        return self._factory(key)

    def _has_id(self, key: int) -> bool:
        index = bisect_left(self._ids, key)
        return index < len(self._ids) and self._ids[index] == key

    def row_at(self, index: int) -> Row:
        """The row at position ``index`` in id order."""
        key = self._ids[index]
        row = self._rows.get(key)
        if row is None and self._factory is not None:
            return self._factory(key)
        return row if row is not None else {}

    def span(self, low: int | None, high: int | None) -> tuple[int, int]:
        """Positions [start, stop) of the ids with ``low <= id <= high``."""
        start = 0 if low is None else bisect_left(self._ids, low)
        stop = len(self._ids) if high is None else bisect_right(self._ids, high)
        return start, max(start, stop)

    def next_id(self) -> int:
        return self._next_id

    def insert(self, row: Row) -> Row:
        """Store a new row; give it the next id unless it carries its own."""
        with self.lock:
            if self.int_ids:
                row = {**row, "id": self._next_id}
                self._next_id += 1
            self._rows[row["id"]] = row
            self._ids.append(row["id"])
            return row

    def replace(self, row: Row) -> None:
        with self.lock:
            self._rows[row["id"]] = row

    def delete(self, key: Any) -> bool:
        with self.lock:
            if self.int_ids:
                if not isinstance(key, int) or not self._has_id(key):
                    return False
                del self._ids[bisect_left(self._ids, key)]
            elif key in self._ids:
                self._ids.remove(key)
            else:
                return False
            self._rows.pop(key, None)
            return True


@dataclass
class Portal:
    domain: str
    name: str
    tables: dict[str, Table] = field(default_factory=dict)
    owner_id: int = 1


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
        self.limits: Any = None
        self.default_portal = ""

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

    def add_portal(self, portal: Portal) -> Portal:
        self.portals[portal.domain] = portal
        self.default_portal = self.default_portal or portal.domain
        return portal

    def add_partner(self, partner: Partner) -> Partner:
        self.partners[partner.client_id] = partner
        return partner

    def user(self, portal_domain: str, user_id: int) -> Row | None:
        """A portal user's record, or None."""
        portal = self.portals.get(portal_domain)
        table = portal.tables.get("users") if portal else None
        return table.get(user_id) if table is not None else None
