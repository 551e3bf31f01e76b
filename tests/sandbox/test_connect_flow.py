"""Partner Connect in the sandbox: consent page, approve/deny, token, callback."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from vibe_notebook._scopes import SCOPES
from vibe_notebook.sandbox import Sandbox
from vibe_notebook.sandbox._connect import connect_routes
from vibe_notebook.sandbox._connect_pages import read_consent_id
from vibe_notebook.sandbox._data import DISABLED_CLIENT_ID
from vibe_notebook.sandbox._state import (
    Partner,
    Portal,
    SandboxConfig,
    SandboxState,
    Table,
)

CALLBACK = "http://127.0.0.1:8765/callback"
SECRET = "sbx_secret_do_not_print_0123456789"


class FakeClock:
    def __init__(self, now: float = 1_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_state(clock: FakeClock | None = None, **config: object) -> SandboxState:
    state = SandboxState(SandboxConfig(**config), clock=clock or FakeClock())  # type: ignore[arg-type]
    admin = {"id": 1, "name": "Anna", "lastName": "Petrova", "email": "anna@acme.test"}
    state.add_portal(
        Portal("acme.bitrix24.test", "Acme Ltd", {"users": Table([admin])})
    )
    state.add_portal(Portal("north.bitrix24.test", "North Branch"))
    state.add_partner(
        Partner("demo", SECRET, "Demo Analytics", [CALLBACK, CALLBACK + "?via=lab"])
    )
    state.add_partner(Partner("other", "other-secret", "Other Partner", [CALLBACK]))
    state.add_partner(
        Partner("off", "off-secret", "Retired Partner", [CALLBACK], False)
    )
    return state


@contextlib.asynccontextmanager
async def asgi_sandbox(state: SandboxState) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=connect_routes(state))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sbx") as client:
        yield client


def authorize_params(**overrides: str) -> dict[str, str]:
    params = {
        "client_id": "demo",
        "redirect_uri": CALLBACK,
        "scopes": "crm,task,user",
        "state": "st-123",
    }
    return {**params, **overrides}


class FormReader(HTMLParser):
    """What a browser would submit from the consent form, with its defaults."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, list[str]] = {}
        self.options: dict[str, list[str]] = {}
        self.buttons: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = a["action"]
        elif tag == "button":
            self.buttons.append(a.get("value", ""))
        elif tag == "input":
            self.options.setdefault(a["name"], []).append(a["value"])
            if a["type"] == "hidden" or "checked" in a:
                self.fields.setdefault(a["name"], []).append(a["value"])


def read_form(page: str) -> FormReader:
    reader = FormReader()
    reader.feed(page)
    return reader


async def open_consent(client: httpx.AsyncClient, **overrides: str) -> FormReader:
    response = await client.get(
        "/v1/connect/authorize", params=authorize_params(**overrides)
    )
    assert response.status_code == 200, response.text
    return read_form(response.text)


async def submit(
    client: httpx.AsyncClient,
    form: FormReader,
    decision: str = "approve",
    **fields: object,
) -> httpx.Response:
    data: dict[str, object] = {**form.fields, "decision": decision, **fields}
    return await client.post(urljoin("/v1/connect/authorize", form.action), data=data)


def query_of(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)


async def get_code(client: httpx.AsyncClient, **fields: object) -> str:
    form = await open_consent(client)
    return query_of(await submit(client, form, **fields))["code"][0]


async def exchange(
    client: httpx.AsyncClient, code: str, **overrides: str
) -> httpx.Response:
    data = {
        "client_id": "demo",
        "client_secret": SECRET,
        "code": code,
        "redirect_uri": CALLBACK,
        **overrides,
    }
    return await client.post("/v1/connect/token", data=data)


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


# Consent page -----------------------------------------------------------------


@pytest.mark.anyio
async def test_authorize_renders_consent_page_with_portals_and_scopes() -> None:
    async with asgi_sandbox(make_state()) as client:
        response = await client.get("/v1/connect/authorize", params=authorize_params())

    page = response.text
    form = read_form(page)
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-frame-options"] == "DENY"
    assert "Demo Analytics" in page
    assert form.options["portal"] == ["acme.bitrix24.test", "north.bitrix24.test"]
    assert form.fields["portal"] == ["acme.bitrix24.test"]
    assert form.fields["scope"] == ["crm", "task", "user"]
    assert SCOPES["task"] in page
    assert form.buttons == ["approve", "deny"]
    assert form.fields["consent_id"] == [read_consent_id(page)]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"client_id": "nobody"}, 400, "INVALID_CLIENT"),
        ({"client_id": ""}, 400, "INVALID_CLIENT"),
        ({"redirect_uri": CALLBACK + "/"}, 400, "INVALID_REDIRECT_URI"),
        ({"redirect_uri": "http://evil.test/callback"}, 400, "INVALID_REDIRECT_URI"),
        ({"scopes": "crm,teleport"}, 400, "INVALID_SCOPE"),
        ({"scopes": ""}, 400, "INVALID_SCOPE"),
        ({"client_id": "off"}, 403, "PARTNER_DISABLED"),
    ],
)
async def test_authorize_refuses_with_error_page_and_no_redirect(
    overrides: dict[str, str], status: int, code: str
) -> None:
    async with asgi_sandbox(make_state()) as client:
        page = await client.get(
            "/v1/connect/authorize", params=authorize_params(**overrides)
        )
        api = await client.get(
            "/v1/connect/authorize",
            params=authorize_params(**overrides),
            headers={"Accept": "application/json"},
        )

    assert page.status_code == status
    assert "location" not in page.headers
    assert f'<code id="error-code">{code}</code>' in page.text
    assert "consent_id" not in page.text
    assert api.status_code == status
    assert api.json()["success"] is False
    assert error_code(api) == code


