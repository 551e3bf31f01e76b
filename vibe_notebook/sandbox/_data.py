"""A seeded generator of plausible portals: users, pipelines, CRM and tasks."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import logging
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from ._state import Partner, Portal, Row, SandboxState, Table

logger = logging.getLogger(__name__)

_DAY = 86_400
_CHUNK = 1024  # deals are generated in chunks, each from its own seed

DEPARTMENTS = {
    1: "Management",
    2: "Sales",
    3: "Marketing",
    4: "Customer Support",
    5: "Development",
    6: "Finance",
}

# Pipelines: (id, name, sort) and their stages as (suffix, name, semantics).
CATEGORIES = [(1, "Partners", 200), (2, "Renewals", 300)]
_STAGES: dict[int, list[tuple[str, str, str | None]]] = {
    0: [
        ("NEW", "New", None),
        ("PREPARATION", "Preparing documents", None),
        ("PREPAYMENT_INVOICE", "Invoice", None),
        ("EXECUTING", "In progress", None),
        ("FINAL_INVOICE", "Final invoice", None),
        ("WON", "Deal won", "S"),
        ("LOSE", "Deal lost", "F"),
        ("APOLOGY", "Analyse failure", "F"),
    ],
    1: [
        ("NEW", "New partner lead", None),
        ("PREPARATION", "Qualification", None),
        ("EXECUTING", "Negotiation", None),
        ("WON", "Partner signed", "S"),
        ("LOSE", "Lost", "F"),
    ],
    2: [
        ("NEW", "Renewal due", None),
        ("UC_OFFER", "Offer sent", None),
        ("WON", "Renewed", "S"),
        ("LOSE", "Churned", "F"),
    ],
}
_COLORS = {None: "#39A8EF", "S": "#7BD500", "F": "#FF5752"}

SOURCES = [
    ("CALL", "Call"),
    ("EMAIL", "E-mail"),
    ("WEB", "Website"),
    ("ADVERTISING", "Advertising"),
    ("PARTNER", "Existing client"),
    ("RECOMMENDATION", "By recommendation"),
    ("TRADE_SHOW", "Show/exhibition"),
    ("OTHER", "Other"),
]
LEAD_STATUSES = [
    ("NEW", "Unassigned", None, 0.15),
    ("IN_PROCESS", "In progress", None, 0.25),
    ("PROCESSED", "Processed", None, 0.10),
    ("JUNK", "Junk lead", "F", 0.20),
    ("CONVERTED", "Good lead", "S", 0.30),
]
CONTACT_TYPES = [
    ("CLIENT", "Clients"),
    ("SUPPLIER", "Suppliers"),
    ("PARTNER", "Partners"),
    ("OTHER", "Other"),
]
COMPANY_TYPES = [
    ("CUSTOMER", "Client"),
    ("SUPPLIER", "Supplier"),
    ("COMPETITOR", "Competitor"),
    ("PARTNER", "Partner"),
    ("OTHER", "Other"),
]
INDUSTRIES = [
    ("IT", "Information Technology"),
    ("TELECOM", "Telecommunications"),
    ("MANUFACTURING", "Manufacturing"),
    ("BANKING", "Banking Services"),
    ("CONSULTING", "Consulting"),
    ("DELIVERY", "Delivery"),
    ("OTHER", "Other"),
]


# code, nominal, rate to the base currency, name, format
def _words(text: str, sep: str | None = None) -> list[str]:
    return text.split(sep)


_CURRENCIES = {
    "RUB": (1, 1.0, "Russian Ruble", "# ₽"),
    "USD": (1, 92.5, "US Dollar", "$#"),
    "EUR": (1, 100.2, "Euro", "€#"),
    "KZT": (100, 18.4, "Tenge", "# ₸"),
}
# typical deal size in each currency (median of a log-normal)
_MEDIAN_AMOUNT = {"RUB": 180_000.0, "USD": 2_400.0, "EUR": 2_100.0, "KZT": 900_000.0}
REGIONS = ["North-West", "Central", "Volga", "Urals", "Siberia", "Kazakhstan"]

_FIRST = _words(
    "Anna Boris Clara Denis Elena Fedor Galina Igor Julia Kirill Lidia Maxim "
    "Nadia Oleg Polina Roman Sofia Timur Ulyana Viktor Yana Zakhar Alice Mark "
    "Daria Artem Irina Pavel Vera Egor Marina Stepan Olga Ilya Ksenia Gleb"
)
_LAST = _words(
    "Ivanova Petrov Smirnova Volkov Kuznetsova Sokolov Popova Lebedev Novikova "
    "Morozov Orlova Kozlov Pavlova Egorov Stepanova Nikitin Zaitseva Belov "
    "Frolova Gusev Karpova Tarasov Vlasova Makarov Antonova Baranov Zhukova"
)
_WORDS = _words(
    "Nord Volga Ural Baltic Siber Alpha Vector Orion Delta Prime Astra Terra "
    "Lotus Granit Kedr Polar Sever Zenit Raduga Vostok Strela Kristall Atlant"
)
_SUFFIXES = ["Trade", "Logistics", "Systems", "Foods", "Group", "Tech", "Build"]
_PRODUCTS = _words(
    "CRM rollout|Server upgrade|Annual licence|Support contract|Office fit-out|"
    "Training course|Website redesign|Cloud migration|Spare parts|Consulting",
    "|",
)
_TASK_VERBS = _words(
    "Call back|Prepare offer for|Send invoice to|Meet|Follow up with|"
    "Update contract for|Check payment from|Demo for",
    "|",
)
_COMMENTS = [
    "Asked for a discount",
    "Decision maker on vacation",
    "Budget approved",
    "Waiting for legal review",
    "Compare with the competitor's offer",
]
# task status code -> weight (1 new, 2 pending, 3 in progress, 4 awaiting
# control, 5 completed, 6 deferred, 7 declined)
_TASK_STATUS = {1: 3, 2: 25, 3: 20, 4: 5, 5: 40, 6: 5, 7: 2}
_POSITIONS = {
    1: ["Chief Executive Officer"],
    2: ["Head of Sales", "Sales Manager", "Account Manager"],
    3: ["Marketing Manager", "Content Manager"],
    4: ["Support Engineer", "Head of Support"],
    5: ["Developer", "Team Lead", "QA Engineer"],
    6: ["Accountant", "Finance Director"],
}


@dataclass
class PortalPlan:
    """What to generate for one portal."""

    domain: str
    name: str
    seed: int
    deals: int
    users: int = 30
    base_currency: str = "RUB"
    currency_weights: dict[str, float] = field(
        default_factory=lambda: {"RUB": 0.7, "USD": 0.15, "EUR": 0.1, "KZT": 0.05}
    )
    phone_prefix: str = "+7 9"
    anchor: float = 0.0
    eager_limit: int = 200_000


DEMO_CLIENT_ID = "sbx_demo_partner"
DISABLED_CLIENT_ID = "sbx_disabled_partner"
# The connect panel may catch the redirect itself on this local port.
PANEL_REDIRECTS = ["http://localhost:8765/callback", "http://127.0.0.1:8765/callback"]


def populate(state: SandboxState) -> None:
    """Fill a fresh state with the two demo portals and the two partners."""
    config = state.config
    anchor = anchor_time(config.anchor, state.clock())
    acme = PortalPlan(
        "acme.bitrix24.com",
        "Acme Trading",
        config.seed,
        config.deals,
        anchor=anchor,
        eager_limit=config.eager_limit,
    )
    northwind = PortalPlan(
        "northwind.bitrix24.com",
        "Northwind Ltd",
        config.seed,
        120,
        users=8,
        base_currency="USD",
        currency_weights={"USD": 0.8, "EUR": 0.2},
        phone_prefix="+1 5",
        anchor=anchor,
    )
    for plan in (acme, northwind):
        state.add_portal(build_portal(plan))
    _add_partners(state)


def _add_partners(state: SandboxState) -> None:
    state.add_partner(
        Partner(
            DEMO_CLIENT_ID,
            "sbx_secret_" + secrets.token_urlsafe(24),
            "Vibe Notebook (sandbox demo)",
            list(PANEL_REDIRECTS),
        )
    )
    state.add_partner(
        Partner(
            DISABLED_CLIENT_ID,
            "sbx_secret_" + secrets.token_urlsafe(24),
            "Retired Reports App",
            list(PANEL_REDIRECTS),
            enabled=False,
        )
    )


def iso(ts: float) -> str:
    """A Unix time as the platform writes it: UTC with milliseconds."""
    return _day(int(ts) // _DAY) + _clock(int(ts) % _DAY)


@lru_cache(maxsize=4096)
def _day(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


@cache
def _clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}.000Z"


def anchor_time(anchor: str | None, now: float) -> float:
    """The 'today' a portal is generated around: midnight UTC of a date."""
    if anchor:
        day = dt.date.fromisoformat(anchor[:10])
    else:
        day = dt.datetime.fromtimestamp(now, dt.UTC).date()
    return float((day - dt.date(1970, 1, 1)).days * _DAY)


def stage_ids(category_id: int) -> list[tuple[str, str, str | None]]:
    """Stages of a pipeline with their full ids (``C1:NEW`` outside 0)."""
    prefix = f"C{category_id}:" if category_id else ""
    return [(prefix + code, name, sem) for code, name, sem in _STAGES[category_id]]


def _pick(rng: random.Random, items: Any) -> Any:
    """rng.choice, twice as fast; deals are made by the hundred thousand."""
    return items[int(rng.random() * len(items))]


def _rng(seed: int, domain: str, part: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{domain}:{part}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@dataclass
class _Context:
    """What the row generators need to keep references consistent."""

    plan: PortalPlan
    sales: list[int]
    staff: list[int]
    contacts: int
    companies: int
    converted_leads: list[int]
    company_names: list[str]
    currency_codes: list[str] = field(default_factory=list)
    currency_cum: list[float] = field(default_factory=list)


def build_portal(plan: PortalPlan) -> Portal:
    """Generate one portal; the same plan always gives the same portal."""
    # Hundreds of thousands of new dicts would set off the cyclic collector
    # again and again; none of them can form a cycle.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _build_portal(plan)
    finally:
        if paused:
            gc.enable()


def _build_portal(plan: PortalPlan) -> Portal:
    portal = Portal(plan.domain, plan.name)
    tables = portal.tables
    tables["users"] = Table(_users(plan))
    tables["deal-categories"] = Table(_categories(plan))
    tables["statuses"] = Table(_statuses())
    tables["currencies"] = Table(_currencies(plan), int_ids=False)
    ctx = _context(plan, tables["users"])
    tables["companies"] = Table(_companies(plan, ctx))
    tables["contacts"] = Table(_contacts(plan, ctx))
    tables["leads"] = Table(_leads(plan, ctx))
    ctx.converted_leads = [
        row["id"] for row in tables["leads"].values() if row["statusId"] == "CONVERTED"
    ]
    tables["deals"] = deal_table(plan, ctx)
    tables["tasks"] = Table(_tasks(plan, ctx))
    logger.debug("generated portal %s with %d deals", plan.domain, plan.deals)
    return portal


def _context(plan: PortalPlan, users: Table) -> _Context:
    sales = [row["id"] for row in users.values() if row["departmentId"] == 2]
    scale = max(plan.deals, 1)
    companies = min(max(scale // 6, 15), 6000)
    ctx = _Context(
        plan=plan,
        sales=sales,
        staff=[row["id"] for row in users.values() if row["active"]],
        contacts=min(max(scale // 2, 40), 30_000),
        companies=companies,
        converted_leads=[],
        company_names=_company_names(plan, companies),
    )
    total = 0.0
    for code, weight in plan.currency_weights.items():
        total += weight
        ctx.currency_codes.append(code)
        ctx.currency_cum.append(total)
    return ctx


def _company_names(plan: PortalPlan, count: int) -> list[str]:
    rng = _rng(plan.seed, plan.domain, "company-names")
    names = []
    for _ in range(count):
        first, second = _pick(rng, _WORDS), _pick(rng, _WORDS).lower()
        names.append(f"{first}{second} {_pick(rng, _SUFFIXES)}")
    return names


def _users(plan: PortalPlan) -> list[Row]:
    rng = _rng(plan.seed, plan.domain, "users")
    mail_domain = plan.domain.split(".")[0] + ".example"
    rows = []
    for user_id in range(1, plan.users + 1):
        department = _department_of(user_id, plan.users)
        first, last = _pick(rng, _FIRST), _pick(rng, _LAST)
        registered = plan.anchor - rng.randint(200, 1500) * _DAY
        rows.append(
            {
                "id": user_id,
                "active": user_id < 4 or rng.random() > 0.08,
                "name": first,
                "lastName": last,
                "secondName": None,
                "email": f"{first}.{last}.{user_id}@{mail_domain}".lower(),
                "workPosition": _pick(rng, _POSITIONS[department]),
                "departmentId": department,
                "dateRegister": iso(registered + rng.randint(8, 18) * 3600),
                "lastLogin": iso(plan.anchor - rng.randint(60, 20 * _DAY)),
                "timeZone": "Europe/Moscow",
                "userType": "employee",
                "isAdmin": user_id == 1,
                "personalPhoto": None,
            }
        )
    rows[0]["workPosition"] = _POSITIONS[1][0]
    return rows


def _department_of(user_id: int, users: int) -> int:
    """User 1 runs the company; then 40% sales, the rest spread out."""
    if user_id == 1:
        return 1
    share = (user_id - 1) / max(users - 1, 1)
    bounds = [(0.42, 2), (0.56, 3), (0.72, 4), (0.89, 5)]
    return next((dep for limit, dep in bounds if share <= limit), 6)


def _categories(plan: PortalPlan) -> list[Row]:
    created = iso(plan.anchor - 900 * _DAY)
    default = {"id": 0, "name": "General", "sort": 100, "isLocked": False}
    rows = [{**default, "createdAt": created}]
    for cat_id, name, sort in CATEGORIES:
        rows.append(
            {"id": cat_id, "name": name, "sort": sort, "isLocked": False}
            | {"createdAt": created}
        )
    return rows


def _statuses() -> list[Row]:
    rows: list[Row] = []
    for cat_id in _STAGES:
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
        "color": _COLORS[sem],
        "semantics": sem,
        "categoryId": None,
        "extra": {"SEMANTICS": meaning, "COLOR": _COLORS[sem]},
    }


def _currencies(plan: PortalPlan) -> list[Row]:
    base_rate = _CURRENCIES[plan.base_currency][1]
    codes = [plan.base_currency] + [c for c in _CURRENCIES if c != plan.base_currency]
    rows = []
    for sort, code in enumerate(codes, 1):
        nominal, rate, name, fmt = _CURRENCIES[code]
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
                "dateUpdate": iso(plan.anchor - 2 * _DAY),
            }
        )
    return rows


def _created(rng: random.Random, anchor: float, days: int = 730) -> float:
    """A creation time in the last ``days``, recent times more likely."""
    age = days * _DAY * rng.random() ** 1.6
    moment = anchor - age - 1
    day_start = moment - moment % _DAY
    return day_start + rng.randint(6 * 3600, 17 * 3600)


def _companies(plan: PortalPlan, ctx: _Context) -> list[Row]:
    rng = _rng(plan.seed, plan.domain, "companies")
    rows = []
    for company_id in range(1, ctx.companies + 1):
        created = _created(rng, plan.anchor, 1100)
        currency = _pick_currency(rng, ctx)
        rows.append(
            {
                "id": company_id,
                "title": ctx.company_names[company_id - 1],
                "companyType": _pick(rng, COMPANY_TYPES)[0],
                "industry": _pick(rng, INDUSTRIES)[0],
                "employees": int(rng.lognormvariate(3.5, 1.2)) + 1,
                "revenue": round(rng.lognormvariate(16, 1.5), -3),
                "currency": currency,
                "assignedById": _pick(rng, ctx.sales),
                "createdAt": iso(created),
                "updatedAt": iso(_later(rng, created, plan.anchor)),
                "opened": rng.random() < 0.9,
            }
        )
    return rows


def _later(rng: random.Random, start: float, anchor: float) -> float:
    return start + (anchor - start) * rng.random() ** 3


def _pick_currency(rng: random.Random, ctx: _Context) -> str:
    point = rng.random() * ctx.currency_cum[-1]
    for code, edge in zip(ctx.currency_codes, ctx.currency_cum, strict=True):
        if point <= edge:
            return code
    return ctx.currency_codes[-1]


def _contacts(plan: PortalPlan, ctx: _Context) -> list[Row]:
    rng = _rng(plan.seed, plan.domain, "contacts")
    rows = []
    fm_id = 0
    for contact_id in range(1, ctx.contacts + 1):
        first, last = _pick(rng, _FIRST), _pick(rng, _LAST)
        created = _created(rng, plan.anchor, 1100)
        fm = []
        for type_id, count in (("PHONE", _pick(rng, (1, 1, 2))), ("EMAIL", 1)):
            for _ in range(count if rng.random() < 0.85 else 0):
                fm_id += 1
                fm.append(_multifield(rng, fm_id, type_id, first, last, plan))
        born = plan.anchor - rng.randint(22 * 365, 65 * 365) * _DAY
        rows.append(
            {
                "id": contact_id,
                "name": first,
                "lastName": last,
                "secondName": None,
                "post": _pick(rng, ["Director", "Buyer", "Manager", "CFO", None]),
                "companyId": rng.randint(1, ctx.companies)
                if rng.random() < 0.7
                else None,
                "assignedById": _pick(rng, ctx.sales),
                "sourceId": _pick(rng, SOURCES)[0],
                "typeId": _pick(rng, CONTACT_TYPES)[0],
                "birthdate": _day(int(born) // _DAY) if rng.random() < 0.4 else None,
                "createdAt": iso(created),
                "updatedAt": iso(_later(rng, created, plan.anchor)),
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
        value_type = _pick(rng, ["WORK", "MOBILE", "MOBILE", "HOME"])
    else:
        value = f"{first}.{last}{fm_id}@mail.example".lower()
        value_type = _pick(rng, ["WORK", "WORK", "HOME"])
    return {"id": fm_id, "typeId": type_id, "valueType": value_type, "value": value}


def _leads(plan: PortalPlan, ctx: _Context) -> list[Row]:
    rng = _rng(plan.seed, plan.domain, "leads")
    codes = [code for code, *_ in LEAD_STATUSES]
    weights = [weight for *_, weight in LEAD_STATUSES]
    semantics = {code: sem for code, _, sem, _ in LEAD_STATUSES}
    rows = []
    for lead_id in range(1, min(max(plan.deals * 3 // 5, 50), 50_000) + 1):
        status = rng.choices(codes, weights)[0]
        created = _created(rng, plan.anchor)
        changed = _later(rng, created, plan.anchor)
        first, last = _pick(rng, _FIRST), _pick(rng, _LAST)
        currency = _pick_currency(rng, ctx)
        rows.append(
            {
                "id": lead_id,
                "title": f"{_pick(rng, _PRODUCTS)} enquiry",
                "name": first,
                "lastName": last,
                "statusId": status,
                "statusSemanticId": semantics[status] or "P",
                "sourceId": _pick(rng, SOURCES)[0],
                "amount": _amount(rng, currency) if rng.random() < 0.6 else 0.0,
                "currency": currency,
                "assignedById": _pick(rng, ctx.sales),
                "companyTitle": _pick(rng, ctx.company_names)
                if rng.random() < 0.5
                else None,
                "createdAt": iso(created),
                "updatedAt": iso(changed),
                "closedAt": iso(changed) if semantics[status] else None,
                "opened": True,
            }
        )
    return rows


def _amount(rng: random.Random, currency: str) -> float:
    value = rng.lognormvariate(0.0, 0.9) * _MEDIAN_AMOUNT[currency]
    step = 1000.0 if currency in ("RUB", "KZT") else 10.0
    return max(step, round(value / step) * step)


def deal_table(plan: PortalPlan, ctx: _Context) -> Table:
    """The deals table: built eagerly, or generated on demand when large."""
    maker = _DealMaker(plan, ctx)
    if plan.deals > plan.eager_limit:
        return Table(factory=maker.deal, size=plan.deals)
    rows: list[Row] = []
    for start in range(1, plan.deals + 1, _CHUNK):
        rows.extend(maker.chunk(start // _CHUNK)[: plan.deals - start + 1])
    return Table(rows)


class _DealMaker:
    """Makes deals chunk by chunk; a chunk always comes out the same."""

    def __init__(self, plan: PortalPlan, ctx: _Context):
        self.plan = plan
        self.ctx = ctx
        self.chunk: Callable[[int], list[Row]] = lru_cache(maxsize=64)(self._chunk)

    def deal(self, deal_id: int) -> Row:
        return self.chunk((deal_id - 1) // _CHUNK)[(deal_id - 1) % _CHUNK]

    def _chunk(self, index: int) -> list[Row]:
        rng = _rng(self.plan.seed, self.plan.domain, f"deals-{index}")
        first = index * _CHUNK + 1
        return [self._deal(rng, deal_id) for deal_id in range(first, first + _CHUNK)]

    def _deal(self, rng: random.Random, deal_id: int) -> Row:
        plan, ctx = self.plan, self.ctx
        category = rng.choices((0, 1, 2), (0.6, 0.25, 0.15))[0]
        created = _created(rng, plan.anchor)
        stage, previous, closed_at, moved = _stage_path(rng, category, created, plan)
        currency = _pick_currency(rng, ctx)
        assigned = _pick(rng, ctx.sales)
        semantic = stage[2] or "P"
        updated = moved + (plan.anchor - moved) * rng.random() ** 4
        return {
            "id": deal_id,
            "title": f"{_pick(rng, _PRODUCTS)} for {_pick(rng, ctx.company_names)}",
            "amount": _amount(rng, currency),
            "currency": currency,
            "categoryId": category,
            "stageId": stage[0],
            "previousStageId": previous,
            "stageSemanticId": semantic,
            "assignedById": assigned,
            "createdById": assigned if rng.random() < 0.7 else _pick(rng, ctx.sales),
            "contactId": rng.randint(1, ctx.contacts) if rng.random() < 0.85 else None,
            "companyId": rng.randint(1, ctx.companies) if rng.random() < 0.6 else None,
            "sourceId": _pick(rng, SOURCES)[0],
            "leadId": _lead_ref(rng, ctx),
            "probability": _probability(stage, category),
            "comments": _pick(rng, _COMMENTS) if rng.random() < 0.3 else None,
            "opened": rng.random() < 0.9,
            "closed": semantic != "P",
            "createdAt": iso(created),
            "updatedAt": iso(updated),
            "closedAt": iso(closed_at) if closed_at else None,
            "begindate": iso(created - created % _DAY),
            "movedTime": iso(moved),
            "entityTypeId": 2,
            "UF_CRM_DEAL_REGION": _pick(rng, REGIONS) if rng.random() < 0.8 else None,
        }


def _lead_ref(rng: random.Random, ctx: _Context) -> int | None:
    if not ctx.converted_leads or rng.random() > 0.25:
        return None
    return _pick(rng, ctx.converted_leads)


def _stage_path(
    rng: random.Random, category: int, created: float, plan: PortalPlan
) -> tuple[tuple[str, str, str | None], str | None, float | None, float]:
    """Current stage, previous stage, close time and last move of a deal."""
    stages = stage_ids(category)
    process = [s for s in stages if s[2] is None]
    age_days = (plan.anchor - created) / _DAY
    if rng.random() < min(0.92, age_days / 90):
        closed_at = created + rng.uniform(0.2, min(age_days, 120)) * _DAY
        closed_at = min(closed_at, plan.anchor - 60)
        won = rng.random() < 0.45
        finals = [s for s in stages if s[2] == ("S" if won else "F")]
        previous = process[-1] if won else _pick(rng, process)
        return _pick(rng, finals), previous[0], closed_at, closed_at
    index = min(int(rng.random() ** 1.7 * len(process)), len(process) - 1)
    moved = created + (plan.anchor - created) * rng.random() * (index > 0)
    previous = process[index - 1][0] if index else None
    return process[index], previous, None, moved


def _probability(stage: tuple[str, str, str | None], category: int) -> int:
    if stage[2] == "S":
        return 100
    if stage[2] == "F":
        return 0
    process = [s[0] for s in stage_ids(category) if s[2] is None]
    return 10 + 80 * process.index(stage[0]) // max(len(process), 1)


def _tasks(plan: PortalPlan, ctx: _Context) -> list[Row]:
    rng = _rng(plan.seed, plan.domain, "tasks")
    statuses, weights = list(_TASK_STATUS), list(_TASK_STATUS.values())
    rows = []
    for task_id in range(1, min(max(plan.deals // 2, 60), 20_000) + 1):
        status = rng.choices(statuses, weights)[0]
        created = _created(rng, plan.anchor, 400)
        deadline = created + rng.randint(1, 30) * _DAY if rng.random() < 0.8 else None
        closed = _later(rng, created, plan.anchor) if status == 5 else None
        changed = closed or _later(rng, created, plan.anchor)
        estimate = _pick(rng, (0, 0, 1800, 3600, 7200, 14400))
        deal = rng.randint(1, max(plan.deals, 1)) if rng.random() < 0.3 else None
        rows.append(
            {
                "id": task_id,
                "title": f"{_pick(rng, _TASK_VERBS)} {_pick(rng, ctx.company_names)}",
                "description": "",
                "status": status,
                "priority": rng.choices((0, 1, 2), (0.1, 0.7, 0.2))[0],
                "responsibleId": _pick(rng, ctx.staff),
                "createdBy": _pick(rng, ctx.staff),
                "groupId": _pick(rng, (0, 0, 0, 1, 2, 3, 4, 5)),
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
