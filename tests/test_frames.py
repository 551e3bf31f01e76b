"""Records to typed, labelled frames: dtypes, empty frames, custom fields, labels."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from vibe_notebook._fields import SCHEMAS
from vibe_notebook._frames import PagedFrame, to_frame
from vibe_notebook._labels import column_types
from vibe_notebook._lookups import build_lookups, with_default_pipeline

LOOKUPS = build_lookups(
    categories=[{"id": 1, "name": "Partners", "sort": 200}],
    statuses=[
        {"entityId": "DEAL_STAGE", "statusId": "NEW", "name": "New", "sort": 10},
        {"entityId": "DEAL_STAGE", "statusId": "PREP", "name": "Prep", "sort": 20},
        {
            "entityId": "DEAL_STAGE",
            "statusId": "WON",
            "name": "Won",
            "sort": 30,
            "semantics": "S",
        },
        {"entityId": "DEAL_STAGE_1", "statusId": "C1:NEW", "name": "New", "sort": 10},
        {"entityId": "DEAL_STAGE_1", "statusId": "C1:DEMO", "name": "Demo", "sort": 20},
        {
            "entityId": "DEAL_STAGE_1",
            "statusId": "C1:WON",
            "name": "Won",
            "sort": 30,
            "semantics": "S",
        },
        {"entityId": "SOURCE", "statusId": "WEB", "name": "Website", "sort": 10},
        {"entityId": "STATUS", "statusId": "NEW", "name": "Unassigned", "sort": 10},
        {"entityId": "STATUS", "statusId": "DONE", "name": "Good lead", "sort": 20},
    ],
    users=[{"id": 1, "name": "Ann", "lastName": "Lee"}, {"id": 2, "email": "b@x.io"}],
    currencies=[{"id": "USD", "sort": 200}, {"id": "RUB", "sort": 100}],
)


@pytest.mark.parametrize(
    ("entity", "field", "raw", "dtype", "expected"),
    [
        ("deals", "id", [1, 2], "Int64", [1, 2]),
        ("deals", "contactId", [5, None], "Int64", [5, pd.NA]),
        ("tasks", "id", ["7", "8"], "Int64", [7, 8]),
        ("tasks", "priority", ["2", None], "Int64", [2, pd.NA]),
        ("tasks", "timeEstimate", ["3600", "abc"], "Int64", [3600, pd.NA]),
        ("deals", "amount", [10.5, None], "float64", [10.5, np.nan]),
        ("deals", "amount", ["12.25", 3], "float64", [12.25, 3.0]),
        ("deals", "currency", ["USD", None], "category", ["USD", np.nan]),
        ("deals", "stageId", ["NEW", "C1:NEW"], "category", ["NEW", "C1:NEW"]),
        (
            "deals",
            "createdAt",
            ["2026-01-02T03:04:05.000Z", None],
            "datetime64[us, UTC]",
            [pd.Timestamp("2026-01-02T03:04:05Z"), pd.NaT],
        ),
        (
            "contacts",
            "birthdate",
            ["1990-05-06", None],
            "datetime64[us]",
            [pd.Timestamp("1990-05-06"), pd.NaT],
        ),
        ("deals", "closed", [True, False], "boolean", [True, False]),
        ("deals", "opened", [None, True], "boolean", [pd.NA, True]),
        ("tasks", "allowTimeTracking", ["Y", "N"], "boolean", [True, False]),
        ("deals", "title", ["Big deal", None], "str", ["Big deal", np.nan]),
        ("contacts", "fm", [[{"typeId": "PHONE"}], []], "object", None),
    ],
    ids=[
        "id-int",
        "id-null",
        "task-id-string",
        "task-number-string",
        "task-number-junk",
        "money-float",
        "money-string",
        "currency-category",
        "code-category",
        "datetime-utc",
        "date-naive",
        "bool",
        "bool-null",
        "bool-Y/N",
        "string",
        "list-passthrough",
    ],
)
def test_to_frame_field_kind_gives_dtype(entity, field, raw, dtype, expected):
    records = [{"id": i + 1, field: value} for i, value in enumerate(raw)]
    if field == "id":
        records = [{"id": value} for value in raw]

    frame = to_frame(entity, records, select=["id", field])

    column = frame[field]
    assert str(column.dtype) == dtype
    if expected is None:
        assert column.tolist() == raw
    else:
        pd.testing.assert_series_equal(
            column.astype(object).reset_index(drop=True),
            pd.Series(expected, dtype=object, name=field),
            check_dtype=False,
        )


@pytest.mark.parametrize("entity", sorted(SCHEMAS))
def test_to_frame_empty_result_has_full_schema(entity):
    frame = to_frame(entity, [], lookups=LOOKUPS)

    assert len(frame) == 0
    assert list(frame.columns) == list(column_types(entity))
    for name, dtype in column_types(entity).items():
        assert str(frame[name].dtype) == dtype.removesuffix(" (ordered)"), name


@pytest.mark.parametrize("entity", ["deals", "tasks"])
def test_to_frame_empty_and_full_frames_share_dtypes(entity):
    record = {
        "deals": {"id": 1, "stageId": "NEW", "assignedById": 1, "createdAt": None},
        "tasks": {"id": "1", "status": "2", "deadline": None, "responsibleId": "1"},
    }[entity]

    full = to_frame(entity, [record], lookups=LOOKUPS)
    empty = to_frame(entity, [], lookups=LOOKUPS)

    assert list(full.columns) == list(empty.columns)
    assert full.dtypes.astype(str).tolist() == empty.dtypes.astype(str).tolist()


def test_to_frame_custom_fields_pass_through_untouched():
    region = {"code": "NW", "names": ["North", "West"]}
    records = [
        {"id": 1, "UF_CRM_REGION": region, "ufCrmScore": "7", "UF_CRM_X": None},
        {"id": 2, "UF_CRM_REGION": "South", "ufCrmScore": "8", "UF_CRM_X": 3},
    ]

    frame = to_frame("deals", records)

    assert frame["UF_CRM_REGION"].dtype == object
    assert frame["UF_CRM_REGION"][0] is region
    assert frame["ufCrmScore"].tolist() == ["7", "8"]
    assert frame["UF_CRM_X"].tolist() == [None, 3]
    assert list(frame.columns[-3:]) == ["UF_CRM_REGION", "ufCrmScore", "UF_CRM_X"]


def test_to_frame_finds_custom_fields_missing_from_the_first_row():
    records = [{"id": 1}, {"id": 2, "UF_CRM_LATE": "x"}]

    frame = to_frame("leads", records)

    assert frame["UF_CRM_LATE"].tolist()[1] == "x"


def test_to_frame_select_keeps_only_selected_fields_and_their_labels():
    records = [{"id": 1, "stageId": "NEW", "title": "a"}]

    frame = to_frame("deals", records, lookups=LOOKUPS, select=["id", "stageId"])

    assert list(frame.columns) == ["id", "stageId", "stage"]


def test_to_frame_stage_is_ordered_in_pipeline_order():
    records = [
        {"id": 1, "stageId": "WON", "categoryId": 0},
        {"id": 2, "stageId": "C1:DEMO", "categoryId": 1},
        {"id": 3, "stageId": "PREP", "categoryId": 0},
        {"id": 4, "stageId": "GONE", "categoryId": 0},
    ]

    frame = to_frame("deals", records, lookups=LOOKUPS)

    stage = frame["stage"]
    assert stage.cat.ordered
    assert list(stage.cat.categories) == ["New", "Demo", "Prep", "Won", "GONE"]
    assert stage.tolist() == ["Won", "Demo", "Prep", "GONE"]
    assert stage[2] < stage[0]


def test_to_frame_stage_of_one_pipeline_lists_only_its_stages():
    records = [{"id": 1, "stageId": "C1:NEW"}]

    frame = to_frame("deals", records, lookups=LOOKUPS)

    assert list(frame["stage"].cat.categories) == ["New", "Demo", "Won"]


@pytest.mark.parametrize(
    ("field", "raw", "label", "expected"),
    [
        ("categoryId", [0, 1, None], "pipeline", ["General", "Partners", None]),
        ("stageSemanticId", ["P", "S", "F"], "stageSemantic", ["open", "won", "lost"]),
        ("assignedById", [1, 2, 99], "assignedBy", ["Ann Lee", "b@x.io", None]),
        ("createdById", [1, None], "createdBy", ["Ann Lee", None]),
        ("sourceId", ["WEB", "FAIR"], "source", ["Website", "FAIR"]),
    ],
    ids=["pipeline", "semantic", "user", "user-null", "source-unknown-code"],
)
def test_to_frame_deal_labels(field, raw, label, expected):
    records = [{"id": i + 1, field: value} for i, value in enumerate(raw)]

    frame = to_frame("deals", records, lookups=LOOKUPS)

    assert frame[label].dtype == "category"
    assert [None if pd.isna(v) else v for v in frame[label]] == expected
    assert list(frame.columns).index(label) == list(frame.columns).index(field) + 1


def test_to_frame_pipeline_categories_start_with_the_default_pipeline():
    frame = to_frame("deals", [{"id": 1, "categoryId": 1}], lookups=LOOKUPS)

    assert list(frame["pipeline"].cat.categories) == ["General", "Partners"]


def test_to_frame_lead_status_is_ordered_by_sort():
    records = [{"id": 1, "statusId": "DONE"}, {"id": 2, "statusId": "NEW"}]

    frame = to_frame("leads", records, lookups=LOOKUPS)

    assert frame["status"].tolist() == ["Good lead", "Unassigned"]
    assert frame["status"].cat.ordered
    assert list(frame["status"].cat.categories) == ["Unassigned", "Good lead"]


@pytest.mark.parametrize(
    ("status", "deadline", "overdue"),
    [
        ("1", "2026-01-01T00:00:00.000Z", True),
        ("2", "2026-01-01T00:00:00.000Z", True),
        ("3", "2026-01-01T00:00:00.000Z", True),
        ("3", "2026-03-01T00:00:00.000Z", False),
        ("3", None, False),
        ("4", "2026-01-01T00:00:00.000Z", False),
        ("5", "2026-01-01T00:00:00.000Z", False),
        ("6", "2026-01-01T00:00:00.000Z", False),
        ("7", "2026-01-01T00:00:00.000Z", False),
    ],
    ids=[
        "new-late",
        "pending-late",
        "in-progress-late",
        "in-progress-on-time",
        "no-deadline",
        "awaiting-control",
        "completed",
        "deferred",
        "declined",
    ],
)
def test_to_frame_task_overdue_rule(status, deadline, overdue):
    now = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    record = {"id": "1", "status": status, "deadline": deadline}

    frame = to_frame("tasks", [record], now=now)

    assert frame["overdue"].dtype == "boolean"
    assert bool(frame["overdue"][0]) is overdue


def test_to_frame_task_status_names_and_codes():
    records = [{"id": str(i), "status": str(i)} for i in range(1, 8)]

    frame = to_frame("tasks", records)

    assert frame["statusId"].tolist() == list(range(1, 8))
    assert frame["status"].tolist() == [
        "New",
        "Pending",
        "In progress",
        "Awaiting control",
        "Completed",
        "Deferred",
        "Declined",
    ]


def test_to_frame_contact_primary_phone_and_email():
    fm = [
        {"typeId": "EMAIL", "value": "a@x.io"},
        {"typeId": "PHONE", "value": "+1 1"},
        {"typeId": "PHONE", "value": "+1 2"},
    ]
    records = [{"id": 1, "fm": fm, "PHONE": None}, {"id": 2, "fm": []}]

    frame = to_frame("contacts", records)

    assert frame["phone"].tolist()[0] == "+1 1"
    assert frame["email"].tolist()[0] == "a@x.io"
    assert frame["phone"].isna()[1]
    assert frame["fm"][0] is fm
    assert "PHONE" not in frame.columns
    columns = list(frame.columns)
    assert columns[columns.index("fm") + 1 :][:2] == ["phone", "email"]


def test_to_frame_currency_categories_follow_the_portal_list():
    frame = to_frame("deals", [{"id": 1, "currency": "EUR"}], lookups=LOOKUPS)

    assert list(frame["currency"].cat.categories) == ["RUB", "USD", "EUR"]


def test_to_frame_tz_converts_datetimes_only():
    record = {"id": 1, "createdAt": "2026-01-01T12:00:00.000Z"}

    frame = to_frame("deals", [record], tz="Asia/Tokyo")

    assert str(frame["createdAt"].dt.tz) == "Asia/Tokyo"
    assert frame["createdAt"][0].hour == 21
    assert frame["createdAt"][0] == pd.Timestamp("2026-01-01T12:00:00Z")


def test_with_default_pipeline_adds_general_unless_named():
    assert with_default_pipeline([{"id": 1, "name": "B"}])[0]["name"] == "General"
    named = with_default_pipeline([{"id": 0, "name": "Main"}, {"id": 1}])
    assert [r["name"] for r in named if r["id"] == 0] == ["Main"]
    assert len(named) == 2


def test_users_full_name_label():
    frame = to_frame("users", [{"id": 1, "name": "Ann", "lastName": "Lee"}])

    assert frame["fullName"].tolist() == ["Ann Lee"]


# Frames built page by page ----------------------------------------------------


def _portal_records(entity: str, rows: int = 900) -> list[dict]:
    """Sandbox records of ``entity`` as the wire carries them (tasks as strings)."""
    import json

    from vibe_notebook.sandbox._data import PortalPlan, build_portal
    from vibe_notebook.sandbox._schema import TASK_STRING_FIELDS

    portal = build_portal(PortalPlan("pages.bitrix24.com", "Pages", 7, rows))
    table = portal.tables[entity]
    records = json.loads(json.dumps([table[key] for key in table]))
    if entity == "tasks":
        for row in records:
            for name in TASK_STRING_FIELDS:
                if row.get(name) is not None:
                    row[name] = str(row[name])
    return records


def _paged_frame(
    entity: str, records: list[dict], size: int, **options: object
) -> pd.DataFrame:
    """Pages of ``size`` rows added last page first, as windows may arrive."""
    select = options.pop("select", None)
    paged = PagedFrame(entity, select=select)  # type: ignore[arg-type]
    pages = [records[i : i + size] for i in range(0, len(records), size)]
    for page in reversed(pages):
        paged.add(page)
    return paged.frame(records, **options)  # type: ignore[arg-type]


def _assert_same_frame(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    for name in want.columns:
        if isinstance(want[name].dtype, pd.CategoricalDtype):
            assert list(got[name].cat.categories) == list(want[name].cat.categories)
            assert got[name].cat.ordered == want[name].cat.ordered


@pytest.mark.parametrize(
    "entity", ["deals", "leads", "contacts", "companies", "tasks", "users"]
)
def test_paged_frame_equals_to_frame_of_all_rows(entity):
    records = _portal_records(entity)
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)

    got = _paged_frame(entity, records, 128, lookups=LOOKUPS, now=now)
    want = to_frame(entity, records, lookups=LOOKUPS, now=now)

    _assert_same_frame(got, want)


def test_paged_frame_equals_to_frame_with_select_and_tz():
    records = _portal_records("deals")
    select = ["title", "stageId", "currency", "UF_CRM_DEAL_REGION"]
    picked = [{f: r.get(f) for f in ["id", *select]} for r in records]

    got = _paged_frame(
        "deals", picked, 100, select=select, lookups=LOOKUPS, tz="Asia/Tokyo"
    )
    want = to_frame("deals", picked, select=select, lookups=LOOKUPS, tz="Asia/Tokyo")

    _assert_same_frame(got, want)


def test_paged_frame_joins_categories_first_seen_on_later_pages():
    records = [
        {"id": 1, "currency": "EUR", "stageId": "WON", "UF_CRM_X": None},
        {"id": 2, "currency": None, "stageId": "C1:NEW"},
        {"id": 3, "currency": "USD", "stageId": "APOLOGY", "UF_CRM_Y": 5, "x": 0},
    ]

    got = _paged_frame("deals", records, 1, lookups=LOOKUPS)
    want = to_frame("deals", records, lookups=LOOKUPS)

    _assert_same_frame(got, want)
    assert list(got.currency.cat.categories) == ["RUB", "USD", "EUR"]
    assert list(got.columns[-3:]) == ["UF_CRM_X", "UF_CRM_Y", "x"]


def test_paged_frame_types_all_rows_when_pages_do_not_match():
    records = _portal_records("deals", 50)
    paged = PagedFrame("deals")
    paged.add(records[:20])  # the rest never arrived as pages

    got = paged.frame(records, lookups=LOOKUPS)

    _assert_same_frame(got, to_frame("deals", records, lookups=LOOKUPS))


def test_paged_frame_coerces_like_to_frame_when_a_page_is_unreadable():
    records = [{"id": "1", "timeEstimate": "60"}, {"id": "2", "timeEstimate": "x"}]

    got = _paged_frame("tasks", records, 1)

    _assert_same_frame(got, to_frame("tasks", records))
    assert got.timeEstimate.tolist() == [60, pd.NA]


def test_paged_frame_of_no_rows_has_the_full_schema():
    got = PagedFrame("leads").frame([])

    _assert_same_frame(got, to_frame("leads", []))
