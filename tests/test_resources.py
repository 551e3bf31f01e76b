"""The getters: argument checks, and frames that match the sandbox's own data."""

from __future__ import annotations

import threading
import time

import httpx
import pandas as pd
import pytest

import vibe_notebook as vn
from vibe_notebook import _session
from vibe_notebook._frames import to_frame
from vibe_notebook._labels import column_types
from vibe_notebook._lookups import build_lookups
from vibe_notebook._pull_plan import plan_pull
from vibe_notebook._resources import GETTERS
from vibe_notebook.errors import ConfigurationError, NotConnectedError
from vibe_notebook.sandbox import Sandbox

SCOPES = ["crm", "task", "user"]
PULLED = ["deals", "leads", "contacts", "companies", "tasks", "users"]


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


@pytest.fixture()
def client(sandbox):
    with vn.Client(sandbox.issue_key(scopes=SCOPES), base_url=sandbox.base_url) as c:
        yield c


def _table(sb: Sandbox, name: str) -> list[dict]:
    table = sb.state.portals[sb.portal_domain].tables[name]
    return [table[key] for key in table]


def _lookups(sb: Sandbox):
    return build_lookups(
        categories=[c for c in _table(sb, "deal-categories") if c["id"] != 0],
        statuses=_table(sb, "statuses"),
        users=_table(sb, "users"),
        currencies=_table(sb, "currencies"),
    )


# Argument mistakes fail before any request -------------------------------------


def _refusing_client(sent: list[httpx.Request]) -> vn.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    transport = httpx.MockTransport(handler)
    return vn.Client("vibe_api_test_key", base_url="http://x", transport=transport)


@pytest.mark.parametrize(
    ("getter", "options", "says"),
    [
        ("deals", {"select": ["id", "titel"]}, "did you mean 'title'"),
        ("deals", {"select": ["stage"]}, "label column"),
        ("deals", {"select": []}, "names no field"),
        ("deals", {"since": "last tuesday"}, "is not a date"),
        ("deals", {"until": "2026-13-45"}, "is not a date"),
        ("deals", {"since": 20260101}, "is not a date"),
        ("deals", {"since": "2026-03-01", "until": "2026-02-01"}, "is after until"),
        ("deals", {"since": "2026-01-01", "by": "title"}, "not a date field"),
        ("tasks", {"since": "2026-01-01", "by": "updatedAt"}, "changedDate"),
        ("users", {"since": "2026-01-01"}, "need by="),
        ("deals", {"tz": "Mars/Olympus"}, "not a time zone"),
        ("deals", {"limit": 0}, "not a row count"),
        ("deals", {"limit": "10"}, "not a row count"),
        ("deals", {"filter": "stageId=WON"}, "is not a dict"),
        (
            "deals",
            {"since": "2026-01-01", "filter": {"updatedAt": {"$gte": "2025-01-01"}}},
            "Keep one of the two",
        ),
        ("deals", {"progress": "yes"}, "progress="),
        ("pipelines", {"tz": "Nowhere/Else"}, "not a time zone"),
    ],
    ids=[
        "select-unknown-field",
        "select-label-column",
        "select-empty",
        "since-unparsable",
        "until-unparsable",
        "since-number",
        "since-after-until",
        "by-not-a-date",
        "by-unknown-for-tasks",
        "users-need-by",
        "bad-tz",
        "limit-zero",
        "limit-text",
        "filter-not-dict",
        "filter-clashes-with-since",
        "progress-not-bool",
        "pipelines-bad-tz",
    ],
)
def test_getter_argument_mistake_fails_before_any_request(getter, options, says):
    sent: list[httpx.Request] = []
    with _refusing_client(sent) as client, pytest.raises(ConfigurationError) as caught:
        getattr(client, getter)(**options)

    assert says in str(caught.value)
    assert sent == []


def test_plan_pull_translates_since_until_to_platform_filter():
    plan = plan_pull(
        "deals",
        since="2026-01-01",
        until="2026-02-01T06:00:00+03:00",
        filter={"stageId": "WON"},
    )

    assert plan.filter == {
        "stageId": "WON",
        "updatedAt": {
            "$gte": "2026-01-01T00:00:00.000Z",
            "$lt": "2026-02-01T03:00:00.000Z",
        },
    }