@pytest.mark.anyio
async def test_authorize_error_page_escapes_what_it_quotes() -> None:
    async with asgi_sandbox(make_state()) as client:
        response = await client.get(
            "/v1/connect/authorize", params=authorize_params(client_id="<script>x")
        )

    assert "<script>x" not in response.text
    assert "&lt;script&gt;x" in response.text


# Approve and deny -------------------------------------------------------------


@pytest.mark.anyio
async def test_approve_redirects_with_code_and_same_state() -> None:
    async with asgi_sandbox(make_state()) as client:
        form = await open_consent(client)
        response = await submit(client, form)

    location = response.headers["location"]
    query = query_of(response)
    assert location.startswith(CALLBACK + "?")
    assert query["state"] == ["st-123"]
    assert len(query["code"][0]) >= 20


@pytest.mark.anyio
async def test_approve_keeps_the_query_of_the_redirect_uri() -> None:
    async with asgi_sandbox(make_state()) as client:
        form = await open_consent(client, redirect_uri=CALLBACK + "?via=lab")
        query = query_of(await submit(client, form))

    assert query["via"] == ["lab"]
    assert "code" in query


@pytest.mark.anyio
async def test_deny_redirects_with_access_denied_and_state() -> None:
    async with asgi_sandbox(make_state()) as client:
        form = await open_consent(client)
        query = query_of(await submit(client, form, decision="deny"))

    assert query["error"] == ["access_denied"]
    assert query["state"] == ["st-123"]
    assert "code" not in query
    assert query["error_description"][0]


@pytest.mark.anyio
async def test_approve_without_state_omits_it() -> None:
    async with asgi_sandbox(make_state()) as client:
        response = await client.get(
            "/v1/connect/authorize",
            params={"client_id": "demo", "redirect_uri": CALLBACK, "scopes": "crm"},
        )
        query = query_of(await submit(client, read_form(response.text)))

    assert "state" not in query


@pytest.mark.anyio
async def test_approve_with_no_scope_ticked_shows_the_form_again() -> None:
    async with asgi_sandbox(make_state()) as client:
        form = await open_consent(client)
        again = await submit(client, form, scope=[])
        retry = await submit(client, read_form(again.text), scope=["task"])

    assert again.status_code == 400
    assert "Tick at least one" in again.text
    assert read_form(again.text).fields["consent_id"] == form.fields["consent_id"]
    assert "code" in query_of(retry)


@pytest.mark.anyio
async def test_approve_with_unknown_portal_shows_the_form_again() -> None:
    async with asgi_sandbox(make_state()) as client:
        form = await open_consent(client)
        again = await submit(client, form, portal="elsewhere.bitrix24.test")

    assert again.status_code == 400
    assert "Choose one of the portals" in again.text


@pytest.mark.anyio
async def test_consent_form_cannot_be_replayed() -> None:
    async with asgi_sandbox(make_state()) as client:
        form = await open_consent(client)
        first = await submit(client, form)
        replay = await submit(client, form)

    assert first.status_code == 302
    assert replay.status_code == 400
    assert "location" not in replay.headers
    assert "already answered" in replay.text


@pytest.mark.anyio
async def test_consent_form_expires_with_the_code_ttl() -> None:
    clock = FakeClock()
    async with asgi_sandbox(make_state(clock)) as client:
        form = await open_consent(client)
        clock.advance(601)
        late = await submit(client, form)

    assert late.status_code == 400


