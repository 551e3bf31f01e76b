"""The data getters: deals(), tasks(), ... as client methods and module functions."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from ._fields import SCHEMAS
from ._frames import PagedFrame, to_frame
from ._getter_docs import document, mirror
from ._lookup_cache import NEEDS, LookupsMixin
from ._lookups import (
    pipeline_id,
    stage_list,
    stage_pipeline,
    stage_rows,
    with_default_pipeline,
)
from ._progress import progress_bar
from ._pull_plan import PullPlan, check_tz, plan_pull
from ._session import get_session

__all__ = [
    "GETTERS",
    "ResourcesMixin",
    "SyncResourcesMixin",
    "companies",
    "contacts",
    "deals",
    "leads",
    "pipelines",
    "stages",
    "tasks",
    "users",
]

T = TypeVar("T")


# The async getters -------------------------------------------------------------


class ResourcesMixin(LookupsMixin):
    """The data getters of AsyncClient; they return typed pandas DataFrames."""

    base_url: str

    if TYPE_CHECKING:

        @property
        def stats(self) -> dict[str, Any]: ...

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
        check_tz(tz)
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
        check_tz(tz)
        lookups = await self._lookups(("categories", "statuses"))
        rows = stage_rows(self._lookup_rows().get("statuses", []), lookups)
        if pipeline is not None:
            wanted = pipeline_id(lookups, pipeline)
            rows = [r for r in rows if stage_pipeline(r) == wanted]
        frame = to_frame("stages", rows, lookups=lookups, tz=tz)
        return self._stamped(frame, "stages", {}, 0)

    # -- plumbing ---------------------------------------------------------------

    async def _frame(self, plan: PullPlan) -> pd.DataFrame:
        before = self.stats["requests"]
        # lookups load beside the pull; they are needed only to label rows
        lookups_task = asyncio.ensure_future(self._lookups(NEEDS[plan.entity]))
        # each page is typed as it arrives, while later pages are on the way
        paged = PagedFrame(plan.entity, select=plan.select)
        try:
            with progress_bar(plan) as (on_rows, on_total):
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
            frame.attrs["stages"] = stage_list(lookups)
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


def _options(scope: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in scope.items() if k != "self"}


for _name in SCHEMAS:
    document(getattr(ResourcesMixin, _name), _name)


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


for _name in GETTERS:
    mirror(getattr(SyncResourcesMixin, _name), getattr(ResourcesMixin, _name))


def _session_getter(name: str) -> Callable[..., pd.DataFrame]:
    def getter(**options: Any) -> pd.DataFrame:
        return getattr(get_session(), name)(**options)  # type: ignore[no-any-return]

    getter.__name__ = getter.__qualname__ = name
    mirror(getter, getattr(ResourcesMixin, name))
    return getter


deals = _session_getter("deals")
leads = _session_getter("leads")
contacts = _session_getter("contacts")
companies = _session_getter("companies")
pipelines = _session_getter("pipelines")
stages = _session_getter("stages")
tasks = _session_getter("tasks")
users = _session_getter("users")