def test_plan_pull_accepts_custom_fields_and_frame_names_in_select():
    plan = plan_pull("tasks", select="id, statusId, ufCrmTask")

    assert plan.select == ["id", "status", "ufCrmTask"]


# Module-level getters -----------------------------------------------------------


@pytest.mark.parametrize("name", GETTERS)
def test_module_getter_before_connect_says_which_cell_to_run(name, monkeypatch):
    monkeypatch.setattr(_session, "_current", None)

    with pytest.raises(NotConnectedError, match=r"vn\.connect\(\)"):
        getattr(vn, name)()


def test_module_getter_uses_the_session(client, monkeypatch):
    monkeypatch.setattr(_session, "_current", None)
    _session.set_session(client)

    frame = vn.deals(limit=3)

    assert frame["id"].tolist() == [1, 2, 3]


# Frames match the sandbox's own data ---------------------------------------------


@pytest.mark.parametrize("entity", PULLED)
def test_getter_frame_matches_sandbox_data(sandbox, client, entity):
    frame = getattr(client, entity)()

    rows = _table(sandbox, entity)
    expected = to_frame(entity, rows, lookups=_lookups(sandbox), now=_now(frame))
    assert len(frame) == len(rows)
    assert frame["id"].is_unique
    pd.testing.assert_frame_equal(frame, expected, check_categorical=False)
    for name, dtype in column_types(entity).items():
        assert str(frame[name].dtype) == dtype.removesuffix(" (ordered)"), name


def _now(frame: pd.DataFrame):
    return pd.Timestamp(frame.attrs["fetched_at"]).to_pydatetime()


def test_deals_labels_match_sandbox_lookups(sandbox, client):
    frame = client.deals()

    statuses = {
        s["statusId"]: s["name"]
        for s in _table(sandbox, "statuses")
        if s["entityId"].startswith("DEAL_STAGE")
    }
    users = {u["id"]: f"{u['name']} {u['lastName']}" for u in _table(sandbox, "users")}
    pipelines = {c["id"]: c["name"] for c in _table(sandbox, "deal-categories")}
    semantic = {"P": "open", "S": "won", "F": "lost"}
    for row in _table(sandbox, "deals")[:300]:
        got = frame.loc[frame["id"] == row["id"]].iloc[0]
        assert got["stage"] == statuses[row["stageId"]]
        assert got["assignedBy"] == users[row["assignedById"]]
        assert got["pipeline"] == pipelines[row["categoryId"]]
        assert got["stageSemantic"] == semantic[row["stageSemanticId"]]


def test_deals_stage_order_follows_each_pipeline(sandbox, client):
    frame = client.deals()

    order = list(frame["stage"].cat.categories)
    for category in (0, 1, 2):
        names = [
            s["name"]
            for s in sorted(_table(sandbox, "statuses"), key=lambda s: s["sort"])
            if s.get("categoryId") == category
        ]
        positions = [order.index(n) for n in names]
        assert positions == sorted(positions), category


def test_deals_stage_order_starts_with_the_default_pipeline(sandbox, client):
    frame = client.deals()

    default = [
        s["name"]
        for s in sorted(_table(sandbox, "statuses"), key=lambda s: s["sort"])
        if s.get("categoryId") == 0 and s["entityId"] == "DEAL_STAGE"
    ]
    assert list(frame["stage"].cat.categories)[: len(default)] == default


def test_pipelines_include_the_default_pipeline(sandbox, client):
    frame = client.pipelines()

    assert frame["id"].tolist()[0] == 0
    assert frame["isDefault"].tolist()[0]
    assert set(frame["id"]) == {c["id"] for c in _table(sandbox, "deal-categories")}


def test_stages_cover_every_pipeline_in_order(sandbox, client):
    frame = client.stages()

    deal_stages = [
        s for s in _table(sandbox, "statuses") if s["entityId"].startswith("DEAL")
    ]
    assert sorted(frame["statusId"]) == sorted(s["statusId"] for s in deal_stages)
    assert frame["pipeline"].tolist()[0] == "General"
    assert set(frame["stageSemantic"]) == {"open", "won", "lost"}
    assert client.stages(pipeline="Partners")["categoryId"].eq(1).all()


