"""Seeded rows of a portal's tables, users to tasks (deals are in _data_deals)."""

from __future__ import annotations

import hashlib
import random
from typing import TYPE_CHECKING, Any

from ._data_words import (
    CATEGORIES,
    COMPANY_SUFFIXES,
    COMPANY_TYPES,
    COMPANY_WORDS,
    CONTACT_TYPES,
    CURRENCIES,
    DAY,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    LEAD_STATUSES,
    MEDIAN_AMOUNT,
    POSITIONS,
    PRODUCTS,
    SOURCES,
    STAGE_COLORS,
    STAGES,
    TASK_STATUS_WEIGHTS,
    TASK_VERBS,
    iso,
    iso_date,
    stage_ids,
)
from ._state import Row

if TYPE_CHECKING:
    from ._data import Context, PortalPlan


def pick(rng: random.Random, items: Any) -> Any:
    """rng.choice, twice as fast; deals are made by the hundred thousand."""
    return items[int(rng.random() * len(items))]


def seeded_rng(seed: int, domain: str, part: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{domain}:{part}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def created_time(rng: random.Random, anchor: float, days: int = 730) -> float:
    """A creation time in the last ``days``, recent times more likely."""
    age = days * DAY * rng.random() ** 1.6
    moment = anchor - age - 1
    day_start = moment - moment % DAY
    return day_start + rng.randint(6 * 3600, 17 * 3600)


def later_time(rng: random.Random, start: float, anchor: float) -> float:
    return start + (anchor - start) * rng.random() ** 3


def pick_currency(rng: random.Random, ctx: Context) -> str:
    point = rng.random() * ctx.currency_cum[-1]
    for code, edge in zip(ctx.currency_codes, ctx.currency_cum, strict=True):
        if point <= edge:
            return code
    return ctx.currency_codes[-1]


def draw_amount(rng: random.Random, currency: str) -> float:
    value = rng.lognormvariate(0.0, 0.9) * MEDIAN_AMOUNT[currency]
    step = 1000.0 if currency in ("RUB", "KZT") else 10.0
    return max(step, round(value / step) * step)


def company_names(plan: PortalPlan, count: int) -> list[str]:
    rng = seeded_rng(plan.seed, plan.domain, "company-names")
    names = []
    for _ in range(count):
        first, second = pick(rng, COMPANY_WORDS), pick(rng, COMPANY_WORDS).lower()
        names.append(f"{first}{second} {pick(rng, COMPANY_SUFFIXES)}")
    return names


def users(plan: PortalPlan) -> list[Row]:
    rng = seeded_rng(plan.seed, plan.domain, "users")
    mail_domain = plan.domain.split(".")[0] + ".example"
    rows = []
    for user_id in range(1, plan.users + 1):
        department = _department_of(user_id, plan.users)
        first, last = pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)
        registered = plan.anchor - rng.randint(200, 1500) * DAY
        rows.append(
            {
                "id": user_id,
                "active": user_id < 4 or rng.random() > 0.08,
                "name": first,
                "lastName": last,
                "secondName": None,
                "email": f"{first}.{last}.{user_id}@{mail_domain}".lower(),
                "workPosition": pick(rng, POSITIONS[department]),
                "departmentId": department,
                "dateRegister": iso(registered + rng.randint(8, 18) * 3600),
                "lastLogin": iso(plan.anchor - rng.randint(60, 20 * DAY)),
                "timeZone": "Europe/Moscow",
                "userType": "employee",
                "isAdmin": user_id == 1,
                "personalPhoto": None,
            }
        )
    rows[0]["workPosition"] = POSITIONS[1][0]
    return rows


def _department_of(user_id: int, headcount: int) -> int:
    """User 1 runs the company; then 40% sales, the rest spread out."""
    if user_id == 1:
        return 1
    share = (user_id - 1) / max(headcount - 1, 1)
    bounds = [(0.42, 2), (0.56, 3), (0.72, 4), (0.89, 5)]
    return next((dep for limit, dep in bounds if share <= limit), 6)


def categories(plan: PortalPlan) -> list[Row]:
    created = iso(plan.anchor - 900 * DAY)
    default = {"id": 0, "name": "General", "sort": 100, "isLocked": False}
    rows = [{**default, "createdAt": created}]
    for cat_id, name, sort in CATEGORIES:
        rows.append(
            {"id": cat_id, "name": name, "sort": sort, "isLocked": False}
            | {"createdAt": created}
        )
    return rows


