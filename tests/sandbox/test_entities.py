"""The sandbox's entity API over real sockets: every endpoint, error and quirk."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from vibe_notebook.sandbox import Sandbox, SandboxHTTPError
from vibe_notebook.sandbox._filters import SUPPORTED


def _data(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()["data"]


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["success"] is False
    return dict(body["error"])


def _client(sandbox: Sandbox, key: str, **headers: str) -> httpx.Client:
    headers = {"X-Api-Key": key, **headers} if key else headers
    return httpx.Client(base_url=sandbox.base_url, headers=headers)


def _ids(response: httpx.Response) -> list[int]:
    return [row["id"] for row in _data(response)]


# ------------------------------------------------------------------- list


def test_list_defaults_to_fifty_rows_in_id_order(http: httpx.Client) -> None:
    response = http.get("/v1/deals")

    assert _ids(response) == list(range(1, 51))
    assert response.json()["meta"] == {"total": 0, "hasMore": True}


def test_list_limit_and_offset(http: httpx.Client) -> None:
    response = http.get("/v1/deals", params={"limit": 5, "offset": 10})

    assert _ids(response) == [11, 12, 13, 14, 15]


@pytest.mark.parametrize("limit", ["0", "-1", "ten"], ids=["zero", "negative", "word"])
def test_list_bad_limit_is_invalid_params(http: httpx.Client, limit: str) -> None:
    response = http.get("/v1/deals", params={"limit": limit})

    assert response.status_code == 400
    assert _error(response)["code"] == "INVALID_PARAMS"


def test_list_over_5000_matches_returns_5000_and_truncated(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    big = make_sandbox(deals=5200)
    with _client(big, big.issue_key()) as client:
        response = client.get("/v1/deals", params={"limit": 10000})

    assert len(_data(response)) == 5000
    assert response.json()["meta"]["truncated"] is True


def test_list_select_returns_only_those_fields(http: httpx.Client) -> None:
    response = http.get("/v1/deals", params={"select": "title,amount", "limit": 2})

    assert [set(row) for row in _data(response)] == [{"id", "title", "amount"}] * 2


def test_list_select_unknown_field_names_it(http: httpx.Client) -> None:
    response = http.get("/v1/deals", params={"select": "id,nonsense"})

    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "INVALID_PARAMS"
    assert "nonsense" in error["message"]


def test_list_order_by_amount_descending(http: httpx.Client) -> None:
    response = http.get(
        "/v1/deals", params={"order[amount]": "desc", "select": "amount"}
    )

    amounts = [row["amount"] for row in _data(response)]
    assert amounts == sorted(amounts, reverse=True)


def test_list_order_by_id_descending_starts_at_the_last(http: httpx.Client) -> None:
    params = {"order[id]": "desc", "limit": 3, "filter[id][$lte]": 1500}
    response = http.get("/v1/deals", params=params)

    assert _ids(response) == [1500, 1499, 1498]


def test_list_order_bad_direction_is_invalid_params(http: httpx.Client) -> None:
    response = http.get("/v1/deals", params={"order[id]": "up"})

    assert _error(response)["code"] == "INVALID_PARAMS"


# ---------------------------------------------------------------- filters


def _filtered(http: httpx.Client, entity: str, **params: Any) -> list[dict[str, Any]]:
    response = http.get(f"/v1/{entity}", params={"limit": 5000, **params})
    return list(_data(response))


def test_filter_equality_on_stage(http: httpx.Client) -> None:
    rows = _filtered(http, "deals", **{"filter[stageId]": "C1:WON"})

    assert rows
    assert {row["stageId"] for row in rows} == {"C1:WON"}
    assert {row["categoryId"] for row in rows} == {1}


@pytest.mark.parametrize(
    ("key", "check"),
    [
        ("filter[amount][$gt]", lambda a: a > 200000),
        ("filter[amount][$gte]", lambda a: a >= 200000),
        ("filter[amount][$lt]", lambda a: a < 200000),
        ("filter[amount][$lte]", lambda a: a <= 200000),
        ("filter[amount][$ne]", lambda a: a != 200000),
        ("filter[>amount]", lambda a: a > 200000),
        ("filter[>=amount]", lambda a: a >= 200000),
        ("filter[<amount]", lambda a: a < 200000),
        ("filter[<=amount]", lambda a: a <= 200000),
        ("filter[!amount]", lambda a: a != 200000),
        ("filter[!=amount]", lambda a: a != 200000),
        ("filter[amount][>=]", lambda a: a >= 200000),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_filter_comparisons_on_numbers(
    http: httpx.Client, key: str, check: Callable[[float], bool]
) -> None:
    rows = _filtered(http, "deals", **{key: "200000", "filter[currency]": "RUB"})
    everything = _filtered(http, "deals", **{"filter[currency]": "RUB"})

    expected = [row["id"] for row in everything if check(row["amount"])]
    assert [row["id"] for row in rows] == expected
    assert 0 < len(rows) < len(everything)


def test_filter_contains_and_percent_prefix_ignore_case(http: httpx.Client) -> None:
    by_op = _filtered(http, "deals", **{"filter[title][$contains]": "cloud"})
    by_prefix = _filtered(http, "deals", **{"filter[%title]": "CLOUD"})

    assert by_op == by_prefix
    assert by_op and all("cloud" in row["title"].lower() for row in by_op)


def test_filter_in_and_nin_split_commas_and_lists(http: httpx.Client) -> None:
    listed = _filtered(http, "deals", **{"filter[id][$in]": "3,5,8"})
    repeated = http.get(
        "/v1/deals", params=[("filter[id][]", "3"), ("filter[id][]", "5")]
    )
    excluded = _filtered(http, "currencies", **{"filter[id][$nin]": "RUB,USD"})

    assert [row["id"] for row in listed] == [3, 5, 8]
    assert _ids(repeated) == [3, 5]
    assert {row["id"] for row in excluded} == {"EUR", "KZT"}


def test_filter_unknown_operator_gives_documented_message(http: httpx.Client) -> None:
    response = http.get("/v1/deals", params={"filter[createdAt][from]": "2026-01-01"})

    assert response.status_code == 400
    assert _error(response) == {
        "code": "INVALID_FILTER_OPERATOR",
        "message": f"Unknown filter operator: from. Supported: {SUPPORTED}",
    }
    assert SUPPORTED.startswith("$gt, $gte, $lt, $lte, $ne, $contains, $in, $nin")


def test_filter_unknown_field_is_invalid_params(http: httpx.Client) -> None:
    response = http.get("/v1/deals", params={"filter[colour]": "red"})

    assert _error(response)["code"] == "INVALID_PARAMS"
    assert "colour" in _error(response)["message"]


def test_filter_bad_value_type_is_invalid_params(http: httpx.Client) -> None:
    response = http.get("/v1/deals", params={"filter[amount][$gt]": "lots"})

    assert _error(response)["code"] == "INVALID_PARAMS"


def test_filter_dates_accept_plain_dates_and_offsets(http: httpx.Client) -> None:
    plain = _filtered(http, "deals", **{"filter[createdAt][$gte]": "2026-06-01"})
    offset = _filtered(
        http, "deals", **{"filter[createdAt][$gte]": "2026-06-01T03:00:00+03:00"}
    )

    assert plain == offset
    assert plain and all(row["createdAt"] >= "2026-06-01T00" for row in plain)


def test_filter_booleans_accept_words_and_letters(http: httpx.Client) -> None:
    first = {"filter[id][$lte]": 1500}
    closed = _filtered(http, "deals", **first, **{"filter[closed]": "true"})
    open_ = _filtered(http, "deals", **first, **{"filter[closed]": "N"})

    assert len(closed) + len(open_) == 1500
    assert all(row["closed"] for row in closed)


def test_filter_task_numbers_compare_as_numbers(http: httpx.Client) -> None:
    rows = _filtered(http, "tasks", **{"filter[timeEstimate][$gt]": "7200"})
    upper = _filtered(http, "tasks", **{"filter[RESPONSIBLE_ID]": "1"})

    assert rows and {row["timeEstimate"] for row in rows} == {"14400"}
    assert upper and {row["responsibleId"] for row in upper} == {"1"}


def test_filter_null_matches_empty_values(http: httpx.Client) -> None:
    rows = _filtered(http, "deals", **{"filter[companyId]": ""})

    assert rows and all(row["companyId"] is None for row in rows)


def test_filter_keyset_pages_cover_every_row_once(http: httpx.Client) -> None:
    seen: list[int] = []
    last = 0
    while True:
        params = {
            "limit": 400,
            "order[id]": "asc",
            "filter[id][$gt]": last,
            "filter[id][$lte]": 1500,
        }
        page = _ids(http.get("/v1/deals", params=params))
        if not page:
            break
        seen += page
        last = page[-1]

    assert seen == list(range(1, 1501))


# ------------------------------------------------------------ get and write


def test_get_by_id_returns_the_record(http: httpx.Client) -> None:
    deal = _data(http.get("/v1/deals/7"))

    assert deal["id"] == 7
    assert deal["entityTypeId"] == 2


def test_get_currency_by_code(http: httpx.Client) -> None:
    currency = _data(http.get("/v1/currencies/RUB"))

    assert currency["base"] is True


def test_get_missing_is_entity_not_found(http: httpx.Client) -> None:
    response = http.get("/v1/deals/999999")

    assert response.status_code == 404
    assert _error(response)["code"] == "ENTITY_NOT_FOUND"


def test_get_non_numeric_id_is_invalid_params(http: httpx.Client) -> None:
    assert _error(http.get("/v1/deals/abc"))["code"] == "INVALID_PARAMS"


def test_create_returns_201_with_defaults(http: httpx.Client) -> None:
    response = http.post("/v1/deals", json={"title": "Test deal", "amount": "1500.5"})

    deal = _data(response)
    assert response.status_code == 201
    assert deal["id"] > 1500
    assert deal["amount"] == 1500.5
    assert (deal["stageId"], deal["stageSemanticId"], deal["closed"]) == (
        "NEW",
        "P",
        False,
    )
    assert deal["createdAt"].endswith(".000Z")
    assert _data(http.get(f"/v1/deals/{deal['id']}")) == deal


def test_create_stage_names_its_pipeline(http: httpx.Client) -> None:
    deal = _data(http.post("/v1/deals", json={"stageId": "C2:WON"}))

    assert deal["categoryId"] == 2
    assert deal["stageSemanticId"] == "S"
    assert deal["closed"] is True
    assert deal["closedAt"] is not None


def test_create_unknown_stage_is_invalid_params(http: httpx.Client) -> None:
    response = http.post("/v1/deals", json={"categoryId": 1, "stageId": "C1:NOPE"})

    assert _error(response)["code"] == "INVALID_PARAMS"


def test_update_moves_stage_and_keeps_history(http: httpx.Client) -> None:
    deal = _data(http.post("/v1/deals", json={"title": "To win"}))

    moved = _data(http.patch(f"/v1/deals/{deal['id']}", json={"stageId": "WON"}))

    assert moved["previousStageId"] == "NEW"
    assert moved["stageSemanticId"] == "S"
    assert moved["closed"] is True
    assert moved["title"] == "To win"
    assert _data(http.get(f"/v1/deals/{deal['id']}"))["stageId"] == "WON"


def test_update_missing_is_entity_not_found(http: httpx.Client) -> None:
    response = http.patch("/v1/deals/999999", json={"title": "x"})

    assert _error(response)["code"] == "ENTITY_NOT_FOUND"


def test_delete_removes_the_record(http: httpx.Client) -> None:
    deal = _data(http.post("/v1/deals", json={"title": "Short-lived"}))

    deleted = _data(http.delete(f"/v1/deals/{deal['id']}"))

    assert deleted == {"id": deal["id"], "deleted": True}
    assert http.get(f"/v1/deals/{deal['id']}").status_code == 404
    assert http.delete(f"/v1/deals/{deal['id']}").status_code == 404


def test_create_task_sends_numbers_as_strings(http: httpx.Client) -> None:
    task = _data(http.post("/v1/tasks", json={"title": "Call", "status": 5}))

    assert task["status"] == "5"
    assert task["closedDate"] is not None
    assert task["responsibleId"] == "1"


def test_create_contact_with_phones(http: httpx.Client) -> None:
    body = {"name": "Ann", "fm": [{"typeId": "PHONE", "value": "+7 900 000-00-00"}]}

    contact = _data(http.post("/v1/contacts", json=body))

    assert contact["fm"][0]["value"] == "+7 900 000-00-00"
    assert contact["fm"][0]["valueType"] == "WORK"


def test_write_to_read_only_entity_is_refused(http: httpx.Client) -> None:
    response = http.post("/v1/users", json={"name": "Eve"})

    assert response.status_code == 405
    assert _error(response)["code"] == "METHOD_NOT_ALLOWED"


# -------------------------------------------------------- search and fields


def test_search_takes_a_json_body(http: httpx.Client) -> None:
    body = {
        "filter": {"categoryId": 1, "amount": {"$gte": 1000}},
        "select": ["id", "amount", "categoryId"],
        "order": {"amount": "asc"},
        "limit": 10,
    }

    response = http.post("/v1/deals/search", json=body)

    rows = _data(response)
    assert len(rows) == 10
    assert {row["categoryId"] for row in rows} == {1}
    assert [row["amount"] for row in rows] == sorted(row["amount"] for row in rows)
    meta = response.json()["meta"]
    assert meta["total"] > 10
    assert {"hasMore", "autoWindowed", "windowCount", "batchWaves"} <= set(meta)


def test_search_accepts_sort_and_prefix_keys(http: httpx.Client) -> None:
    body = {"filter": {">=createdAt": "2026-06-01"}, "sort": {"id": "desc"}}

    rows = _data(http.post("/v1/deals/search", json=body))

    assert rows[0]["id"] > rows[-1]["id"]
    assert all(row["createdAt"] >= "2026-06-01" for row in rows)


def test_search_with_get_is_invalid_params(http: httpx.Client) -> None:
    response = http.get("/v1/deals/search")

    assert response.status_code == 400
    assert _error(response)["code"] == "INVALID_PARAMS"


def test_search_unknown_operator_in_body(http: httpx.Client) -> None:
    body = {"filter": {"createdAt": {"to": "2026-01-01"}}}

    error = _error(http.post("/v1/deals/search", json=body))

    assert error["code"] == "INVALID_FILTER_OPERATOR"
    assert error["message"].startswith("Unknown filter operator: to. Supported:")


def test_fields_describe_titles_and_types(http: httpx.Client) -> None:
    fields = _data(http.get("/v1/deals/fields"))

    assert fields["amount"]["type"] == "double"
    assert fields["amount"]["title"] == "Amount"
    assert fields["id"]["isReadOnly"] is True
    assert fields["stageId"]["statusType"] == "DEAL_STAGE"
    assert fields["UF_CRM_DEAL_REGION"]["isDynamic"] is True


# ------------------------------------------------------------------- batch


def test_batch_answers_each_call_on_its_own(http: httpx.Client) -> None:
    calls = [
        {"id": "new", "entity": "deals", "action": "list", "params": {"limit": 3}},
        {"id": "me", "entity": "users", "action": "get", "entityId": 1},
        {"id": "gone", "entity": "deals", "action": "get", "entityId": 999999},
        {
            "id": "find",
            "entity": "tasks",
            "action": "search",
            "params": {"filter": {"status": 5}, "limit": 2},
        },
    ]

    data = _data(http.post("/v1/batch", json={"calls": calls}))

    assert [row["id"] for row in data["results"]["new"]] == [1, 2, 3]
    assert data["results"]["me"]["id"] == 1
    assert [row["status"] for row in data["results"]["find"]] == ["5", "5"]
    assert data["errors"]["gone"]["code"] == "ENTITY_NOT_FOUND"


def test_batch_over_fifty_calls_is_refused(http: httpx.Client) -> None:
    call = {"entity": "deals", "action": "get", "entityId": 1}
    calls = [{"id": str(i), **call} for i in range(51)]

    response = http.post("/v1/batch", json={"calls": calls})

    assert response.status_code == 400
    assert _error(response)["code"] == "BATCH_LIMIT_EXCEEDED"


def test_batch_checks_scope_per_call(sandbox: Sandbox) -> None:
    calls = [
        {"id": "d", "entity": "deals", "action": "list"},
        {"id": "t", "entity": "tasks", "action": "list"},
    ]
    with _client(sandbox, sandbox.issue_key(["crm"])) as client:
        data = _data(client.post("/v1/batch", json={"calls": calls}))

    assert len(data["results"]["d"]) == 50
    assert data["errors"]["t"]["code"] == "SCOPE_DENIED"


# --------------------------------------------------------------- me, auth


def test_me_lists_entities_for_the_key_scopes(sandbox: Sandbox) -> None:
    with _client(sandbox, sandbox.issue_key(["task"])) as client:
        me = _data(client.get("/v1/me"))

    assert me["portal"] == "acme.bitrix24.com"
    assert me["scopes"] == ["task"]
    assert me["accessMode"] == "READWRITE"
    assert me["api"]["entityApi"]["entities"] == {"tasks": "/v1/tasks"}
    assert me["owner"]["userId"] == 1


def test_auth_missing_key(sandbox: Sandbox) -> None:
    with _client(sandbox, "") as client:
        response = client.get("/v1/deals")

    assert response.status_code == 401
    assert _error(response) == {
        "code": "MISSING_API_KEY",
        "message": "API key required. Pass via X-Api-Key header.",
    }


def test_auth_unknown_key(sandbox: Sandbox) -> None:
    with _client(sandbox, "vibe_api_nope") as client:
        response = client.get("/v1/me")

    assert response.status_code == 401
    assert _error(response)["code"] == "INVALID_API_KEY"
    assert "vibe_api_nope" not in response.text


def test_auth_bearer_header_works(sandbox: Sandbox) -> None:
    key = sandbox.issue_key()
    with _client(sandbox, "", Authorization=f"Bearer {key}") as client:
        response = client.get("/v1/deals", params={"limit": 1})

    assert _ids(response) == [1]


def test_scope_denied_names_the_required_scope(sandbox: Sandbox) -> None:
    with _client(sandbox, sandbox.issue_key(["task"])) as client:
        response = client.get("/v1/deals")

    assert response.status_code == 403
    error = _error(response)
    assert error["code"] == "SCOPE_DENIED"
    assert error["details"]["requiredScope"] == "crm"


def test_users_need_a_user_scope_and_basic_sees_less(sandbox: Sandbox) -> None:
    with _client(sandbox, sandbox.issue_key(["crm"])) as crm_only:
        denied = crm_only.get("/v1/users")
    with _client(sandbox, sandbox.issue_key(["user_basic"])) as basic:
        users = _data(basic.get("/v1/users"))

    assert _error(denied)["details"]["requiredScope"] == "user"
    assert "email" not in users[0]
    assert {"id", "name", "lastName", "workPosition"} <= set(users[0])


def test_northwind_key_sees_northwind_data(sandbox: Sandbox) -> None:
    key = sandbox.issue_key(portal="northwind.bitrix24.com")
    with _client(sandbox, key) as client:
        me = _data(client.get("/v1/me"))
        currencies = _data(client.get("/v1/currencies/USD"))
        deals = _data(client.get("/v1/deals", params={"limit": 5000}))

    assert me["portalName"] == "Northwind Ltd"
    assert currencies["base"] is True
    assert len(deals) == 120


def test_unknown_endpoint_is_not_found_envelope(http: httpx.Client) -> None:
    response = http.get("/v1/rest")

    assert response.status_code == 404
    assert _error(response)["code"] == "NOT_FOUND"


def test_wrong_method_is_method_not_allowed(http: httpx.Client) -> None:
    response = http.put("/v1/deals/1", json={})

    assert response.status_code == 405
    assert _error(response)["code"] == "METHOD_NOT_ALLOWED"


def test_responses_carry_server_time_and_request_id(http: httpx.Client) -> None:
    response = http.get("/v1/deals", params={"limit": 1})

    assert float(response.headers["x-server-time-ms"]) >= 0
    assert response.headers["server-timing"].startswith("app;dur=")
    assert response.headers["x-request-id"].startswith("sbx-")


# ------------------------------------------------------------------ quirks


def test_quirk_has_more_true_on_full_last_page(http: httpx.Client) -> None:
    response = http.get("/v1/deals", params={"limit": 50, "offset": 1450})

    assert len(_data(response)) == 50
    assert response.json()["meta"]["hasMore"] is True


def test_quirk_single_row_answers_as_object(http: httpx.Client) -> None:
    users = http.get("/v1/users", params={"filter[id]": 1})
    categories = http.get("/v1/deal-categories", params={"filter[id]": 2})
    deals = http.get("/v1/deals", params={"filter[id]": 2})

    assert _data(users)["id"] == 1
    assert _data(categories)["name"] == "Renewals"
    assert isinstance(_data(deals), list)


def test_quirk_default_pipeline_missing(http: httpx.Client) -> None:
    categories = _data(http.get("/v1/deal-categories"))

    assert [row["id"] for row in categories] == [1, 2]
    assert http.get("/v1/deal-categories/0").status_code == 404


def test_quirk_contacts_have_null_phone_and_email(http: httpx.Client) -> None:
    contact = _data(http.get("/v1/contacts/1"))

    assert contact["PHONE"] is None
    assert contact["EMAIL"] is None
    assert isinstance(contact["fm"], list)


def test_quirks_off_gives_plain_answers(make_sandbox: Callable[..., Sandbox]) -> None:
    plain = make_sandbox(deals=120, quirks=False)
    with _client(plain, plain.issue_key()) as client:
        last_page = client.get("/v1/deals", params={"limit": 20, "offset": 100})
        one_user = client.get("/v1/users", params={"filter[id]": 1})
        categories = client.get("/v1/deal-categories")
        task = _data(client.get("/v1/tasks/1"))
        contact = _data(client.get("/v1/contacts/1"))

    assert last_page.json()["meta"] == {"total": 120, "hasMore": False}
    assert isinstance(_data(one_user), list)
    assert [row["id"] for row in _data(categories)] == [0, 1, 2]
    assert isinstance(task["status"], int)
    assert "PHONE" not in contact


# -------------------------------------------------------- writes under load


def test_writes_work_while_a_long_list_is_served(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    slow = make_sandbox(deals=5000, profile="demo", requests_per_minute=0)
    key = slow.issue_key()

    async def scenario() -> tuple[httpx.Response, list[httpx.Response]]:
        headers = {"X-Api-Key": key}
        async with httpx.AsyncClient(base_url=slow.base_url, headers=headers) as c:
            reading = asyncio.create_task(c.get("/v1/deals", params={"limit": 5000}))
            await asyncio.sleep(0.15)
            writes = [
                await c.patch("/v1/deals/10", json={"title": "Renamed"}),
                await c.delete("/v1/deals/20"),
                await c.post("/v1/deals", json={"title": "Fresh"}),
            ]
            done_before = reading.done()
            listing = await reading
            assert not done_before
            return listing, writes

    listing, writes = asyncio.run(scenario())

    rows = _data(listing)
    assert [w.status_code for w in writes] == [200, 200, 201]
    assert [row["id"] for row in rows] == list(range(1, 5001))
    assert rows[9]["title"] != "Renamed"


def test_keyset_pull_survives_concurrent_writes(sandbox: Sandbox) -> None:
    key = sandbox.issue_key()
    created: list[int] = []
    stop = threading.Event()

    def writer() -> None:
        with _client(sandbox, key) as client:
            while not stop.is_set():
                deal = _data(client.post("/v1/deals", json={"title": "Churn"}))
                created.append(deal["id"])
                client.patch("/v1/deals/3", json={"comments": f"n{len(created)}"})

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen: list[int] = []
        with _client(sandbox, key) as client:
            last = 0
            while True:
                params = {"limit": 100, "filter[id][$gt]": last}
                page = _ids(client.get("/v1/deals", params=params))
                if not page:
                    break
                seen += page
                last = page[-1]
    finally:
        stop.set()
        thread.join()

    assert created
    assert len(seen) == len(set(seen))
    assert set(range(1, 1501)) <= set(seen)


# ------------------------------------------------------------ Sandbox class


def _authorize_url(sandbox: Sandbox, scopes: str = "crm,task", **extra: str) -> str:
    params = {
        "client_id": sandbox.client_id,
        "redirect_uri": sandbox.redirect_uri,
        "scopes": scopes,
        "state": "s-123",
        **extra,
    }
    return str(httpx.URL(f"{sandbox.base_url}/v1/connect/authorize", params=params))


def test_sandbox_approve_round_trip_gives_a_working_key(sandbox: Sandbox) -> None:
    callback = httpx.URL(sandbox.approve(_authorize_url(sandbox), scopes=["task"]))

    token = httpx.post(
        f"{sandbox.base_url}/v1/connect/token",
        data={
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "code": callback.params["code"],
            "redirect_uri": sandbox.redirect_uri,
        },
    ).json()
    with _client(sandbox, token["api_key"]) as client:
        me = _data(client.get("/v1/me"))
        denied = client.get("/v1/deals")

    assert str(callback).startswith(sandbox.redirect_uri + "?")
    assert callback.params["state"] == "s-123"
    assert token["scopes"] == ["task"]
    assert me["scopes"] == ["task"]
    assert _error(denied)["code"] == "SCOPE_DENIED"


def test_sandbox_approve_picks_the_portal(sandbox: Sandbox) -> None:
    callback = httpx.URL(
        sandbox.approve(_authorize_url(sandbox), portal="northwind.bitrix24.com")
    )
    token = httpx.post(
        f"{sandbox.base_url}/v1/connect/token",
        data={
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "code": callback.params["code"],
            "redirect_uri": sandbox.redirect_uri,
        },
    ).json()

    assert token["portal"] == {
        "domain": "northwind.bitrix24.com",
        "name": "Northwind Ltd",
    }
    assert token["scopes"] == ["crm", "task"]


def test_sandbox_approve_deny_redirects_with_access_denied(sandbox: Sandbox) -> None:
    callback = httpx.URL(sandbox.approve(_authorize_url(sandbox), deny=True))

    assert callback.params["error"] == "access_denied"
    assert callback.params["state"] == "s-123"
    assert "code" not in callback.params


def test_sandbox_approve_refused_link_raises_the_code(sandbox: Sandbox) -> None:
    url = _authorize_url(sandbox, scopes="crm,telepathy")

    with pytest.raises(SandboxHTTPError) as refused:
        sandbox.approve(url)

    assert refused.value.code == "INVALID_SCOPE"


def test_sandbox_exposes_its_addresses_and_partner(sandbox: Sandbox) -> None:
    assert sandbox.base_url.startswith("http://127.0.0.1:")
    assert sandbox.redirect_uri == sandbox.base_url + "/callback"
    assert sandbox.portal_domain == "acme.bitrix24.com"
    assert sandbox.client_id == "sbx_demo_partner"
    assert sandbox.client_secret not in repr(sandbox)
    redirects = sandbox.state.partners[sandbox.client_id].redirect_uris
    assert "http://localhost:8765/callback" in redirects


def test_sandbox_issue_key_for_an_unknown_portal_fails(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="nowhere.bitrix24.com"):
        sandbox.issue_key(portal="nowhere.bitrix24.com")


def test_sandbox_stops_and_frees_its_port(make_sandbox: Callable[..., Sandbox]) -> None:
    running = make_sandbox(deals=10)
    url = running.base_url

    running.stop()

    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/v1/me")


def test_sandbox_modeled_floor_comes_from_the_limits(sandbox: Sandbox) -> None:
    demo = Sandbox(deals=10, profile="demo")

    assert demo.modeled_floor(100_000) == pytest.approx(2.75)
    assert sandbox.modeled_floor(100_000) < demo.modeled_floor(100_000)