def test_getter_provenance_in_attrs(sandbox, client):
    frame = client.leads(filter={"statusId": "NEW"})

    attrs = frame.attrs
    assert attrs["portal"] == sandbox.portal_domain
    assert attrs["base_url"] == sandbox.base_url
    assert attrs["entity"] == "leads"
    assert attrs["filter"] == {"statusId": "NEW"}
    assert attrs["rows"] == len(frame) > 0
    assert attrs["requests"] >= 1
    assert pd.Timestamp(attrs["fetched_at"]).tzinfo is not None


def test_lookups_are_fetched_once_per_client(client):
    client.deals(limit=5)
    before = client.stats["requests"]

    frame = client.deals(limit=5)

    assert client.stats["requests"] - before == frame.attrs["requests"]


def test_getter_since_until_select_limit_tz(sandbox, client):
    frame = client.deals(
        since="2026-01-01",
        until="2026-07-01",
        select=["id", "stageId", "updatedAt"],
        tz="Europe/Berlin",
    )

    # dates without a zone are read in tz=: midnight in Berlin
    lo, hi = "2025-12-31T23:00:00.000Z", "2026-06-30T22:00:00.000Z"
    expected = [r["id"] for r in _table(sandbox, "deals") if lo <= r["updatedAt"] < hi]
    assert frame["id"].tolist() == expected
    assert list(frame.columns) == ["id", "stageId", "stage", "updatedAt"]
    assert str(frame["updatedAt"].dt.tz) == "Europe/Berlin"
    assert client.deals(limit=7)["id"].tolist() == list(range(1, 8))


@pytest.mark.parametrize("entity", PULLED)
def test_getter_empty_result_has_full_schema(client, entity):
    frame = getattr(client, entity)(filter={"id": {"$gt": 10**9}})

    assert len(frame) == 0
    assert list(frame.columns) == list(column_types(entity))
    assert frame.attrs["rows"] == 0


# Writes and faults during a pull ---------------------------------------------------


def test_deals_during_creates_and_deletes_every_lasting_row_once():
    with Sandbox(deals=30_000, profile="demo") as sb:
        table = sb.state.portals[sb.portal_domain].tables["deals"]
        before = set(table)
        writer = _Writer(sb, victims=sorted(before)[100::997])
        with vn.Client(sb.issue_key(scopes=SCOPES), base_url=sb.base_url) as client:
            client.pipelines()  # lookups first, so the writes overlap the pull
            writer.start()
            writer.started.wait(10)
            started = time.monotonic()
            frame = client.deals(progress=False)
            finished = time.monotonic()
            writer.stop()

    ids = frame["id"].tolist()
    assert len(ids) == len(set(ids))
    assert before - writer.deleted <= set(ids)
    assert set(ids) <= before | writer.created
    assert any(started < t < finished for t in writer.times)
    assert writer.deleted and writer.created


class _Writer(threading.Thread):
    """Creates and deletes deals over HTTP until told to stop."""

    def __init__(self, sb: Sandbox, victims: list[int]):
        super().__init__(daemon=True)
        self.http = httpx.Client(
            base_url=sb.base_url, headers={"X-Api-Key": sb.issue_key(scopes=SCOPES)}
        )
        self.victims = victims
        self.created: set[int] = set()
        self.deleted: set[int] = set()
        self.times: list[float] = []
        self.started = threading.Event()
        self._halt = threading.Event()

    def run(self) -> None:
        for victim in self.victims:
            if self._halt.is_set():
                break
            made = self.http.post("/v1/deals", json={"title": "During the pull"})
            self.created.add(made.json()["data"]["id"])
            if self.http.delete(f"/v1/deals/{victim}").status_code < 300:
                self.deleted.add(victim)
            self.times.append(time.monotonic())
            self.started.set()
        self.started.set()

    def stop(self) -> None:
        self._halt.set()
        self.join(30)
        self.http.close()


@pytest.mark.parametrize("fault", ["429", "502", "504", "drop"])
def test_deals_under_injected_faults_match_sandbox_data(fault):
    with Sandbox(deals=12_000, fault_rates={fault: 0.3}) as sb:
        key = sb.issue_key(scopes=SCOPES)
        with vn.Client(key, base_url=sb.base_url) as client:
            frame = client.deals(progress=False)
            retries = client.stats["retries"]
        rows = _table(sb, "deals")

    assert retries > 0
    assert frame["id"].tolist() == [r["id"] for r in rows]
    assert frame["amount"].tolist() == [r["amount"] for r in rows]
    assert frame["stageId"].astype(str).tolist() == [r["stageId"] for r in rows]
