"""The lookups a client fetches once and reuses to label every frame it builds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._lookups import Lookups, build_lookups
from .errors import PermissionDeniedError

if TYPE_CHECKING:
    from ._connect import Connection

__all__ = ["NEEDS", "LookupsMixin"]

logger = logging.getLogger(__name__)

# What each entity's labels need: lookup parts fetched once per client.
NEEDS: dict[str, tuple[str, ...]] = {
    "deals": ("categories", "statuses", "users", "currencies"),
    "leads": ("statuses", "users", "currencies"),
    "contacts": ("statuses", "users"),
    "companies": ("statuses", "users", "currencies"),
    "tasks": ("users",),
    "users": (),
    "pipelines": ("categories",),
    "stages": ("categories", "statuses"),
}
_PART_ENTITY = {
    "categories": "deal-categories",
    "statuses": "statuses",
    "users": "users",
    "currencies": "currencies",
}


class LookupsMixin:
    """Per-client cache of the lookups and the portal name, filled on first use."""

    connection: Connection | None

    if TYPE_CHECKING:

        async def pull(
            self,
            entity: str,
            *,
            filter: Mapping[str, Any] | None = None,
            select: Sequence[str] | str | None = None,
            limit: int | None = None,
            on_rows: Callable[[int], Any] | None = None,
            on_total: Callable[[int], Any] | None = None,
            on_page: Callable[[list[dict[str, Any]]], Any] | None = None,
        ) -> list[dict[str, Any]]: ...

        async def get_json(
            self, path: str, params: Mapping[str, Any] | None = None
        ) -> Any: ...

    def _portal_domain(self) -> str | None:
        """The portal's domain: the connection's, else the one /v1/me named."""
        if self.connection is not None:
            return self.connection.portal_domain
        return self.__dict__.get("_vn_portal")

    def _lookup_rows(self) -> dict[str, list[dict[str, Any]]]:
        """The lookup records fetched so far, by part."""
        rows: dict[str, list[dict[str, Any]]] = self.__dict__.setdefault(
            "_vn_lookup_rows", {}
        )
        return rows

    async def _lookups(self, parts: Sequence[str]) -> Lookups:
        """Lookups with ``parts`` fetched; each part only once per client."""
        cached = self._lookup_rows()
        missing = [p for p in parts if p not in cached]
        if self.connection is None and "_vn_portal" not in self.__dict__:
            missing.append("portal")
        if missing:
            lock = self.__dict__.setdefault("_vn_lookup_lock", asyncio.Lock())
            async with lock:
                todo = [p for p in missing if p not in cached and p != "portal"]
                fetched = await asyncio.gather(*(self._fetch_part(p) for p in todo))
                cached.update(zip(todo, fetched, strict=True))
                if "portal" in missing and "_vn_portal" not in self.__dict__:
                    self.__dict__["_vn_portal"] = await self._fetch_portal()
        return build_lookups(**{part: cached.get(part, ()) for part in _PART_ENTITY})

    async def _fetch_part(self, part: str) -> list[dict[str, Any]]:
        entity = _PART_ENTITY[part]
        try:
            return await self.pull(entity)
        except PermissionDeniedError as exc:
            logger.warning(
                "Could not read %s for labels (%s); the label columns that "
                "need them stay empty. Connect with the scope it names.",
                entity,
                exc.code or exc,
            )
            return []

    async def _fetch_portal(self) -> str | None:
        try:
            me = await self.get_json("/v1/me")
        except PermissionDeniedError:
            return None
        portal = me.get("portal") if isinstance(me, dict) else None
        if isinstance(portal, dict):
            portal = portal.get("domain")
        return str(portal) if portal else None