# Token --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_token_returns_flat_key_with_only_the_ticked_scopes() -> None:
    state = make_state()
    async with asgi_sandbox(state) as client:
        code = await get_code(
            client, scope=["crm", "user"], portal="acme.bitrix24.test"
        )
        response = await exchange(client, code)

    body = response.json()
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert set(body) == {"success", "api_key", "portal", "scopes", "user"}
    assert body["success"] is True
    assert body["portal"] == {"domain": "acme.bitrix24.test", "name": "Acme Ltd"}
    assert body["scopes"] == ["crm", "user"]
    assert body["user"] == {"name": "Anna Petrova", "email": "anna@acme.test"}
    record = state.keys[body["api_key"]]
    assert (record.portal_domain, record.client_id) == ("acme.bitrix24.test", "demo")
    assert record.scopes == {"crm", "user"}


@pytest.mark.anyio
async def test_token_for_portal_without_users_has_a_default_user() -> None:
    async with asgi_sandbox(make_state()) as client:
        code = await get_code(client, portal="north.bitrix24.test")
        body = (await exchange(client, code)).json()

    assert body["portal"]["domain"] == "north.bitrix24.test"
    assert body["user"]["email"] == "admin@north.bitrix24.test"


@pytest.mark.anyio
async def test_token_code_works_once() -> None:
    async with asgi_sandbox(make_state()) as client:
        code = await get_code(client)
        first = await exchange(client, code)
        second = await exchange(client, code)

    assert first.status_code == 200
    assert (second.status_code, error_code(second)) == (400, "INVALID_CODE")
    assert "already used" in second.json()["error"]["message"]


@pytest.mark.anyio
async def test_token_code_expires_after_ttl() -> None:
    clock = FakeClock()
    async with asgi_sandbox(make_state(clock)) as client:
        fresh = await get_code(client)
        stale = await get_code(client)
        clock.advance(599)
        in_time = await exchange(client, fresh)
        clock.advance(2)
        late = await exchange(client, stale)

    assert in_time.status_code == 200
    assert (late.status_code, error_code(late)) == (400, "INVALID_CODE")
    assert "expired" in late.json()["error"]["message"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"client_secret": "wrong"}, 400, "INVALID_CLIENT"),
        ({"client_id": "nobody"}, 400, "INVALID_CLIENT"),
        ({"client_id": "other", "client_secret": "other-secret"}, 400, "INVALID_CODE"),
        ({"redirect_uri": CALLBACK + "?via=lab"}, 400, "INVALID_CODE"),
        ({"code": "made-up-code"}, 400, "INVALID_CODE"),
        ({"client_id": "off", "client_secret": "off-secret"}, 403, "PARTNER_DISABLED"),
        ({"redirect_uri": ""}, 400, "INVALID_PARAMS"),
    ],
)
async def test_token_refuses_bad_exchanges(
    overrides: dict[str, str], status: int, code: str
) -> None:
    async with asgi_sandbox(make_state()) as client:
        good = await get_code(client)
        response = await exchange(client, overrides.pop("code", good), **overrides)
        still_good = await exchange(client, good)

    assert (response.status_code, error_code(response)) == (status, code)
    assert good not in response.text
    assert SECRET not in response.text
    assert still_good.status_code == 200


@pytest.mark.anyio
async def test_token_refuses_json_body() -> None:
    async with asgi_sandbox(make_state()) as client:
        code = await get_code(client)
        response = await client.post(
            "/v1/connect/token",
            json={
                "client_id": "demo",
                "client_secret": SECRET,
                "code": code,
                "redirect_uri": CALLBACK,
            },
        )

    assert (response.status_code, error_code(response)) == (400, "INVALID_PARAMS")
    assert "form-encoded" in response.json()["error"]["message"]


@pytest.mark.anyio
async def test_token_refuses_past_the_per_portal_key_limit() -> None:
    state = make_state(keys_per_portal=2)
    state.issue_key("acme.bitrix24.test", ["crm"], 1, "other")  # another partner
    state.issue_key("north.bitrix24.test", ["crm"], 1, "demo")  # another portal
    async with asgi_sandbox(state) as client:
        codes = [await get_code(client) for _ in range(3)]
        answers = [await exchange(client, code) for code in codes]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert error_code(answers[2]) == "KEY_LIMIT_REACHED"
    assert "(2)" in answers[2].json()["error"]["message"]


# Callback -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_callback_page_shows_the_address_to_copy() -> None:
    async with asgi_sandbox(make_state()) as client:
        response = await client.get("/callback", params={"code": "abc", "state": "s1"})

    page = response.text
    assert response.status_code == 200
    assert 'value="http://sbx/callback?code=abc&amp;state=s1"' in page
    assert 'id="copy-button"' in page
    assert "readonly" in page
    assert "paste it into the callback field" in page.lower()


@pytest.mark.anyio
async def test_callback_page_explains_a_denial() -> None:
    async with asgi_sandbox(make_state()) as client:
        response = await client.get(
            "/callback", params={"error": "access_denied", "state": "s1"}
        )

    assert "Access was not granted" in response.text
    assert "you pressed Deny" in response.text


