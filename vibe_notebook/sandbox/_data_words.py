"""What the portal generator draws from: names, stages, sources, currencies, dates."""

from __future__ import annotations

import datetime as dt
from functools import cache, lru_cache

DAY = 86_400

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

STAGES: dict[int, list[tuple[str, str, str | None]]] = {
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

STAGE_COLORS = {None: "#39A8EF", "S": "#7BD500", "F": "#FF5752"}

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


def _words(text: str, sep: str | None = None) -> list[str]:
    return text.split(sep)


# code, nominal, rate to the base currency, name, format
CURRENCIES = {
    "RUB": (1, 1.0, "Russian Ruble", "# ₽"),
    "USD": (1, 92.5, "US Dollar", "$#"),
    "EUR": (1, 100.2, "Euro", "€#"),
    "KZT": (100, 18.4, "Tenge", "# ₸"),
}

# typical deal size in each currency (median of a log-normal)
MEDIAN_AMOUNT = {"RUB": 180_000.0, "USD": 2_400.0, "EUR": 2_100.0, "KZT": 900_000.0}

REGIONS = ["North-West", "Central", "Volga", "Urals", "Siberia", "Kazakhstan"]

FIRST_NAMES = _words(
    "Anna Boris Clara Denis Elena Fedor Galina Igor Julia Kirill Lidia Maxim "
    "Nadia Oleg Polina Roman Sofia Timur Ulyana Viktor Yana Zakhar Alice Mark "
    "Daria Artem Irina Pavel Vera Egor Marina Stepan Olga Ilya Ksenia Gleb"
)

LAST_NAMES = _words(
    "Ivanova Petrov Smirnova Volkov Kuznetsova Sokolov Popova Lebedev Novikova "
    "Morozov Orlova Kozlov Pavlova Egorov Stepanova Nikitin Zaitseva Belov "
    "Frolova Gusev Karpova Tarasov Vlasova Makarov Antonova Baranov Zhukova"
)

COMPANY_WORDS = _words(
    "Nord Volga Ural Baltic Siber Alpha Vector Orion Delta Prime Astra Terra "
    "Lotus Granit Kedr Polar Sever Zenit Raduga Vostok Strela Kristall Atlant"
)

COMPANY_SUFFIXES = ["Trade", "Logistics", "Systems", "Foods", "Group", "Tech", "Build"]

PRODUCTS = _words(
    "CRM rollout|Server upgrade|Annual licence|Support contract|Office fit-out|"
    "Training course|Website redesign|Cloud migration|Spare parts|Consulting",
    "|",
)

TASK_VERBS = _words(
    "Call back|Prepare offer for|Send invoice to|Meet|Follow up with|"
    "Update contract for|Check payment from|Demo for",
    "|",
)

DEAL_COMMENTS = [
    "Asked for a discount",
    "Decision maker on vacation",
    "Budget approved",
    "Waiting for legal review",
    "Compare with the competitor's offer",
]

# task status code -> weight (1 new, 2 pending, 3 in progress, 4 awaiting
# control, 5 completed, 6 deferred, 7 declined)
TASK_STATUS_WEIGHTS = {1: 3, 2: 25, 3: 20, 4: 5, 5: 40, 6: 5, 7: 2}

POSITIONS = {
    1: ["Chief Executive Officer"],
    2: ["Head of Sales", "Sales Manager", "Account Manager"],
    3: ["Marketing Manager", "Content Manager"],
    4: ["Support Engineer", "Head of Support"],
    5: ["Developer", "Team Lead", "QA Engineer"],
    6: ["Accountant", "Finance Director"],
}


def iso(ts: float) -> str:
    """A Unix time as the platform writes it: UTC with milliseconds."""
    return iso_date(int(ts) // DAY) + _clock(int(ts) % DAY)


@lru_cache(maxsize=4096)
def iso_date(day: int) -> str:
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
    return float((day - dt.date(1970, 1, 1)).days * DAY)


def stage_ids(category_id: int) -> list[tuple[str, str, str | None]]:
    """Stages of a pipeline with their full ids (``C1:NEW`` outside 0)."""
    prefix = f"C{category_id}:" if category_id else ""
    return [(prefix + code, name, sem) for code, name, sem in STAGES[category_id]]
