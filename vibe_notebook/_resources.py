"""The data getters: deals(), tasks(), ... as client methods and module functions."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import difflib
import functools
import inspect
import logging
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from ._frames import (
    SCHEMAS,
    Lookups,
    PagedFrame,
    build_lookups,
    column_types,
    is_custom_field,
    platform_fields,
    to_frame,
    with_default_pipeline,
)
from ._session import get_session
from .errors import ConfigurationError, PermissionDeniedError

if TYPE_CHECKING:
    from ._connect import Connection

__all__ = [
    "GETTERS",
    "ResourcesMixin",
    "SyncResourcesMixin",
    "companies",
    "contacts",
    "deals",
    "leads",
    "pipelines",
    "plan_pull",
    "stages",
    "tasks",
    "users",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")
OnCount = Callable[[int], Any]

# The field since= / until= look at unless by= names another one.
_LAST_MODIFIED: dict[str, str | None] = {
    "deals": "updatedAt",
    "leads": "updatedAt",
    "contacts": "updatedAt",
    "companies": "updatedAt",
    "tasks": "changedDate",
    "users": None,
}
# What each entity's labels need: lookup parts fetched once per client.
_NEEDS: dict[str, tuple[str, ...]] = {
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
# A pull still running after this many seconds shows a progress bar.
_PROGRESS_DELAY = 1.0


# Arguments -------------------------------------------------------------------


@dataclass(frozen=True)
class PullPlan:
    """A getter's checked arguments, ready to send."""

    entity: str
    filter: dict[str, Any]
    select: list[str] | None
    limit: int | None
    tz: str | dt.tzinfo | None
    progress: bool | None


def plan_pull(
    entity: str,
    *,
    since: Any = None,
    until: Any = None,
    by: str | None = None,
    filter: Mapping[str, Any] | None = None,
    select: Sequence[str] | str | None = None,
    limit: int | None = None,
    tz: str | dt.tzinfo | None = None,
    progress: bool | None = None,
) -> PullPlan:
    """Check a getter's arguments and build the platform filter; no I/O.

    Raises
    ------
    ConfigurationError
        For any argument mistake, before a request is sent.
    """
    _check_tz(tz)
    _check_limit(limit)
    if progress not in (True, False, None):
        raise ConfigurationError(
            f"progress={progress!r} is not understood. Pass True (always show "
            "a bar), False (never) or leave it out (a bar for slow pulls)."
        )
    merged = _merged_filter(entity, filter, _period(entity, since, until, by, tz))
    return PullPlan(
        entity, merged, _checked_select(entity, select), limit, tz, progress
    )


def _check_tz(tz: Any) -> None:
    if tz is None:
        return
    try:
        pd.Timestamp(0, tz="UTC").tz_convert(tz)
    except Exception as exc:  # pandas raises several types for a bad zone
        raise ConfigurationError(
            f"tz={tz!r} is not a time zone pandas knows. Pass an IANA name such "
            "as 'Europe/Berlin' or 'UTC', or a datetime.tzinfo."
        ) from exc


def _check_limit(limit: Any) -> None:
    if limit is None:
        return
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigurationError(
            f"limit={limit!r} is not a row count. Pass a whole number of at "
            "least 1 (e.g. limit=100 for a quick sample), or leave it out."
        )


def _checked_select(
    entity: str, select: Sequence[str] | str | None
) -> list[str] | None:
    if select is None:
        return None
    fields = select.split(",") if isinstance(select, str) else list(select)
    fields = [str(f).strip() for f in fields if str(f).strip()]
    if not fields:
        raise ConfigurationError(
            f"select={select!r} names no field. Leave select out for every "
            f"field of {entity}, or name some, e.g. select=['id', 'title']."
        )
    known = platform_fields(entity)
    aliases = _frame_aliases(entity)
    fields = [aliases.get(f, f) for f in fields]
    unknown = [f for f in fields if f not in known and not is_custom_field(f)]
    if unknown:
        raise ConfigurationError(_unknown_field_message(entity, unknown, known))
    return list(dict.fromkeys(fields))


