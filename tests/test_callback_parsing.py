"""parse_callback: a table of pasted inputs, and properties on arbitrary text."""

from __future__ import annotations

from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vibe_notebook._connect import parse_callback
from vibe_notebook.errors import (
    CallbackError,
    ConfigurationError,
    ConsentDeniedError,
    StateMismatchError,
)

STATE = "s7ate-Value_9Qx"
CODE = "c0de-XYZ_123abc"
BASE = "https://partner.example.com/callback"
GOOD = f"{BASE}?code={CODE}&state={STATE}"

OK = [
    pytest.param(GOOD, CODE, id="full-https-address"),
    pytest.param(
        f"http://localhost:8765/callback?code={CODE}&state={STATE}",
        CODE,
        id="localhost-with-port",
    ),
    pytest.param(f"?code={CODE}&state={STATE}", CODE, id="query-with-question-mark"),
    pytest.param(f"code={CODE}&state={STATE}", CODE, id="query-without-question-mark"),
    pytest.param(f"  \n\t{GOOD} \r\n", CODE, id="surrounding-whitespace"),
    pytest.param(f'"{GOOD}"', CODE, id="double-quotes"),
    pytest.param(f"'{GOOD}'", CODE, id="single-quotes"),
    pytest.param(f"<{GOOD}>", CODE, id="angle-brackets"),
    pytest.param(f"“{GOOD}”", CODE, id="typographic-quotes"),
    pytest.param(f" ' {GOOD} ' ", CODE, id="quotes-and-spaces"),
    pytest.param(
        f"{BASE}?code={CODE[:6]}\n{CODE[6:]}&state={STATE}",
        CODE,
        id="address-broken-across-lines",
    ),
    pytest.param(f"{BASE}?state={STATE}&code={CODE}", CODE, id="state-before-code"),
    pytest.param(
        f"{BASE}?portal=a.bitrix24.ru&code={CODE}&scopes=crm,task&state={STATE}",
        CODE,
        id="extra-parameters",
    ),
    pytest.param(
        f"{BASE}?code=ab%2Fcd%3Def%2B1&state={STATE}",
        "ab/cd=ef+1",
        id="percent-encoded-code",
    ),
    pytest.param(
        f"{BASE}?code={CODE}&state={quote(STATE, safe='')}",
        CODE,
        id="percent-encoded-state",
    ),
    pytest.param(quote(GOOD, safe=""), CODE, id="whole-address-encoded-again"),
    pytest.param(f"{GOOD}#section", CODE, id="fragment-ignored"),
    pytest.param(f"{GOOD}#code=other&state=other", CODE, id="query-wins-over-fragment"),
    pytest.param(f"{GOOD}&code={CODE}", CODE, id="same-code-twice"),
    pytest.param(
        f"localhost:8765/callback?code={CODE}&state={STATE}", CODE, id="no-scheme"
    ),
    pytest.param(
        f"HTTPS://PARTNER.EXAMPLE.COM/callback?code={CODE}&state={STATE}",
        CODE,
        id="upper-case-host",
    ),
    pytest.param(f"{BASE}?code={CODE}&state={STATE}&", CODE, id="trailing-ampersand"),
    pytest.param(f"{BASE}?code=&code={CODE}&state={STATE}", CODE, id="blank-plus-real"),
]

