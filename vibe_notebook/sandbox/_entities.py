"""The entity API: list, get, create, update, delete, search, fields, batch, me."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._filters import (
    Condition,
    Query,
    bad_params,
    execute,
    query_from_body,
    query_from_params,
)
from ._schema import ENTITIES, TASK_STRING_FIELDS, USER_BASIC_FIELDS, EntitySpec
from ._state import KeyRecord, Portal, Row, SandboxHTTPError, SandboxState, Table
from ._writes import new_record, updated_record

MAX_BATCH = 50
OPERATIONS = [
    "GET (list/by-id)",
    "POST (create)",
    "PATCH (update)",
    "DELETE",
    "GET /fields",
    "POST /search",
    "POST /batch",
]
# Quirk: these answer a lone matching row as an object, not a list.
_SINGLE_OBJECT = frozenset({"users", "deal-categories"})


@dataclass
class Outcome:
    """What one operation produced, before it is encoded."""

    data: Any
    meta: dict[str, Any] | None = None
    status: int = 200
    rows: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"success": True, "data": self.data}
        if self.meta is not None:
            body["meta"] = self.meta
        return body


def encode(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A compact JSON response; the stdlib encoder in C is fast enough here."""
    return respond(dump(body), status, headers)


def dump(body: Any) -> bytes:
    """``body`` as compact UTF-8 JSON."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def respond(
    content: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response around already encoded ``content``."""
    return Response(
        content, status_code=status, headers=headers, media_type="application/json"
    )


# ------------------------------------------------------------------- auth


def authenticate(state: SandboxState, request: Request) -> KeyRecord:
    """The key's record, from ``X-Api-Key`` or ``Authorization: Bearer``."""
    key = request.headers.get("x-api-key", "").strip()
    if not key:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else ""
    if not key:
        raise SandboxHTTPError(
            401, "MISSING_API_KEY", "API key required. Pass via X-Api-Key header."
        )
    record = state.key_record(key)
    if record is None or record.portal_domain not in state.portals:
        raise SandboxHTTPError(
            401,
            "INVALID_API_KEY",
            "The API key is unknown, malformed or deleted.",
            hint="Connect again to get a new key, or check VIBE_API_KEY.",
        )
    return record


def require_scope(record: KeyRecord, spec: EntitySpec) -> None:
    if record.scopes & spec.scopes:
        return
    needed = sorted(spec.scopes)
    raise SandboxHTTPError(
        403,
        "SCOPE_DENIED",
        f"This key may not read {spec.name}: it needs the scope {' or '.join(needed)}.",
        hint="Connect again and tick that scope on the consent page.",
        details={"requiredScope": needed[0], "grantedScopes": sorted(record.scopes)},
    )


# -------------------------------------------------------------- operations