def _frame_aliases(entity: str) -> dict[str, str]:
    """Frame column names that stand for a differently named platform field."""
    return {
        col: field
        for col, field in zip(SCHEMAS[entity], platform_fields(entity), strict=True)
        if col != field
    }


def _unknown_field_message(entity: str, unknown: list[str], known: list[str]) -> str:
    labels = set(column_types(entity)) - set(SCHEMAS[entity])
    hints = []
    for name in unknown:
        if name in labels:
            hints.append(f"'{name}' is a label column: select its id field instead")
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hints.append(f"did you mean '{close[0]}'?" if close else f"no '{name}'")
    return (
        f"select names fields {entity} do not have: {', '.join(map(repr, unknown))} "
        f"({'; '.join(hints)}). Known fields: {', '.join(known)}; custom "
        "fields (UF_CRM_*, ufCrm*) are accepted as well."
    )


def _period(
    entity: str, since: Any, until: Any, by: str | None, tz: Any
) -> dict[str, dict[str, str]]:
    field = _date_field(entity, by, wanted=since is not None or until is not None)
    ops: dict[str, str] = {}
    start = _moment(since, "since", tz)
    end = _moment(until, "until", tz)
    if start is not None and end is not None and start > end:
        raise ConfigurationError(
            f"since ({start.isoformat()}) is after until ({end.isoformat()}), so "
            "nothing could match. Swap them, or drop one of the two."
        )
    if start is not None:
        ops["$gte"] = _platform_time(start)
    if end is not None:
        ops["$lt"] = _platform_time(end)
    return {field: ops} if ops and field else {}


def _date_field(entity: str, by: str | None, *, wanted: bool) -> str | None:
    dates = [f for f, kind in SCHEMAS[entity].items() if kind in ("datetime", "date")]
    if by is None:
        field = _LAST_MODIFIED.get(entity)
        if wanted and field is None:
            raise ConfigurationError(
                f"{entity} have no last-modified time, so since= and until= need "
                f"by= to name a date field: one of {', '.join(dates)}."
            )
        return field
    if by not in dates:
        raise ConfigurationError(
            f"by={by!r} is not a date field of {entity}. since= and until= can "
            f"look at: {', '.join(dates)}."
        )
    return by