FAILS = [
    pytest.param(
        f"{BASE}?state={STATE}", CallbackError, "no 'code' parameter", id="no-code"
    ),
    pytest.param(
        f"{BASE}?code=&state={STATE}", CallbackError, "no 'code'", id="empty-code"
    ),
    pytest.param(
        f"{BASE}?code={CODE}", StateMismatchError, "no 'state'", id="no-state"
    ),
    pytest.param(
        f"{BASE}?code={CODE}&state=", StateMismatchError, "no 'state'", id="empty-state"
    ),
    pytest.param(
        f"{BASE}?code={CODE}&state=older-state",
        StateMismatchError,
        "Click the current Authorize link",
        id="wrong-state",
    ),
    pytest.param(
        f"{BASE}?code={CODE}&state={STATE}x",
        StateMismatchError,
        "does not match",
        id="state-with-extra-char",
    ),
    pytest.param(
        f"{BASE}?code={CODE}&state=%C3%A9t%C3%A9",
        StateMismatchError,
        "does not match",
        id="non-ascii-state",
    ),
    pytest.param(
        f"{BASE}?error=access_denied&state={STATE}",
        ConsentDeniedError,
        "press Approve",
        id="access-denied",
    ),
    pytest.param(
        f"{BASE}?error=ACCESS_DENIED&error_description=User+said+no",
        ConsentDeniedError,
        "Access was denied",
        id="access-denied-upper-case",
    ),
    pytest.param(
        f"{BASE}?error=server_error&error_description=Portal+is+down&state={STATE}",
        CallbackError,
        "sent back 'server_error' instead of a code (Portal is down)",
        id="other-error-quoted",
    ),
    pytest.param(
        f"{BASE}?error=%3Cscript%3E&state={STATE}",
        CallbackError,
        "sent back an unreadable error instead of a code",
        id="odd-error-not-quoted",
    ),
    pytest.param(
        f"{BASE}?code={CODE}&code=another1&state={STATE}",
        CallbackError,
        "several different 'code'",
        id="two-different-codes",
    ),
    pytest.param(
        f"{BASE}?code={CODE}&state={STATE}&state=other",
        CallbackError,
        "several different 'state'",
        id="two-different-states",
    ),
    pytest.param(
        f"{BASE}#code={CODE}&state={STATE}",
        CallbackError,
        "after '#'",
        id="code-in-fragment",
    ),
    pytest.param("", CallbackError, "Nothing was pasted", id="empty"),
    pytest.param(" \n\t ", CallbackError, "Nothing was pasted", id="only-whitespace"),
    pytest.param('""', CallbackError, "Nothing was pasted", id="only-quotes"),
    pytest.param(
        "I pressed approve", CallbackError, "not an address", id="plain-words"
    ),
    pytest.param(CODE, CallbackError, "only the code", id="bare-code"),
    pytest.param(BASE, CallbackError, "no 'code' parameter", id="address-no-query"),
    pytest.param(
        "https://vibecode.bitrix24.tech/v1/connect/authorize?client_id=p1"
        f"&redirect_uri={quote(BASE, safe='')}&scopes=crm,task&state={STATE}",
        CallbackError,
        "Authorize link itself",
        id="authorize-link-pasted",
    ),
    pytest.param(
        f"http://[::1/callback?code={CODE}&state={STATE}",
        CallbackError,
        "damaged",
        id="broken-host",
    ),
    pytest.param(
        f"{BASE}?code=c0de+XYZ_123abc&state={STATE}",
        CallbackError,
        "spaces",
        id="code-with-space",
    ),
    pytest.param(None, CallbackError, "as text", id="not-a-string"),
]


@pytest.mark.parametrize(("pasted", "expected"), OK)
def test_parse_callback_returns_code(pasted: str, expected: str) -> None:
    assert parse_callback(pasted, STATE) == expected


@pytest.mark.parametrize(("pasted", "error", "phrase"), FAILS)
def test_parse_callback_rejects(
    pasted: str, error: type[CallbackError], phrase: str
) -> None:
    with pytest.raises(error) as caught:
        parse_callback(pasted, STATE)

    assert type(caught.value) is error
    assert phrase in str(caught.value)
    assert CODE not in str(caught.value)
    assert CODE not in repr(caught.value)


def test_parse_callback_table_is_large_enough() -> None:
    assert len(OK) + len(FAILS) >= 25


def test_parse_callback_needs_expected_state() -> None:
    with pytest.raises(ConfigurationError, match="authorize_url"):
        parse_callback(GOOD, "")


def test_parse_callback_state_mismatch_is_a_callback_error() -> None:
    with pytest.raises(CallbackError):
        parse_callback(f"{BASE}?code={CODE}&state=nope", STATE)


_PIECES = st.sampled_from(
    [
        "http://",
        "https://h/cb",
        "?",
        "&",
        "=",
        "#",
        "%",
        "%3D",
        "%26",
        "%zz",
        "+",
        "code",
        "state",
        "error",
        "access_denied",
        "error_description",
        STATE,
        CODE,
        "[",
        "]",
        ":",
        " ",
        "\n",
        '"',
        "\x00",
        "\ud800",
        "é",
    ]
)


def _check_outcome(text: str) -> None:
    try:
        result = parse_callback(text, STATE)
    except CallbackError as exc:
        # Only the consent page's error and error_description are quoted back.
        if "error" not in unquote(unquote(text)).lower():
            assert CODE not in str(exc)
        return

    assert isinstance(result, str)
    assert result


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_callback_arbitrary_text_raises_only_callback_errors(text: str) -> None:
    _check_outcome(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES | st.text(max_size=3), max_size=14).map("".join))
def test_parse_callback_address_like_text_raises_only_callback_errors(
    text: str,
) -> None:
    _check_outcome(text)


_TOKEN = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~",
    min_size=1,
    max_size=64,
)


@settings(max_examples=200, deadline=None)
@given(code=_TOKEN, state=_TOKEN, padding=st.sampled_from(["", " ", "\n", "\t "]))
def test_parse_callback_round_trips_any_url_safe_code(
    code: str, state: str, padding: str
) -> None:
    pasted = f"{padding}{BASE}?code={code}&state={state}{padding}"

    assert parse_callback(pasted, state) == code