def statuses() -> list[Row]:
    rows: list[Row] = []
    for cat_id in STAGES:
        entity = "DEAL_STAGE" + (f"_{cat_id}" if cat_id else "")
        for sort, (status_id, name, sem) in enumerate(stage_ids(cat_id), 1):
            rows.append(_status_row(len(rows) + 1, entity, status_id, name, sort, sem))
            rows[-1]["categoryId"] = cat_id
    for sort, (code, name, sem, _) in enumerate(LEAD_STATUSES, 1):
        rows.append(_status_row(len(rows) + 1, "STATUS", code, name, sort, sem))
    for entity, items in (
        ("SOURCE", SOURCES),
        ("CONTACT_TYPE", CONTACT_TYPES),
        ("COMPANY_TYPE", COMPANY_TYPES),
        ("INDUSTRY", INDUSTRIES),
    ):
        for sort, (code, name) in enumerate(items, 1):
            row = _status_row(len(rows) + 1, entity, code, name, sort, None)
            row["extra"] = None
            row["color"] = None
            rows.append(row)
    return rows


def _status_row(
    row_id: int, entity: str, status_id: str, name: str, sort: int, sem: str | None
) -> Row:
    meaning = {None: "process", "S": "success", "F": "failure"}[sem]
    return {
        "id": row_id,
        "entityId": entity,
        "statusId": status_id,
        "name": name,
        "nameInit": name,
        "sort": sort * 10,
        "system": sem is not None or sort == 1,
        "color": STAGE_COLORS[sem],
        "semantics": sem,
        "categoryId": None,
        "extra": {"SEMANTICS": meaning, "COLOR": STAGE_COLORS[sem]},
    }


def currencies(plan: PortalPlan) -> list[Row]:
    base_rate = CURRENCIES[plan.base_currency][1]
    codes = [plan.base_currency] + [c for c in CURRENCIES if c != plan.base_currency]
    rows = []
    for sort, code in enumerate(codes, 1):
        nominal, rate, name, fmt = CURRENCIES[code]
        rows.append(
            {
                "id": code,
                "amountCnt": nominal,
                "amount": round(rate / base_rate * nominal, 4),
                "sort": sort * 100,
                "base": code == plan.base_currency,
                "fullName": name,
                "lid": "en",
                "formatString": fmt,
                "decPoint": ".",
                "thousandsSep": " ",
                "decimals": 2,
                "dateUpdate": iso(plan.anchor - 2 * DAY),
            }
        )
    return rows


def companies(plan: PortalPlan, ctx: Context) -> list[Row]:
    rng = seeded_rng(plan.seed, plan.domain, "companies")
    rows = []
    for company_id in range(1, ctx.companies + 1):
        created = created_time(rng, plan.anchor, 1100)
        currency = pick_currency(rng, ctx)
        rows.append(
            {
                "id": company_id,
                "title": ctx.company_names[company_id - 1],
                "companyType": pick(rng, COMPANY_TYPES)[0],
                "industry": pick(rng, INDUSTRIES)[0],
                "employees": int(rng.lognormvariate(3.5, 1.2)) + 1,
                "revenue": round(rng.lognormvariate(16, 1.5), -3),
                "currency": currency,
                "assignedById": pick(rng, ctx.sales),
                "createdAt": iso(created),
                "updatedAt": iso(later_time(rng, created, plan.anchor)),
                "opened": rng.random() < 0.9,
            }
        )
    return rows


