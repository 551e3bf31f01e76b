"""Keyset paging and windowed pulls against an in-memory list API."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest
from _fakeapi import KEY, FakePlatform

from vibe_notebook import errors
from vibe_notebook._client import AsyncClient
from vibe_notebook._paging import (
    _span,
    _split,
    filter_params,
    page_params,
    pull_rows,
)


def _client(fake: FakePlatform) -> AsyncClient:
    return AsyncClient(KEY, base_url="http://fake", transport=fake.transport())


def _pull(fake: FakePlatform, page_size: int = 50, **options: Any) -> list[dict]:
    """Pull deals with a small page size, through the real client and httpx."""
    client = _client(fake)

    async def fetch(params: dict[str, str]) -> list[dict[str, Any]]:
        return (await client.request("GET", "/v1/deals", params=params)).rows

    return asyncio.run(pull_rows(fetch, page_size=page_size, **options))


def _ids(rows: list[dict]) -> list[int]:
    return [row["id"] for row in rows]


@pytest.mark.parametrize(
    ("filter", "params"),
    [
        ({"stageId": "NEW"}, {"filter[stageId]": "NEW"}),
        (
            {"amount": {"$gte": 100, "$lt": 5}},
            {"filter[amount][$gte]": "100", "filter[amount][$lt]": "5"},
        ),
        ({"closed": False}, {"filter[closed]": "false"}),
        ({"closedAt": None}, {"filter[closedAt]": "null"}),
        ({"id": [1, 2, 3]}, {"filter[id][$in]": "1,2,3"}),
        ({"stageId": {"$in": ["NEW", "WON"]}}, {"filter[stageId][$in]": "NEW,WON"}),
        (None, {}),
    ],
    ids=["equal", "operators", "bool", "null", "list-is-in", "in-operator", "none"],
)
def test_filter_params_bracket_form(filter: Any, params: dict[str, str]) -> None:
    assert filter_params(filter) == params


def test_page_params_keyset_query() -> None:
    params = page_params({"stageId": "NEW"}, ["title"], limit=5000, id_ops={"$gt": 42})

    assert params == {
        "limit": "5000",
        "order[id]": "asc",
        "select": "id,title",
        "filter[stageId]": "NEW",
        "filter[id][$gt]": "42",
    }


def test_page_params_keeps_the_tighter_user_id_bound() -> None:
    loose = page_params({"id": {"$gt": 10}}, None, limit=5, id_ops={"$gt": 50})
    tight = page_params(
        {"id": {"$gt": 90, "$lte": 95}}, None, limit=5, id_ops={"$gt": 50, "$lte": 99}
    )

    assert loose["filter[id][$gt]"] == "50"
    assert tight["filter[id][$gt]"] == "90"
    assert tight["filter[id][$lte]"] == "95"


@pytest.mark.parametrize(
    ("last", "highest", "span", "windows"),
    [
        (100, 100, 50, []),
        (100, 150, 50, [(101, 150)]),
        (0, 200, 50, [(1, 50), (51, 100), (101, 150), (151, 200)]),
        (0, 200, 80, [(1, 80), (81, 160), (161, 200)]),
        (0, 10_000, 50, [(lo, lo + 624) for lo in range(1, 10_001, 625)]),
        ("a", "z", 50, []),
    ],
    ids=["none", "one", "four", "wide-span", "capped-at-16", "non-numeric"],
)
def test_split_windows_cover_the_range(
    last: Any, highest: Any, span: int, windows: list
) -> None:
    assert _split(last, highest, span, 16) == windows


@pytest.mark.parametrize(
    ("density", "span"), [(1.0, 50), (0.5, 90), (0.1, 450), (0.99, 50)]
)
def test_span_holds_about_one_page(density: float, span: int) -> None:
    assert _span(50, density) == span


def _window_requests(fake: FakePlatform) -> list[httpx.Request]:
    return [r for r in fake.requests if "filter[id][$lte]" in r.url.params]


def test_pull_returns_every_row_once_in_id_order() -> None:
    fake = FakePlatform(range(1, 1001))

    rows = _pull(fake)

    assert _ids(rows) == list(range(1, 1001))
    window_requests = [r for r in fake.requests if "filter[id][$lte]" in r.url.params]
    assert window_requests  # the range was split into windows


def test_pull_with_a_filter_and_sparse_ids() -> None:
    ids = sorted(random.Random(5).sample(range(1, 50_000), 700))
    fake = FakePlatform(ids)

    rows = _pull(fake, filter={"stageId": "NEW"})

    assert _ids(rows) == [i for i in ids if i % 3]


@pytest.mark.parametrize("seed", range(8))
def test_pull_survives_inserts_and_deletes_mid_pull(seed: int) -> None:
    rng = random.Random(seed)
    fake = FakePlatform(range(1, 801))
    deleted: set[int] = set()

    def churn(fake: FakePlatform, request: httpx.Request) -> None:
        fake.insert(rng.randint(0, 3))
        for _ in range(rng.randint(0, 3)):
            victim = rng.choice(sorted(fake.rows))
            deleted.add(victim)
            del fake.rows[victim]

    fake.before_list = churn
    rows = _pull(fake)

    got = _ids(rows)
    assert len(got) == len(set(got))
    assert got == sorted(got)
    survivors = set(range(1, 801)) - deleted
    assert survivors <= set(got)
    assert set(got) <= set(range(1, fake.next_id))


def test_pull_never_trusts_meta() -> None:
    fake = FakePlatform(range(1, 121))  # every page says total 0, hasMore true

    rows = _pull(fake)

    assert _ids(rows) == list(range(1, 121))
    assert len(fake.requests) < 10


def test_pull_single_object_answer_counts_as_one_row() -> None:
    fake = FakePlatform(range(1, 101))

    rows = _pull(fake, filter={"id": {"$gte": 100}})
    one = _pull(FakePlatform([7]))

    assert _ids(rows) == [100]
    assert _ids(one) == [7]


def test_pull_empty_entity() -> None:
    fake = FakePlatform([])

    rows = _pull(fake)

    assert rows == []
    assert len(fake.requests) <= 2


def test_pull_limit_reads_a_sample_in_one_walk() -> None:
    fake = FakePlatform(range(1, 1001))

    rows = _pull(fake, limit=7)
    more = _pull(fake, limit=120)

    assert _ids(rows) == list(range(1, 8))
    assert fake.requests[0].url.params["limit"] == "7"
    assert _ids(more) == list(range(1, 121))
    assert all("filter[id][$lte]" not in r.url.params for r in fake.requests)


def test_pull_point_id_filter_is_one_request() -> None:
    fake = FakePlatform(range(1, 101))

    rows = _pull(fake, filter={"id": [5, 9, 77]})

    assert _ids(rows) == [5, 9, 77]
    assert len(fake.requests) == 1


def test_pull_reports_progress() -> None:
    fake = FakePlatform(range(1, 301))
    batches: list[int] = []

    rows = _pull(fake, on_rows=batches.append)

    assert sum(batches) == len(rows) == 300


@pytest.mark.parametrize(
    "ids",
    [range(1, 1001), [*range(1, 1001, 20), *range(1001, 2001)]],
    ids=["dense", "sparse-then-dense"],
)
def test_pull_hands_each_page_to_on_page_as_the_rows_it_returns(ids: Any) -> None:
    fake = FakePlatform(ids)
    pages: list[list[dict]] = []

    rows = _pull(fake, on_page=pages.append)

    assert sum(len(page) for page in pages) == len(rows) == len(ids)
    assert all(_ids(page) == sorted(_ids(page)) for page in pages)
    returned = {id(row) for row in rows}
    assert all(id(row) in returned for page in pages for row in page)


def test_pull_with_a_limit_hands_its_pages_to_on_page() -> None:
    fake = FakePlatform(range(1, 1001))
    pages: list[list[dict]] = []

    rows = _pull(fake, limit=120, on_page=pages.append)

    assert [row for page in pages for row in page] == rows
    assert [len(page) for page in pages] == [120]  # one page of the limit


def test_pull_stops_all_windows_on_error() -> None:
    fake = FakePlatform(range(1, 1001))

    def fail_late(fake: FakePlatform, request: httpx.Request) -> None:
        if len(fake.requests) > 4:
            fake.faults.append(
                httpx.Response(
                    400, json={"success": False, "error": {"code": "INVALID_PARAMS"}}
                )
            )

    fake.before_list = fail_late

    with pytest.raises(errors.InvalidRequestError):
        _pull(fake)


def test_pull_cancelled_raises_pull_interrupted_with_rows() -> None:
    fake = FakePlatform(range(1, 1001))
    release = None

    async def main() -> errors.PullInterrupted:
        nonlocal release
        release = asyncio.Event()
        served = 0
        client = _client(fake)

        async def fetch(params: dict[str, str]) -> list[dict[str, Any]]:
            nonlocal served
            served += 1
            if served > 4:
                await release.wait()  # later pages hang until cancelled
            return (await client.request("GET", "/v1/deals", params=params)).rows

        task = asyncio.ensure_future(pull_rows(fetch, entity="deals", page_size=50))
        while served <= 6:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(errors.PullInterrupted) as caught:
            await task
        return caught.value

    interrupted = asyncio.run(main())

    assert 50 <= len(interrupted.rows) < 1000
    assert f"after {len(interrupted.rows):,} rows arrived" in str(interrupted)
    assert _ids(interrupted.rows) == sorted(_ids(interrupted.rows))


def test_client_pull_uses_5000_row_keyset_pages() -> None:
    fake = FakePlatform(range(1, 12))

    rows = asyncio.run(_client(fake).pull("deals", select=["title"]))
    big = FakePlatform(range(1, 6001))
    asyncio.run(_client(big).pull("deals"))

    first = fake.requests[0].url.params
    assert _ids(rows) == list(range(1, 12))
    assert first["limit"] == "1000"  # the sample page, a fifth of a page
    assert first["order[id]"] == "asc"
    assert first["select"] == "id,title"
    assert [r.url.params["limit"] for r in _window_requests(big)] == ["5000"]


def test_pull_dense_windows_cost_one_request_each() -> None:
    fake = FakePlatform(range(1, 1001))

    rows = _pull(fake)

    windows = _window_requests(fake)
    starts = [int(r.url.params["filter[id][$gte]"]) for r in windows]
    assert _ids(rows) == list(range(1, 1001))
    assert len(starts) == len(set(starts)) == 20  # 990 ids in windows of 50
    assert all("filter[id][$gt]" not in r.url.params for r in windows)
    # sample page, max-id probe, 20 windows, the tail walk past the max
    assert len(fake.requests) == 23


def test_pull_sparse_ids_get_wider_windows() -> None:
    ids = list(range(10, 10_001, 10))  # one id in ten
    fake = FakePlatform(ids)

    rows = _pull(fake)

    windows = _window_requests(fake)
    spans = {
        int(r.url.params["filter[id][$lte]"]) - int(r.url.params["filter[id][$gte]"])
        for r in windows
    }
    assert _ids(rows) == ids
    assert max(spans) + 1 == _span(50, 10 / 91)  # the sample covered ids 10..100
    assert len(windows) < 30  # not the ~200 that 50-id windows would take


def test_pull_window_that_overflows_is_split_above_its_last_id() -> None:
    # sparse at first, so the first windows are wide, then dense
    ids = [*range(1, 1001, 20), *range(1001, 2001)]
    fake = FakePlatform(ids)

    rows = _pull(fake)

    starts = [int(r.url.params["filter[id][$gte]"]) for r in _window_requests(fake)]
    full = [
        r for r in _window_requests(fake) if r.url.params["filter[id][$gte]"] == "996"
    ]
    assert _ids(rows) == ids
    assert len(starts) == len(set(starts))  # no id range is asked for twice
    assert len(full) == 1
    assert any(start > 1046 for start in starts)  # split past the full page
    assert len(fake.requests) < 2 * len(ids) / 50


def test_pull_catches_rows_created_while_windows_run() -> None:
    fake = FakePlatform(range(1, 501))
    created: list[int] = []

    def create_early(fake: FakePlatform, request: httpx.Request) -> None:
        if len(fake.requests) <= 6:
            created.extend(fake.insert(2))

    fake.before_list = create_early
    rows = _pull(fake)

    assert _ids(rows) == [*range(1, 501), *created]
    assert len(created) == 12


def test_pull_skips_no_rows_deleted_elsewhere_mid_pull() -> None:
    fake = FakePlatform(range(1, 1001))
    deleted: set[int] = set()

    def delete_ahead(fake: FakePlatform, request: httpx.Request) -> None:
        for victim in (len(fake.requests) * 37, len(fake.requests) * 41 + 3):
            if fake.rows.pop(victim, None) is not None:
                deleted.add(victim)

    fake.before_list = delete_ahead
    rows = _pull(fake)

    got = _ids(rows)
    assert deleted
    assert got == sorted(set(got))
    assert set(range(1, 1001)) - deleted <= set(got)


def test_pull_reports_an_estimated_then_final_total() -> None:
    dense = FakePlatform(range(1, 1001))
    small = FakePlatform(range(1, 8))
    totals: list[int] = []
    small_totals: list[int] = []

    _pull(dense, on_total=totals.append)
    _pull(small, on_total=small_totals.append)

    assert totals == [1000, 1000]
    assert small_totals == [7]
