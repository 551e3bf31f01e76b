"""Field metadata of every sandbox entity: names, types, titles and scopes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# How a field's values compare in filters and sorts, by its declared type.
_KINDS: dict[str, str] = {
    "integer": "int",
    "user": "int",
    "crm_contact": "int",
    "crm_company": "int",
    "crm_lead": "int",
    "crm_category": "int",
    "group": "int",
    "double": "float",
    "boolean": "bool",
    "datetime": "datetime",
    "date": "date",
    "string": "str",
    "char": "str",
    "crm_status": "str",
    "crm_currency": "str",
    "crm_multifield": "list",
    "list": "list",
    "object": "object",
}


@dataclass(frozen=True)
class Field:
    """One field of an entity as ``GET /v1/{entity}/fields`` describes it."""

    name: str
    type: str
    title: str
    read_only: bool = False
    required: bool = False
    multiple: bool = False
    dynamic: bool = False
    status_type: str | None = None

    @property
    def kind(self) -> str:
        return _KINDS[self.type]

    def describe(self) -> dict[str, object]:
        info: dict[str, object] = {
            "type": self.type,
            "title": self.title,
            "isRequired": self.required,
            "isReadOnly": self.read_only,
            "isImmutable": self.name == "id",
            "isMultiple": self.multiple,
            "isDynamic": self.dynamic,
            "upperName": _upper_name(self.name),
        }
        if self.status_type:
            info["statusType"] = self.status_type
        return info


@dataclass(frozen=True)
class EntitySpec:
    """An entity of the entity API: its path, scopes, fields and aliases."""

    name: str
    scopes: frozenset[str]
    fields: dict[str, Field]
    writable: bool = True
    int_ids: bool = True
    aliases: dict[str, str] = field(default_factory=dict)

    def resolve(self, name: str) -> str | None:
        """The field a request names, accepting Bitrix UPPER_CASE spellings."""
        if name in self.fields:
            return name
        if name in self.aliases:
            return self.aliases[name]
        camel = _camel(name)
        if camel in self.fields:
            return camel
        lowered = {key.lower(): key for key in self.fields}
        return lowered.get(name.lower())


def _camel(name: str) -> str:
    if not name.isupper() or name.startswith("UF_"):
        return name
    head, *rest = name.lower().split("_")
    return head + "".join(part.title() for part in rest)


def _upper_name(name: str) -> str:
    if name.startswith("UF_"):
        return name
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).upper()


def _fields(*specs: Field) -> dict[str, Field]:
    return {spec.name: spec for spec in specs}


def _id() -> Field:
    return Field("id", "integer", "ID", read_only=True)


def _stamps(created: str = "createdAt", updated: str = "updatedAt") -> list[Field]:
    return [
        Field(created, "datetime", "Created", read_only=True),
        Field(updated, "datetime", "Modified", read_only=True),
    ]


_CRM = frozenset({"crm"})

DEALS = EntitySpec(
    "deals",
    _CRM,
    _fields(
        _id(),
        Field("title", "string", "Name"),
        Field("amount", "double", "Amount"),
        Field("currency", "crm_currency", "Currency"),
        Field("categoryId", "crm_category", "Pipeline"),
        Field("stageId", "crm_status", "Stage", status_type="DEAL_STAGE"),
        Field("previousStageId", "crm_status", "Previous stage", read_only=True),
        Field("stageSemanticId", "string", "Stage group", read_only=True),
        Field("assignedById", "user", "Responsible person"),
        Field("createdById", "user", "Created by", read_only=True),
        Field("contactId", "crm_contact", "Contact"),
        Field("companyId", "crm_company", "Company"),
        Field("sourceId", "crm_status", "Source", status_type="SOURCE"),
        Field("leadId", "crm_lead", "Lead"),
        Field("probability", "integer", "Probability"),
        Field("comments", "string", "Comment"),
        Field("opened", "boolean", "Available to everyone"),
        Field("closed", "boolean", "Closed", read_only=True),
        *_stamps(),
        Field("closedAt", "datetime", "Closed on"),
        Field("begindate", "datetime", "Start date"),
        Field("movedTime", "datetime", "Stage changed", read_only=True),
        Field("entityTypeId", "integer", "Entity type", read_only=True),
        Field("UF_CRM_DEAL_REGION", "string", "Region", dynamic=True),
    ),
    aliases={
        "ID": "id",
        "OPPORTUNITY": "amount",
        "opportunity": "amount",
        "CURRENCY_ID": "currency",
        "currencyId": "currency",
        "DATE_CREATE": "createdAt",
        "DATE_MODIFY": "updatedAt",
        "CLOSEDATE": "closedAt",
        "BEGINDATE": "begindate",
        "MOVED_TIME": "movedTime",
        "CREATED_BY_ID": "createdById",
        "STAGE_SEMANTIC_ID": "stageSemanticId",
    },
)

LEADS = EntitySpec(
    "leads",
    _CRM,
    _fields(
        _id(),
        Field("title", "string", "Lead name"),
        Field("name", "string", "First name"),
        Field("lastName", "string", "Last name"),
        Field("statusId", "crm_status", "Status", status_type="STATUS"),
        Field("statusSemanticId", "string", "Status group", read_only=True),
        Field("sourceId", "crm_status", "Source", status_type="SOURCE"),
        Field("amount", "double", "Amount"),
        Field("currency", "crm_currency", "Currency"),
        Field("assignedById", "user", "Responsible person"),
        Field("companyTitle", "string", "Company name"),
        *_stamps(),
        Field("closedAt", "datetime", "Closed on", read_only=True),
        Field("opened", "boolean", "Available to everyone"),
    ),
    aliases={
        "OPPORTUNITY": "amount",
        "CURRENCY_ID": "currency",
        "DATE_CREATE": "createdAt",
        "DATE_MODIFY": "updatedAt",
        "STATUS_ID": "statusId",
    },
)

CONTACTS = EntitySpec(
    "contacts",
    _CRM,
    _fields(
        _id(),
        Field("name", "string", "First name"),
        Field("lastName", "string", "Last name"),
        Field("secondName", "string", "Second name"),
        Field("post", "string", "Position"),
        Field("companyId", "crm_company", "Company"),
        Field("assignedById", "user", "Responsible person"),
        Field("sourceId", "crm_status", "Source", status_type="SOURCE"),
        Field("typeId", "crm_status", "Contact type", status_type="CONTACT_TYPE"),
        Field("birthdate", "date", "Date of birth"),
        *_stamps(),
        Field("opened", "boolean", "Available to everyone"),
        Field("fm", "crm_multifield", "Phones and e-mails", multiple=True),
    ),
    aliases={"DATE_CREATE": "createdAt", "DATE_MODIFY": "updatedAt"},
)

COMPANIES = EntitySpec(
    "companies",
    _CRM,
    _fields(
        _id(),
        Field("title", "string", "Company name"),
        Field("companyType", "crm_status", "Type", status_type="COMPANY_TYPE"),
        Field("industry", "crm_status", "Industry", status_type="INDUSTRY"),
        Field("employees", "integer", "Employees"),
        Field("revenue", "double", "Annual revenue"),
        Field("currency", "crm_currency", "Currency"),
        Field("assignedById", "user", "Responsible person"),
        *_stamps(),
        Field("opened", "boolean", "Available to everyone"),
    ),
    aliases={"DATE_CREATE": "createdAt", "DATE_MODIFY": "updatedAt"},
)

TASKS = EntitySpec(
    "tasks",
    frozenset({"task"}),
    _fields(
        _id(),
        Field("title", "string", "Name"),
        Field("description", "string", "Description"),
        Field("status", "integer", "Status"),
        Field("priority", "integer", "Priority"),
        Field("responsibleId", "user", "Assignee"),
        Field("createdBy", "user", "Created by"),
        Field("groupId", "group", "Workgroup"),
        Field("deadline", "datetime", "Deadline"),
        Field("createdDate", "datetime", "Created", read_only=True),
        Field("changedDate", "datetime", "Modified", read_only=True),
        Field("closedDate", "datetime", "Completed", read_only=True),
        Field("timeEstimate", "integer", "Time estimate, seconds"),
        Field("timeSpentInLogs", "integer", "Time spent, seconds", read_only=True),
        Field("allowTimeTracking", "char", "Time tracking (Y/N)"),
        Field("ufCrmTask", "list", "CRM items", multiple=True, dynamic=True),
    ),
    aliases={"REAL_STATUS": "status", "CREATED_DATE": "createdDate"},
)

USERS = EntitySpec(
    "users",
    frozenset({"user", "user_basic"}),
    _fields(
        _id(),
        Field("active", "boolean", "Active"),
        Field("name", "string", "First name"),
        Field("lastName", "string", "Last name"),
        Field("secondName", "string", "Second name"),
        Field("email", "string", "E-mail"),
        Field("workPosition", "string", "Position"),
        Field("departmentId", "integer", "Department"),
        Field("dateRegister", "datetime", "Registered"),
        Field("lastLogin", "datetime", "Last login"),
        Field("timeZone", "string", "Time zone"),
        Field("userType", "string", "User type"),
        Field("isAdmin", "boolean", "Administrator"),
        Field("personalPhoto", "string", "Photo"),
    ),
    writable=False,
    aliases={"UF_DEPARTMENT": "departmentId"},
)

# What a key holding only ``user_basic`` sees of a user.
USER_BASIC_FIELDS = (
    "id",
    "active",
    "name",
    "lastName",
    "secondName",
    "workPosition",
    "departmentId",
    "userType",
    "personalPhoto",
)

DEAL_CATEGORIES = EntitySpec(
    "deal-categories",
    _CRM,
    _fields(
        _id(),
        Field("name", "string", "Name"),
        Field("sort", "integer", "Sort"),
        Field("isLocked", "boolean", "Locked"),
        Field("createdAt", "datetime", "Created", read_only=True),
    ),
    writable=False,
)

STATUSES = EntitySpec(
    "statuses",
    _CRM,
    _fields(
        _id(),
        Field("entityId", "string", "Dictionary"),
        Field("statusId", "string", "Status code"),
        Field("name", "string", "Name"),
        Field("nameInit", "string", "Original name"),
        Field("sort", "integer", "Sort"),
        Field("system", "boolean", "System"),
        Field("color", "string", "Colour"),
        Field("semantics", "string", "Semantics"),
        Field("categoryId", "crm_category", "Pipeline"),
        Field("extra", "object", "Extra"),
    ),
    writable=False,
    aliases={"ENTITY_ID": "entityId", "STATUS_ID": "statusId"},
)

CURRENCIES = EntitySpec(
    "currencies",
    _CRM,
    _fields(
        Field("id", "string", "Currency code", read_only=True),
        Field("amountCnt", "integer", "Nominal"),
        Field("amount", "double", "Exchange rate"),
        Field("sort", "integer", "Sort"),
        Field("base", "boolean", "Base currency"),
        Field("fullName", "string", "Name"),
        Field("lid", "string", "Language"),
        Field("formatString", "string", "Format"),
        Field("decPoint", "string", "Decimal point"),
        Field("thousandsSep", "string", "Thousands separator"),
        Field("decimals", "integer", "Decimals"),
        Field("dateUpdate", "datetime", "Updated", read_only=True),
    ),
    writable=False,
    int_ids=False,
)

ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        DEALS,
        LEADS,
        CONTACTS,
        COMPANIES,
        TASKS,
        USERS,
        DEAL_CATEGORIES,
        STATUSES,
        CURRENCIES,
    )
}

# Task fields the platform sends as strings (a quirk of tasks.task.list).
TASK_STRING_FIELDS = (
    "id",
    "status",
    "priority",
    "responsibleId",
    "createdBy",
    "groupId",
    "timeEstimate",
    "timeSpentInLogs",
)