def contacts(plan: PortalPlan, ctx: Context) -> list[Row]:
    rng = seeded_rng(plan.seed, plan.domain, "contacts")
    rows = []
    fm_id = 0
    for contact_id in range(1, ctx.contacts + 1):
        first, last = pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)
        created = created_time(rng, plan.anchor, 1100)
        fm = []
        for type_id, count in (("PHONE", pick(rng, (1, 1, 2))), ("EMAIL", 1)):
            for _ in range(count if rng.random() < 0.85 else 0):
                fm_id += 1
                fm.append(_multifield(rng, fm_id, type_id, first, last, plan))
        born = plan.anchor - rng.randint(22 * 365, 65 * 365) * DAY
        rows.append(
            {
                "id": contact_id,
                "name": first,
                "lastName": last,
                "secondName": None,
                "post": pick(rng, ["Director", "Buyer", "Manager", "CFO", None]),
                "companyId": rng.randint(1, ctx.companies)
                if rng.random() < 0.7
                else None,
                "assignedById": pick(rng, ctx.sales),
                "sourceId": pick(rng, SOURCES)[0],
                "typeId": pick(rng, CONTACT_TYPES)[0],
                "birthdate": iso_date(int(born) // DAY) if rng.random() < 0.4 else None,
                "createdAt": iso(created),
                "updatedAt": iso(later_time(rng, created, plan.anchor)),
                "opened": rng.random() < 0.9,
                "fm": fm,
            }
        )
    return rows


def _multifield(
    rng: random.Random, fm_id: int, type_id: str, first: str, last: str, plan: Any
) -> Row:
    if type_id == "PHONE":
        digits = f"{rng.randint(0, 99):02d} {rng.randint(100, 999)}-"
        value = (
            f"{plan.phone_prefix}{digits}{rng.randint(10, 99)}-{rng.randint(10, 99)}"
        )
        value_type = pick(rng, ["WORK", "MOBILE", "MOBILE", "HOME"])
    else:
        value = f"{first}.{last}{fm_id}@mail.example".lower()
        value_type = pick(rng, ["WORK", "WORK", "HOME"])
    return {"id": fm_id, "typeId": type_id, "valueType": value_type, "value": value}


def leads(plan: PortalPlan, ctx: Context) -> list[Row]:
    rng = seeded_rng(plan.seed, plan.domain, "leads")
    codes = [code for code, *_ in LEAD_STATUSES]
    weights = [weight for *_, weight in LEAD_STATUSES]
    semantics = {code: sem for code, _, sem, _ in LEAD_STATUSES}
    rows = []
    for lead_id in range(1, min(max(plan.deals * 3 // 5, 50), 50_000) + 1):
        status = rng.choices(codes, weights)[0]
        created = created_time(rng, plan.anchor)
        changed = later_time(rng, created, plan.anchor)
        first, last = pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)
        currency = pick_currency(rng, ctx)
        rows.append(
            {
                "id": lead_id,
                "title": f"{pick(rng, PRODUCTS)} enquiry",
                "name": first,
                "lastName": last,
                "statusId": status,
                "statusSemanticId": semantics[status] or "P",
                "sourceId": pick(rng, SOURCES)[0],
                "amount": draw_amount(rng, currency) if rng.random() < 0.6 else 0.0,
                "currency": currency,
                "assignedById": pick(rng, ctx.sales),
                "companyTitle": pick(rng, ctx.company_names)
                if rng.random() < 0.5
                else None,
                "createdAt": iso(created),
                "updatedAt": iso(changed),
                "closedAt": iso(changed) if semantics[status] else None,
                "opened": True,
            }
        )
    return rows


def tasks(plan: PortalPlan, ctx: Context) -> list[Row]:
    rng = seeded_rng(plan.seed, plan.domain, "tasks")
    statuses, weights = list(TASK_STATUS_WEIGHTS), list(TASK_STATUS_WEIGHTS.values())
    rows = []
    for task_id in range(1, min(max(plan.deals // 2, 60), 20_000) + 1):
        status = rng.choices(statuses, weights)[0]
        created = created_time(rng, plan.anchor, 400)
        deadline = created + rng.randint(1, 30) * DAY if rng.random() < 0.8 else None
        closed = later_time(rng, created, plan.anchor) if status == 5 else None
        changed = closed or later_time(rng, created, plan.anchor)
        estimate = pick(rng, (0, 0, 1800, 3600, 7200, 14400))
        deal = rng.randint(1, max(plan.deals, 1)) if rng.random() < 0.3 else None
        rows.append(
            {
                "id": task_id,
                "title": f"{pick(rng, TASK_VERBS)} {pick(rng, ctx.company_names)}",
                "description": "",
                "status": status,
                "priority": rng.choices((0, 1, 2), (0.1, 0.7, 0.2))[0],
                "responsibleId": pick(rng, ctx.staff),
                "createdBy": pick(rng, ctx.staff),
                "groupId": pick(rng, (0, 0, 0, 1, 2, 3, 4, 5)),
                "deadline": iso(deadline) if deadline else None,
                "createdDate": iso(created),
                "changedDate": iso(changed),
                "closedDate": iso(closed) if closed else None,
                "timeEstimate": estimate,
                "timeSpentInLogs": int(estimate * rng.uniform(0.5, 1.5))
                if status == 5
                else 0,
                "allowTimeTracking": "Y" if estimate else "N",
                "ufCrmTask": [f"D_{deal}"] if deal else [],
            }
        )
    return rows
