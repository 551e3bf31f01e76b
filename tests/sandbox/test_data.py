"""The seeded generator: same seed, same portal; plausible and consistent."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from vibe_notebook.sandbox._data import (
    DEMO_CLIENT_ID,
    DISABLED_CLIENT_ID,
    PortalPlan,
    build_portal,
    populate,
)
from vibe_notebook.sandbox._data_words import anchor_time, iso, stage_ids
from vibe_notebook.sandbox._state import Portal, SandboxConfig, SandboxState

ANCHOR = anchor_time("2026-12-01", 0)


def _portal(seed: int = 42, deals: int = 1500, **plan: object) -> Portal:
    return build_portal(
        PortalPlan("acme.bitrix24.com", "Acme", seed, deals, anchor=ANCHOR, **plan)
    )


@pytest.fixture(scope="module")
def acme() -> Portal:
    return _portal()


def test_generator_same_seed_gives_same_portal() -> None:
    first, second = _portal(seed=7, deals=300), _portal(seed=7, deals=300)

    for name, table in first.tables.items():
        assert list(table.values()) == list(second.tables[name].values()), name


def test_generator_other_seed_gives_other_deals() -> None:
    first, second = _portal(seed=1, deals=200), _portal(seed=2, deals=200)

    assert list(first.tables["deals"].values()) != list(second.tables["deals"].values())


def test_generator_makes_about_thirty_users_in_departments(acme: Portal) -> None:
    users = list(acme.tables["users"].values())

    departments = Counter(user["departmentId"] for user in users)

    assert len(users) == 30
    assert set(departments) == {1, 2, 3, 4, 5, 6}
    assert departments[2] >= 10
    assert users[0]["isAdmin"] is True


def test_generator_references_hold(acme: Portal) -> None:
    users = set(acme.tables["users"])
    contacts = set(acme.tables["contacts"])
    companies = set(acme.tables["companies"])
    leads = acme.tables["leads"]

    for deal in acme.tables["deals"].values():
        assert deal["assignedById"] in users
        assert deal["createdById"] in users
        assert deal["contactId"] is None or deal["contactId"] in contacts
        assert deal["companyId"] is None or deal["companyId"] in companies
        if deal["leadId"] is not None:
            assert leads[deal["leadId"]]["statusId"] == "CONVERTED"
    for contact in acme.tables["contacts"].values():
        assert contact["companyId"] is None or contact["companyId"] in companies
        assert contact["assignedById"] in users
    for task in acme.tables["tasks"].values():
        assert task["responsibleId"] in users
        assert task["createdBy"] in users


def test_generator_stages_match_pipeline_and_semantics(acme: Portal) -> None:
    stages = {
        cat: {stage: sem or "P" for stage, _, sem in stage_ids(cat)}
        for cat in (0, 1, 2)
    }

    for deal in acme.tables["deals"].values():
        semantic = stages[deal["categoryId"]][deal["stageId"]]
        assert deal["stageSemanticId"] == semantic
        assert deal["closed"] is (semantic != "P")
        assert (deal["closedAt"] is not None) is deal["closed"]
        if deal["categoryId"]:
            assert deal["stageId"].startswith(f"C{deal['categoryId']}:")
        else:
            assert ":" not in deal["stageId"]


def test_generator_covers_every_pipeline_won_and_lost(acme: Portal) -> None:
    deals = list(acme.tables["deals"].values())

    pipelines = Counter(deal["categoryId"] for deal in deals)
    semantics = Counter(deal["stageSemanticId"] for deal in deals)
    currencies = Counter(deal["currency"] for deal in deals)

    assert set(pipelines) == {0, 1, 2}
    assert min(semantics["P"], semantics["S"], semantics["F"]) > 100
    assert {"RUB", "USD", "EUR"} <= set(currencies)


def test_generator_datetimes_are_utc_with_milliseconds(acme: Portal) -> None:
    deal = acme.tables["deals"][1]

    for name in ("createdAt", "updatedAt", "begindate", "movedTime"):
        assert deal[name].endswith(".000Z")
        parsed = dt.datetime.fromisoformat(deal[name])
        assert parsed.timestamp() <= ANCHOR
    assert deal["createdAt"] <= deal["movedTime"] <= deal["updatedAt"]


def test_generator_contacts_carry_phones_and_emails(acme: Portal) -> None:
    contacts = list(acme.tables["contacts"].values())

    kinds = Counter(item["typeId"] for c in contacts for item in c["fm"])

    assert kinds["PHONE"] > len(contacts) / 2
    assert kinds["EMAIL"] > len(contacts) / 2
    first = next(c for c in contacts if c["fm"])["fm"][0]
    assert set(first) == {"id", "typeId", "valueType", "value"}


def test_generator_tasks_have_statuses_groups_and_overdue(acme: Portal) -> None:
    tasks = list(acme.tables["tasks"].values())
    now = iso(ANCHOR)

    overdue = [
        t for t in tasks if t["deadline"] and t["deadline"] < now and t["status"] != 5
    ]

    assert {t["status"] for t in tasks} == set(range(1, 8))
    assert {t["groupId"] for t in tasks} >= {0, 1, 2}
    assert overdue
    assert all(t["closedDate"] for t in tasks if t["status"] == 5)


def test_generator_leads_have_sources_and_statuses(acme: Portal) -> None:
    leads = list(acme.tables["leads"].values())

    assert len({lead["sourceId"] for lead in leads}) == 8
    assert {lead["statusId"] for lead in leads} == {
        "NEW",
        "IN_PROCESS",
        "PROCESSED",
        "JUNK",
        "CONVERTED",
    }


def test_generator_statuses_describe_every_pipeline(acme: Portal) -> None:
    statuses = list(acme.tables["statuses"].values())

    entities = Counter(row["entityId"] for row in statuses)
    won = [row for row in statuses if row["statusId"] == "C1:WON"][0]

    assert {"DEAL_STAGE", "DEAL_STAGE_1", "DEAL_STAGE_2", "SOURCE", "STATUS"} <= set(
        entities
    )
    assert won["semantics"] == "S"
    assert won["extra"] == {"SEMANTICS": "success", "COLOR": won["color"]}
    assert won["categoryId"] == 1


def test_generator_large_portal_is_generated_on_demand() -> None:
    portal = _portal(deals=1_000_000, eager_limit=1000)
    deals = portal.tables["deals"]

    last = deals[1_000_000]

    assert len(deals) == 1_000_000
    assert last["id"] == 1_000_000
    assert deals[1_000_000] == last
    assert deals.get(1_000_001) is None


def test_generator_lazy_and_eager_deals_are_the_same() -> None:
    eager = _portal(deals=3000).tables["deals"]
    lazy = _portal(deals=3000, eager_limit=100).tables["deals"]

    assert [lazy[i] for i in (1, 1024, 1025, 3000)] == [
        eager[i] for i in (1, 1024, 1025, 3000)
    ]


def test_populate_adds_two_portals_and_two_partners() -> None:
    state = SandboxState(SandboxConfig(deals=50, anchor="2026-12-01"))

    populate(state)

    assert list(state.portals) == ["acme.bitrix24.com", "northwind.bitrix24.com"]
    assert state.portals["northwind.bitrix24.com"].name == "Northwind Ltd"
    assert len(state.portals["acme.bitrix24.com"].tables["deals"]) == 50
    assert state.partners[DEMO_CLIENT_ID].enabled
    assert not state.partners[DISABLED_CLIENT_ID].enabled
    assert state.default_portal == "acme.bitrix24.com"