class EntityAPI:
    """The entity operations of one sandbox, shared by routes and batch."""

    def __init__(self, state: SandboxState):
        self.state = state

    @property
    def quirks(self) -> bool:
        return self.state.config.quirks

    def table(self, record: KeyRecord, spec: EntitySpec) -> Table:
        return self.state.portals[record.portal_domain].tables[spec.name]

    def list_rows(self, record: KeyRecord, spec: EntitySpec, query: Query) -> Outcome:
        self._hide_default_category(spec, query)
        result = execute(spec, self.table(record, spec), query, count=not self.quirks)
        rows = render(spec, result.rows, query.select, record, self.quirks)
        meta: dict[str, Any] = {
            "total": 0 if self.quirks else result.total,
            "hasMore": self._has_more(result.has_more, rows, query),
        }
        if result.truncated:
            meta["truncated"] = True
        data: Any = rows
        if self.quirks and spec.name in _SINGLE_OBJECT and len(rows) == 1:
            data = rows[0]
        return Outcome(data, meta, rows=len(rows))

    def search(self, record: KeyRecord, spec: EntitySpec, query: Query) -> Outcome:
        started = time.perf_counter()
        self._hide_default_category(spec, query)
        result = execute(spec, self.table(record, spec), query, count=True)
        rows = render(spec, result.rows, query.select, record, self.quirks)
        meta: dict[str, Any] = {
            "total": result.total,
            "hasMore": self._has_more(result.has_more, rows, query),
            "autoWindowed": False,
            "windowCount": 1,
            "batchWaves": max(1, math.ceil(len(rows) / 2500)),
            "durationMs": round((time.perf_counter() - started) * 1000),
        }
        if result.truncated:
            meta["truncated"] = True
        return Outcome(rows, meta, rows=len(rows))

    def get(self, record: KeyRecord, spec: EntitySpec, item_id: Any) -> Outcome:
        row = self._existing(record, spec, item_id)
        return Outcome(render(spec, [row], None, record, self.quirks)[0])

    def create(self, record: KeyRecord, spec: EntitySpec, body: Any) -> Outcome:
        _check_writable(spec)
        portal = self._portal(record)
        row = new_record(
            spec, portal, body, user_id=record.user_id, now=self.state.clock()
        )
        stored = portal.tables[spec.name].insert(row)
        data = render(spec, [stored], None, record, self.quirks)[0]
        return Outcome(data, status=201)

    def update(
        self, record: KeyRecord, spec: EntitySpec, item_id: Any, body: Any
    ) -> Outcome:
        _check_writable(spec)
        table = self.table(record, spec)
        with table.lock:
            old = self._existing(record, spec, item_id)
            row = updated_record(spec, old, body, now=self.state.clock())
            table.replace(row)
        return Outcome(render(spec, [row], None, record, self.quirks)[0])

    def delete(self, record: KeyRecord, spec: EntitySpec, item_id: Any) -> Outcome:
        _check_writable(spec)
        key = _item_key(spec, item_id)
        if not self.table(record, spec).delete(key):
            raise _not_found(spec, item_id)
        return Outcome({"id": key, "deleted": True})

    def fields(self, spec: EntitySpec) -> Outcome:
        described = {name: f.describe() for name, f in spec.fields.items()}
        return Outcome(described)

    def me(self, record: KeyRecord) -> Outcome:
        portal = self._portal(record)
        owner = self.state.user(record.portal_domain, record.user_id) or {}
        name = f"{owner.get('name', '')} {owner.get('lastName', '')}".strip()
        entities = {
            spec.name: f"/v1/{spec.name}"
            for spec in ENTITIES.values()
            if record.scopes & spec.scopes
        }
        data = {
            "type": "portal",
            "keyPrefix": record.key[:15],
            "keySuffix": record.key[-4:],
            "portal": portal.domain,
            "portalName": portal.name,
            "tariff": _TARIFF,
            "scopes": sorted(record.scopes),
            "accessMode": "READWRITE",
            "owner": {
                "userId": record.user_id,
                "name": name,
                "email": owner.get("email"),
            },
            "rateLimit": {"requestsPerMinute": self.state.config.requests_per_minute},
            "api": {"entityApi": {"entities": entities, "operations": OPERATIONS}},
        }
        return Outcome(data)

    def _portal(self, record: KeyRecord) -> Portal:
        return self.state.portals[record.portal_domain]

    def _existing(self, record: KeyRecord, spec: EntitySpec, item_id: Any) -> Row:
        key = _item_key(spec, item_id)
        hidden = self.quirks and spec.name == "deal-categories" and key == 0
        row = None if hidden else self.table(record, spec).get(key)
        if row is None:
            raise _not_found(spec, item_id)
        return row

    def _hide_default_category(self, spec: EntitySpec, query: Query) -> None:
        # Quirk: the default pipeline (id 0) never appears in deal-categories.
        if self.quirks and spec.name == "deal-categories":
            query.conditions.append(Condition("id", "$ne", 0))

    def _has_more(self, really: bool, rows: list[Row], query: Query) -> bool:
        # Quirk: a full page says hasMore even when it is the last one.
        return len(rows) == query.limit if self.quirks else really


