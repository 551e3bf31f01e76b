"""A small in-memory Vibe list API behind httpx.MockTransport, for unit tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

_FILTER = re.compile(r"^filter\[([^\]]+)\](?:\[([^\]]+)\])?$")

KEY = "vibe_api_testkey0123456789abcdef"


def error_body(code: str, message: str = "", **extra: Any) -> dict[str, Any]:
    return {"success": False, "error": {"code": code, "message": message, **extra}}


class FakePlatform:
    """Rows by id, keyset-friendly list queries, quirks and injectable faults.

    ``before_list(fake, request)`` runs before each list answer, so a test can
    insert or delete rows in the middle of a pull. ``faults`` is a list of
    responses (or exceptions) served, in order, before the normal answers.
    """

    def __init__(
        self,
        ids: range | list[int] = range(1, 101),
        *,
        single_object: bool = True,
        max_limit: int = 5000,
    ) -> None:
        self.rows: dict[int, dict[str, Any]] = {i: self.make_row(i) for i in ids}
        self.next_id = max(self.rows, default=0) + 1
        self.single_object = single_object
        self.max_limit = max_limit
        self.requests: list[httpx.Request] = []
        self.faults: list[httpx.Response | Exception] = []
        self.before_list: Callable[[FakePlatform, httpx.Request], None] | None = None
        self.key = KEY

    @staticmethod
    def make_row(i: int) -> dict[str, Any]:
        return {"id": i, "title": f"Deal {i}", "stageId": "NEW" if i % 3 else "WON"}

    def insert(self, count: int = 1) -> list[int]:
        new = []
        for _ in range(count):
            self.rows[self.next_id] = self.make_row(self.next_id)
            new.append(self.next_id)
            self.next_id += 1
        return new

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.faults:
            fault = self.faults.pop(0)
            if isinstance(fault, Exception):
                raise fault
            return fault
        if request.headers.get("x-api-key") != self.key:
            return httpx.Response(401, json=error_body("INVALID_API_KEY", "bad key"))

        path = request.url.path
        if path == "/v1/me":
            return httpx.Response(200, json={"success": True, "data": self.me()})
        if request.method == "GET" and path.count("/") == 2:
            return self.list_answer(request)
        return httpx.Response(404, json=error_body("ENTITY_NOT_FOUND", "no route"))

    def me(self) -> dict[str, Any]:
        return {"portal": "example.bitrix24.ru", "scopes": ["crm", "task"]}

    def list_answer(self, request: httpx.Request) -> httpx.Response:
        if self.before_list is not None:
            self.before_list(self, request)
        params = request.url.params
        rows = [r for r in self.rows.values() if _matches(r, params)]
        rows.sort(key=lambda r: r["id"], reverse=params.get("order[id]") == "desc")
        limit = min(int(params.get("limit", "50")), self.max_limit)
        rows = rows[:limit]
        if "select" in params:
            fields = params["select"].split(",")
            rows = [{k: r[k] for k in fields if k in r} for r in rows]

        data: Any = rows
        if self.single_object and len(rows) == 1:
            data = rows[0]  # quirk: one matching row comes back as an object
        meta = {"total": 0, "hasMore": True}  # quirks: total 0, hasMore lies
        return httpx.Response(200, json={"success": True, "data": data, "meta": meta})


def _matches(row: dict[str, Any], params: httpx.QueryParams) -> bool:
    for key, value in params.multi_items():
        match = _FILTER.match(key)
        if not match:
            continue
        field, op = match.groups()
        have = row.get(field)
        if not _compare(have, op, value):
            return False
    return True


def _compare(have: Any, op: str | None, value: str) -> bool:
    if op is None:
        return str(have) == value
    if op == "$in":
        return str(have) in value.split(",")
    number = float(value)
    return {
        "$gt": have > number,
        "$gte": have >= number,
        "$lt": have < number,
        "$lte": have <= number,
    }[op]