def test_read_consent_id_rejects_an_error_page() -> None:
    with pytest.raises(ValueError, match="no consent form"):
        read_consent_id("<html><body>INVALID_CLIENT</body></html>")


# End to end over a real socket --------------------------------------------------


@contextlib.contextmanager
def serve_connect() -> Iterator[tuple[str, SandboxState]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    state = make_state()
    state.add_partner(
        Partner("live", "live-secret", "Live Partner", [f"{base_url}/callback"])
    )
    app = Starlette(routes=connect_routes(state))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        yield base_url, state
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_connect_round_trip_over_http_only() -> None:
    with serve_connect() as (base_url, state), httpx.Client(timeout=10) as http:
        redirect_uri = f"{base_url}/callback"
        authorize = f"{base_url}/v1/connect/authorize"
        params = {
            "client_id": "live",
            "redirect_uri": redirect_uri,
            "scopes": "crm,task",
            "state": "xyz",
        }
        consent = http.get(authorize, params=params)
        form = read_form(consent.text)
        fields = {**form.fields, "scope": ["task"], "decision": "approve"}
        answer = http.post(urljoin(str(consent.url), form.action), data=fields)
        landed = http.get(answer.headers["location"])
        pasted = parse_qs(urlsplit(str(landed.url)).query)
        token = http.post(
            f"{base_url}/v1/connect/token",
            data={
                "client_id": "live",
                "client_secret": "live-secret",
                "code": pasted["code"][0],
                "redirect_uri": redirect_uri,
            },
        )

    assert answer.status_code == 302
    assert landed.status_code == 200
    assert "Copy" in landed.text
    assert pasted["state"] == ["xyz"]
    assert token.status_code == 200
    assert token.json()["scopes"] == ["task"]
    assert state.keys[token.json()["api_key"]].client_id == "live"


def test_connect_round_trip_through_the_sandbox_over_http() -> None:
    with Sandbox() as sb, httpx.Client(base_url=sb.base_url, timeout=10) as http:
        query = {
            "client_id": sb.client_id,
            "redirect_uri": sb.redirect_uri,
            "scopes": "crm,task",
            "state": "s-42",
        }
        consent = http.get(f"/v1/connect/authorize?{urlencode(query)}")
        form = read_form(consent.text)
        portal = form.options["portal"][1]
        fields = {**form.fields, "portal": portal, "scope": ["crm"]}
        answer = http.post(urljoin(str(consent.url), form.action), data=fields)
        landed = http.get(answer.headers["location"])
        code = parse_qs(urlsplit(str(landed.url)).query)["code"][0]
        token = http.post(
            "/v1/connect/token",
            data={
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
                "code": code,
                "redirect_uri": sb.redirect_uri,
            },
        )
        key = {"X-Api-Key": token.json()["api_key"]}
        deals = http.get("/v1/deals", params={"limit": 1}, headers=key)
        tasks = http.get("/v1/tasks", params={"limit": 1}, headers=key)

    assert len(form.options["portal"]) >= 2
    assert (answer.status_code, landed.status_code) == (302, 200)
    assert token.json()["portal"]["domain"] == portal
    assert token.json()["scopes"] == ["crm"]
    assert deals.status_code == 200
    assert tasks.status_code == 403


def test_sandbox_disabled_partner_gets_an_error_page() -> None:
    with Sandbox() as sb:
        partner = sb.state.partners[DISABLED_CLIENT_ID]
        query = {
            "client_id": partner.client_id,
            "redirect_uri": partner.redirect_uris[0],
            "scopes": "crm",
        }
        response = httpx.get(f"{sb.base_url}/v1/connect/authorize?{urlencode(query)}")

    assert response.status_code == 403
    assert "location" not in response.headers
    assert "PARTNER_DISABLED" in response.text


def test_sandbox_approve_drives_this_consent_form() -> None:
    with Sandbox() as sb:
        query = {
            "client_id": sb.client_id,
            "redirect_uri": sb.redirect_uri,
            "scopes": "crm,task",
            "state": "s-7",
        }
        url = f"{sb.base_url}/v1/connect/authorize?{urlencode(query)}"
        other = [domain for domain in sb.state.portals if domain != sb.portal_domain][0]
        approved = parse_qs(
            urlsplit(sb.approve(url, scopes=["task"], portal=other)).query
        )
        denied = parse_qs(urlsplit(sb.approve(url, deny=True)).query)
        token = httpx.post(
            f"{sb.base_url}/v1/connect/token",
            data={
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
                "code": approved["code"][0],
                "redirect_uri": sb.redirect_uri,
            },
        )

    assert approved["state"] == ["s-7"]
    assert token.json()["scopes"] == ["task"]
    assert token.json()["portal"]["domain"] == other
    assert denied["error"] == ["access_denied"]
    assert denied["state"] == ["s-7"]