_TARIFF = {
    "code": "sandbox",
    "name": "Vibe sandbox",
    "isCommercial": False,
    "wasEverCommercial": False,
    "kind": "CLOUD",
}


def _check_writable(spec: EntitySpec) -> None:
    if not spec.writable:
        raise SandboxHTTPError(
            405,
            "METHOD_NOT_ALLOWED",
            f"{spec.name} are read-only in the sandbox.",
            hint="Create, update and delete work on deals, leads, contacts, "
            "companies and tasks.",
        )


def _item_key(spec: EntitySpec, item_id: Any) -> Any:
    if not spec.int_ids:
        return str(item_id)
    try:
        return int(item_id)
    except (TypeError, ValueError):
        raise bad_params(
            f"{spec.name} ids are whole numbers, got {item_id!r}."
        ) from None


def _not_found(spec: EntitySpec, item_id: Any) -> SandboxHTTPError:
    return SandboxHTTPError(
        404,
        "ENTITY_NOT_FOUND",
        f"No {spec.name} record with id {item_id}.",
        hint="It may have been deleted; list the records to see which exist.",
    )


def render(
    spec: EntitySpec,
    rows: list[Row],
    select: list[str] | None,
    record: KeyRecord,
    quirks: bool,
) -> list[Row]:
    """Rows as the platform sends them: selected fields, quirks applied."""
    if spec.name == "users" and "user" not in record.scopes:
        allowed = set(USER_BASIC_FIELDS)
        select = [n for n in (select or USER_BASIC_FIELDS) if n in allowed]
    if select is not None:
        rows = [{name: row.get(name) for name in select} for row in rows]
    if quirks and spec.name == "tasks":
        rows = [_task_strings(row) for row in rows]
    if quirks and spec.name == "contacts" and select is None:
        rows = [{**row, "PHONE": None, "EMAIL": None} for row in rows]
    return rows


def _task_strings(row: Row) -> Row:
    # Quirk: tasks.task.list sends its numbers as strings (vibe-api.md §4.5).
    out = dict(row)
    for name in TASK_STRING_FIELDS:
        value = out.get(name)
        if value is not None and name in out:
            out[name] = str(value)
    return out


# ------------------------------------------------------------------ batch


def run_batch(api: EntityAPI, record: KeyRecord, body: Any) -> Outcome:
    """``POST /v1/batch``: up to 50 calls, each answering on its own."""
    calls = body.get("calls") if isinstance(body, dict) else None
    if not isinstance(calls, list):
        raise bad_params('The body must be {"calls": [...]} with up to 50 calls.')
    if len(calls) > MAX_BATCH:
        raise SandboxHTTPError(
            400,
            "BATCH_LIMIT_EXCEEDED",
            f"A batch holds at most {MAX_BATCH} calls; this one has {len(calls)}.",
            hint="Split the calls into several batches.",
        )
    results: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    rows = 0
    for index, call in enumerate(calls):
        name = str(call.get("id", index)) if isinstance(call, dict) else str(index)
        try:
            outcome = _batch_call(api, record, call)
        except SandboxHTTPError as error:
            errors[name] = error.body()["error"]
            continue
        results[name] = outcome.data
        rows += outcome.rows
    return Outcome({"results": results, "errors": errors}, rows=max(rows, 1))


def _batch_call(api: EntityAPI, record: KeyRecord, call: Any) -> Outcome:
    if not isinstance(call, dict):
        raise bad_params("Each batch call must be an object.")
    spec = ENTITIES.get(str(call.get("entity")))
    if spec is None:
        raise bad_params(f"Unknown entity {call.get('entity')!r} in batch call.")
    require_scope(record, spec)
    params = call.get("params") or {}
    action = call.get("action")
    item_id = call.get("entityId")
    if action in ("list", "search"):
        query = query_from_body(spec, params)
        return (
            api.list_rows(record, spec, query)
            if action == "list"
            else api.search(record, spec, query)
        )
    handlers: dict[str, Callable[[], Outcome]] = {
        "get": lambda: api.get(record, spec, item_id),
        "create": lambda: api.create(record, spec, params),
        "update": lambda: api.update(record, spec, item_id, params),
        "delete": lambda: api.delete(record, spec, item_id),
        "fields": lambda: api.fields(spec),
    }
    if action not in handlers:
        known = "list, search, get, create, update, delete, fields"
        raise bad_params(f"Unknown batch action {action!r}; use one of: {known}.")
    return handlers[str(action)]()


