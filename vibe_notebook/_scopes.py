"""The 17 scopes a Partner Connect key can be granted, with descriptions."""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "crm": "CRM: deals, leads, contacts, companies, pipelines and stages",
    "task": "Tasks: tasks, their statuses, deadlines and assignees",
    "im": "Chats and notifications",
    "call": "Telephony: calls and their records",
    "disk": "Drive: files and folders",
    "user": "Users: full employee profiles",
    "user_basic": "Users: names and positions only",
    "calendar": "Calendars and events",
    "catalog": "Product catalog",
    "sale": "Online store: orders, payments, baskets",
    "bizproc": "Workflows and automation rules",
    "lists": "Lists (universal lists)",
    "department": "Company structure: departments",
    "timeman": "Work time tracking",
    "landing": "Sites and landing pages",
    "sonet_group": "Workgroups and projects",
    "log": "Activity stream (news feed posts)",
}

DEFAULT_SCOPES: tuple[str, ...] = ("crm", "task")