def _moment(value: Any, name: str, tz: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    readable = isinstance(value, str | dt.date | pd.Timestamp)
    try:
        moment = pd.Timestamp(value) if readable else None
    except (TypeError, ValueError):
        moment = None
    if moment is None or pd.isna(moment):
        raise ConfigurationError(
            f"{name}={value!r} is not a date or time. Pass a date such as "
            f"'2026-01-31', a time such as '2026-01-31T18:00:00Z', or a datetime."
        )
    if moment.tzinfo is None:
        moment = moment.tz_localize(tz or "UTC")
    return moment.tz_convert("UTC")


def _platform_time(moment: pd.Timestamp) -> str:
    """The platform's UTC form, ``2026-01-31T18:00:00.000Z``."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _merged_filter(
    entity: str, filter: Mapping[str, Any] | None, period: dict[str, dict[str, str]]
) -> dict[str, Any]:
    if filter is not None and not isinstance(filter, Mapping):
        raise ConfigurationError(
            f"filter={filter!r} is not a dict. Pass the platform's filter as a "
            "dict, e.g. filter={'stageId': 'WON', 'amount': {'$gte': 1000}}."
        )
    merged = dict(filter or {})
    for field, ops in period.items():
        own = merged.get(field)
        if own is None:
            merged[field] = ops
            continue
        clash = set(own) & set(ops) if isinstance(own, Mapping) else {"="}
        if clash:
            raise ConfigurationError(
                f"filter already limits {field!r} ({own!r}) where since=/until= "
                f"do too ({ops!r}). Keep one of the two."
            )
        merged[field] = {**own, **ops}
    return merged


# Progress --------------------------------------------------------------------


@contextlib.contextmanager
def _progress(plan: PullPlan) -> Iterator[tuple[OnCount | None, OnCount | None]]:
    """Callbacks ``(on_rows, on_total)`` feeding a tqdm.auto bar, or Nones.

    With ``progress=None`` the bar appears only once a pull has run for a
    second. The total comes from ``limit=``, or from the pull's estimate once
    it knows the highest id (the platform's own totals cannot be trusted,
    vibe-api.md §3.1); with it the bar shows an ETA.
    """
    if plan.progress is False:
        yield None, None
        return
    from tqdm.auto import tqdm

    delay = 0.0 if plan.progress else _PROGRESS_DELAY
    bar = tqdm(
        total=plan.limit, desc=plan.entity, unit=" rows", delay=delay, leave=True
    )
    try:
        yield bar.update, functools.partial(_set_total, bar)
    finally:
        bar.close()


def _set_total(bar: Any, total: int) -> None:
    """Give a running bar its total; the next update draws it with an ETA."""
    bar.total = total
    widget = getattr(bar, "container", None)  # tqdm.notebook's ipywidget
    if widget is not None:
        progress = widget.children[1]
        progress.max, progress.bar_style = max(1, total), ""
        progress.layout.width = None


# The async getters -------------------------------------------------------------


class ResourcesMixin:
    """The data getters of AsyncClient; they return typed pandas DataFrames."""

    base_url: str
    connection: Connection | None

    if TYPE_CHECKING:

        @property
        def stats(self) -> dict[str, Any]: ...

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

    async def deals(
        self,
        *,
        since: Any = None,
        until: Any = None,
        by: str | None = None,
        filter: Mapping[str, Any] | None = None,
        select: Sequence[str] | str | None = None,
        limit: int | None = None,
        tz: str | dt.tzinfo | None = None,
        progress: bool | None = None,
    ) -> pd.DataFrame:
        """Deals as a typed DataFrame, one row per deal, in id order.

        {options}

        Columns
        -------
        {columns}

        ``stage`` is an ordered categorical: each pipeline's stages in its
        own order, and a name shared by pipelines ("New") one category.

        Examples
        --------
        >>> df = client.deals(since="2026-01-01")  # doctest: +SKIP
        >>> df.groupby("stage", observed=False)["amount"].sum()  # doctest: +SKIP
        """
        return await self._frame(plan_pull("deals", **_options(locals())))

    async def leads(
        self,
        *,
        since: Any = None,
        until: Any = None,
        by: str | None = None,
        filter: Mapping[str, Any] | None = None,
        select: Sequence[str] | str | None = None,
        limit: int | None = None,
        tz: str | dt.tzinfo | None = None,
        progress: bool | None = None,
    ) -> pd.DataFrame:
        """Leads as a typed DataFrame, one row per lead, in id order.

        {options}

        Columns
        -------
        {columns}

        Examples
        --------
        >>> leads = client.leads(select=["id", "statusId"])  # doctest: +SKIP
        >>> leads["status"].value_counts()  # doctest: +SKIP
        """
        return await self._frame(plan_pull("leads", **_options(locals())))

    async def contacts(
        self,
        *,
        since: Any = None,
        until: Any = None,
        by: str | None = None,
        filter: Mapping[str, Any] | None = None,
        select: Sequence[str] | str | None = None,
        limit: int | None = None,
        tz: str | dt.tzinfo | None = None,
        progress: bool | None = None,
    ) -> pd.DataFrame:
        """Contacts as a typed DataFrame, one row per contact, in id order.

        {options}

        Columns
        -------
        {columns}

        ``phone`` and ``email`` are the first phone and e-mail in ``fm``,
        which keeps every number and address the contact has.

        Examples
        --------
        >>> client.contacts(limit=5)[["name", "phone", "email"]]  # doctest: +SKIP
        """
        return await self._frame(plan_pull("contacts", **_options(locals())))

    async def companies(
        self,
        *,
        since: Any = None,
        until: Any = None,
        by: str | None = None,
        filter: Mapping[str, Any] | None = None,
        select: Sequence[str] | str | None = None,
        limit: int | None = None,
        tz: str | dt.tzinfo | None = None,
        progress: bool | None = None,
    ) -> pd.DataFrame:
        """Companies as a typed DataFrame, one row per company, in id order.

        {options}

        Columns
        -------
        {columns}

        Examples
        --------
        >>> client.companies().groupby("industryName").revenue.sum()  # doctest: +SKIP
        """
        return await self._frame(plan_pull("companies", **_options(locals())))

    async def tasks(
        self,
        *,
        since: Any = None,
        until: Any = None,
        by: str | None = None,
        filter: Mapping[str, Any] | None = None,
        select: Sequence[str] | str | None = None,
        limit: int | None = None,
        tz: str | dt.tzinfo | None = None,
        progress: bool | None = None,
    ) -> pd.DataFrame:
        """Tasks as a typed DataFrame, one row per task, in id order.

        {options}

        Columns
        -------
        {columns}

        The platform sends task numbers as strings; they arrive here as
        numbers. Its ``status`` code is kept as ``statusId`` and ``status``
        holds the name (New, Pending, In progress, Awaiting control,
        Completed, Deferred, Declined). ``overdue`` is True for a task that
        is still New, Pending or In progress and whose deadline had passed
        when the rows were fetched; tasks awaiting control, finished,
        deferred or declined are never overdue, nor are tasks without a
        deadline. Filters use the platform's names (``status``).

        Examples
        --------
        >>> tasks = client.tasks(since="2026-01-01")  # doctest: +SKIP
        >>> tasks.groupby("responsible").overdue.sum()  # doctest: +SKIP
        """
        return await self._frame(plan_pull("tasks", **_options(locals())))

    async def users(
        self,
        *,
        since: Any = None,
        until: Any = None,
        by: str | None = None,
        filter: Mapping[str, Any] | None = None,
        select: Sequence[str] | str | None = None,
        limit: int | None = None,
        tz: str | dt.tzinfo | None = None,
        progress: bool | None = None,
    ) -> pd.DataFrame:
        """The portal's users as a typed DataFrame, in id order.

        {options}

        Users have no last-modified time: with since= or until=, name the
        date field with by= (``dateRegister`` or ``lastLogin``).

        Columns
        -------
        {columns}

        Examples
        --------
        >>> staff = client.users(filter={{"active": True}})  # doctest: +SKIP
        >>> staff[["id", "fullName"]]  # doctest: +SKIP
        """
        return await self._frame(plan_pull("users", **_options(locals())))

    async def pipelines(self, *, tz: str | dt.tzinfo | None = None) -> pd.DataFrame:
        """Deal pipelines, the default one (id 0) first, then by sort.

        The platform's list leaves out the default pipeline; it is added as
        "General" (``isDefault`` True, ``sort`` missing) unless the list
        names it. Fetched once per client and reused.

        Columns
        -------
        {columns}
        """
        _check_tz(tz)
        lookups = await self._lookups(("categories",))
        rows = with_default_pipeline(self._lookup_rows().get("categories", []))
        order = {p.id: i for i, p in enumerate(lookups.pipelines)}
        rows.sort(key=lambda r: order.get(int(r["id"]), len(order)))
        return self._stamped(to_frame("pipelines", rows, tz=tz), "pipelines", {}, 0)

    async def stages(
        self, *, pipeline: int | str | None = None, tz: str | dt.tzinfo | None = None
    ) -> pd.DataFrame:
        """Every pipeline's stages, in pipeline order and then stage order.

        Parameters
        ----------
        pipeline : int or str, optional
            Only this pipeline's stages, by id or name.

        Columns
        -------
        {columns}

        ``stageSemantic`` is open, won or lost. Fetched once per client.
        """
        _check_tz(tz)
        lookups = await self._lookups(("categories", "statuses"))
        rows = _stage_rows(self._lookup_rows().get("statuses", []), lookups)
        if pipeline is not None:
            wanted = _pipeline_id(lookups, pipeline)
            rows = [r for r in rows if _stage_pipeline(r) == wanted]
        frame = to_frame("stages", rows, lookups=lookups, tz=tz)
        return self._stamped(frame, "stages", {}, 0)

    # -- plumbing ---------------------------------------------------------------

    async def _frame(self, plan: PullPlan) -> pd.DataFrame:
        before = self.stats["requests"]
        # lookups load beside the pull; they are needed only to label rows
        lookups_task = asyncio.ensure_future(self._lookups(_NEEDS[plan.entity]))
        # each page is typed as it arrives, while later pages are on the way
        paged = PagedFrame(plan.entity, select=plan.select)
        try:
            with _progress(plan) as (on_rows, on_total):
                records = await self.pull(
                    plan.entity,
                    filter=plan.filter or None,
                    select=plan.select,
                    limit=plan.limit,
                    on_rows=on_rows,
                    on_total=on_total,
                    on_page=paged.add,
                )
        except BaseException:
            lookups_task.cancel()
            with contextlib.suppress(BaseException):
                await lookups_task
            raise
        lookups = await lookups_task
        fetched = dt.datetime.now(dt.UTC)
        frame = paged.frame(records, lookups=lookups, tz=plan.tz, now=fetched)
        requests = self.stats["requests"] - before
        if plan.entity == "deals":
            # funnel() reads the stage order from here
            frame.attrs["stages"] = _stage_list(lookups)
        return self._stamped(frame, plan.entity, plan.filter, requests, fetched)

    def _stamped(
        self,
        frame: pd.DataFrame,
        entity: str,
        filter: Mapping[str, Any],
        requests: int,
        fetched: dt.datetime | None = None,
    ) -> pd.DataFrame:
        """Record where the rows came from in ``frame.attrs``."""
        moment = fetched or dt.datetime.now(dt.UTC)
        frame.attrs.update(
            {
                "portal": self._portal_domain(),
                "base_url": self.base_url,
                "entity": entity,
                "filter": dict(filter),
                "fetched_at": moment.isoformat(timespec="seconds"),
                "rows": len(frame),
                "requests": requests,
            }
        )
        return frame

    def _portal_domain(self) -> str | None:
        if self.connection is not None:
            return self.connection.portal_domain
        return self.__dict__.get("_vn_portal")

    def _lookup_rows(self) -> dict[str, list[dict[str, Any]]]:
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


def _options(scope: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in scope.items() if k != "self"}


def _stage_list(lookups: Lookups) -> list[dict[str, Any]]:
    names = lookups.pipeline_names()
    return [
        {
            "id": s.id,
            "name": s.name,
            "pipelineId": s.pipeline_id,
            "pipeline": names.get(s.pipeline_id),
            "semantic": s.semantic,
        }
        for s in lookups.stages
    ]


def _stage_rows(statuses: list[dict[str, Any]], lookups: Lookups) -> list[dict]:
    order = {s.id: i for i, s in enumerate(lookups.stages)}
    rows = [r for r in statuses if str(r.get("entityId", "")).startswith("DEAL_STAGE")]
    return sorted(rows, key=lambda r: order.get(str(r.get("statusId")), len(order)))


def _stage_pipeline(row: Mapping[str, Any]) -> int:
    entity = str(row.get("entityId"))
    if row.get("categoryId") is not None:
        return int(row["categoryId"])
    return int(entity.rpartition("_")[2]) if entity[-1:].isdigit() else 0


def _pipeline_id(lookups: Lookups, pipeline: int | str) -> int:
    for p in lookups.pipelines:
        if pipeline in (p.id, p.name) or str(pipeline) == str(p.id):
            return p.id
    names = ", ".join(f"{p.id} ({p.name})" for p in lookups.pipelines)
    raise ConfigurationError(
        f"pipeline={pipeline!r} is not a pipeline of this portal. Pass one of: {names}."
    )


# Docstrings --------------------------------------------------------------------

_OPTIONS_DOC = """Parameters
        ----------
        since, until : str, date or datetime, optional
            Rows whose {by} is at or after ``since`` and before ``until``
            (a half-open range: since="2026-01-01", until="2026-02-01" is
            January). Times without a zone are read in ``tz`` (else UTC).
        by : str, optional
            The date field since= and until= look at.
        filter : dict, optional
            The platform's filter, passed through, e.g. ``{{"stageId": "WON",
            "amount": {{"$gte": 1000}}}}``.
        select : list of str, optional
            Only these fields (``id`` is always fetched). Custom fields
            (``UF_CRM_*``, ``ufCrm*``) are accepted.
        limit : int, optional
            At most this many rows, the lowest ids first: a quick sample.
        tz : str or tzinfo, optional
            Convert the datetime columns to this zone (they are UTC).
        progress : bool, optional
            True always shows a progress bar, False never; by default one
            appears when the pull takes more than a second.

        Returns
        -------
        pandas.DataFrame
            ``attrs`` holds the provenance: portal, base_url, entity,
            filter, fetched_at, rows and requests.

        Raises
        ------
        ConfigurationError
            For an argument mistake, before anything is sent."""


def _column_doc(entity: str) -> str:
    labels = set(column_types(entity)) - set(SCHEMAS[entity])
    lines = []
    for name, dtype in column_types(entity).items():
        note = "  (label)" if name in labels else ""
        lines.append(f"        {name} : {dtype}{note}")
    lines.append("        ... and any custom field, as the platform sent it.")
    return "\n".join(lines).lstrip()


def _document(method: Callable[..., Any], entity: str) -> None:
    by = _LAST_MODIFIED.get(entity) or "date field named by by="
    method.__doc__ = (method.__doc__ or "").format(
        options=_OPTIONS_DOC.format(by=f"``{by}``").strip(),
        columns=_column_doc(entity),
    )


for _name in SCHEMAS:
    _document(getattr(ResourcesMixin, _name), _name)


# The blocking twins and the module-level functions ------------------------------

GETTERS = (
    "deals",
    "leads",
    "contacts",
    "companies",
    "pipelines",
    "stages",
    "tasks",
    "users",
)


class SyncResourcesMixin:
    """The data getters of the blocking Client; see :class:`ResourcesMixin`."""

    if TYPE_CHECKING:
        _async: Any

        def _run(self, coro: Coroutine[Any, Any, T]) -> T: ...

    def deals(self, **options: Any) -> pd.DataFrame:
        return self._run(self._async.deals(**options))

    def leads(self, **options: Any) -> pd.DataFrame:
        return self._run(self._async.leads(**options))

    def contacts(self, **options: Any) -> pd.DataFrame:
        return self._run(self._async.contacts(**options))

    def companies(self, **options: Any) -> pd.DataFrame:
        return self._run(self._async.companies(**options))

    def pipelines(self, **options: Any) -> pd.DataFrame:
        return self._run(self._async.pipelines(**options))

    def stages(self, **options: Any) -> pd.DataFrame:
        return self._run(self._async.stages(**options))

    def tasks(self, **options: Any) -> pd.DataFrame:
        return self._run(self._async.tasks(**options))

    def users(self, **options: Any) -> pd.DataFrame:
        return self._run(self._async.users(**options))


def _mirror(target: Callable[..., Any], source: Callable[..., Any]) -> None:
    """Give ``target`` the docstring and keyword signature of ``source``."""
    target.__doc__ = source.__doc__
    signature = inspect.signature(source)
    params = [p for p in signature.parameters.values() if p.name != "self"]
    return_type = signature.return_annotation
    target.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=params, return_annotation=return_type
    )


for _name in GETTERS:
    _mirror(getattr(SyncResourcesMixin, _name), getattr(ResourcesMixin, _name))


def _session_getter(name: str) -> Callable[..., pd.DataFrame]:
    def getter(**options: Any) -> pd.DataFrame:
        return getattr(get_session(), name)(**options)  # type: ignore[no-any-return]

    getter.__name__ = getter.__qualname__ = name
    _mirror(getter, getattr(ResourcesMixin, name))
    return getter


deals = _session_getter("deals")
leads = _session_getter("leads")
contacts = _session_getter("contacts")
companies = _session_getter("companies")
pipelines = _session_getter("pipelines")
stages = _session_getter("stages")
tasks = _session_getter("tasks")
users = _session_getter("users")