# ----------------------------------------------------------------- routes


@contextlib.asynccontextmanager
async def _no_limits(key: str, portal: str) -> AsyncIterator[Any]:
    yield None


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_params("The body is not valid JSON.") from None


def entity_routes(state: SandboxState) -> list[Route]:
    """Routes of the entity API, ``/v1/me`` and ``/v1/batch``."""
    api = EntityAPI(state)

    async def serve(
        request: Request,
        spec: EntitySpec | None,
        work: Callable[[KeyRecord], Outcome],
    ) -> Response:
        record = authenticate(state, request)
        if spec is not None:
            require_scope(record, spec)
        limits = state.limits
        slot_of = limits.slot if limits is not None else _no_limits
        async with slot_of(record.key, record.portal_domain) as slot:
            # requests that arrived together are all admitted (their latency
            # clocks started) before any of them works; the work and the
            # encoding are part of the modeled latency, so serve() sleeps
            # only what is left of it
            await asyncio.sleep(0)
            outcome = work(record)
            content = dump(outcome.body())
            if slot is not None:
                await slot.serve(rows=outcome.rows)
            headers = slot.headers if slot is not None else {}
        return respond(content, outcome.status, headers)

    def spec_of(request: Request) -> EntitySpec:
        return ENTITIES[request.url.path.split("/")[2]]

    async def collection(request: Request) -> Response:
        spec = spec_of(request)
        if request.method == "POST":
            body = await _json_body(request)
            return await serve(request, spec, lambda r: api.create(r, spec, body))
        params = request.query_params.multi_items()
        return await serve(
            request,
            spec,
            lambda r: api.list_rows(r, spec, query_from_params(spec, params)),
        )

    async def search(request: Request) -> Response:
        spec = spec_of(request)
        if request.method != "POST":
            raise bad_params(
                f"Search takes a JSON body: use POST /v1/{spec.name}/search, "
                f"or GET /v1/{spec.name} with query parameters."
            )
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise bad_params("The search body must be a JSON object.")
        return await serve(
            request, spec, lambda r: api.search(r, spec, query_from_body(spec, body))
        )

    async def fields(request: Request) -> Response:
        spec = spec_of(request)
        return await serve(request, spec, lambda r: api.fields(spec))

    async def item(request: Request) -> Response:
        spec = spec_of(request)
        item_id = request.path_params["item_id"]
        if request.method == "PATCH":
            body = await _json_body(request)
            return await serve(
                request, spec, lambda r: api.update(r, spec, item_id, body)
            )
        if request.method == "DELETE":
            return await serve(request, spec, lambda r: api.delete(r, spec, item_id))
        return await serve(request, spec, lambda r: api.get(r, spec, item_id))

    async def me(request: Request) -> Response:
        return await serve(request, None, api.me)

    async def batch(request: Request) -> Response:
        body = await _json_body(request)
        return await serve(request, None, lambda r: run_batch(api, r, body))

    routes = [
        Route("/v1/me", me, methods=["GET"]),
        Route("/v1/batch", batch, methods=["POST"]),
    ]
    for name in ENTITIES:
        base = f"/v1/{name}"
        routes += [
            Route(base, collection, methods=["GET", "POST"]),
            Route(f"{base}/search", search, methods=["GET", "POST"]),
            Route(f"{base}/fields", fields, methods=["GET"]),
            Route(base + "/{item_id}", item, methods=["GET", "PATCH", "DELETE"]),
        ]
    return routes
