"""Reading the address the browser landed on after the consent page."""

from __future__ import annotations

import hmac
import re
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import (
    CallbackError,
    ConfigurationError,
    ConsentDeniedError,
    StateMismatchError,
)

__all__ = ["parse_callback", "shorten"]

_COPY_ADDRESS = (
    "Copy the whole address from the browser bar of the page that opened after "
    "you approved access, and paste it here."
)
_MAX_QUOTED = 120
_ERROR_NAME = re.compile(r"[A-Za-z][A-Za-z_.-]{0,39}")
_QUOTES = {'"': '"', "'": "'", "`": "`", "<": ">", "“": "”", "‘": "’", "«": "»"}


def parse_callback(pasted: str, expected_state: str) -> str:
    """Return the authorization code from the address the browser landed on.

    Accepts the whole address (``https://.../callback?code=...&state=...``)
    or only its query string, with or without ``?``, surrounded by spaces,
    line breaks or quotes. The ``state`` must equal the one
    :func:`authorize_url` returned; it is compared in constant time.

    Parameters
    ----------
    pasted
        The text the user pasted.
    expected_state
        The state returned with the Authorize link.

    Returns
    -------
    str
        The authorization code, for :func:`exchange_code`.

    Raises
    ------
    ConsentDeniedError
        The user pressed Deny (``error=access_denied``).
    StateMismatchError
        ``state`` is missing or belongs to another Authorize link.
    CallbackError
        Anything else that makes the text unusable; the message says what to
        paste instead and never repeats the pasted text.

    Examples
    --------
    >>> parse_callback(" https://example.com/cb?code=abc123&state=s1 ", "s1")
    'abc123'
    """
    if not isinstance(expected_state, str) or not expected_state:
        raise ConfigurationError(
            "parse_callback() needs the state that authorize_url() returned "
            "with the link; pass it as expected_state."
        )

    query, fragment = _split_callback(_clean_pasted(pasted))
    params = _parse_params(query)

    _raise_for_error(params)
    code = _single(params, "code")
    if code is None:
        raise CallbackError(_missing_code_message(params, _parse_params(fragment)))

    state = _single(params, "state")
    _check_state(state, expected_state)
    _check_code(code)
    return code


def _clean_pasted(pasted: Any) -> str:
    """Strip whitespace, quotes and brackets; rejoin an address split by lines."""
    if not isinstance(pasted, str):
        raise CallbackError(
            f"Expected the pasted address as text, got {type(pasted).__name__}. "
            + _COPY_ADDRESS
        )

    text = pasted.strip()
    while len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    text = "".join(text.split("\n")).replace("\r", "").replace("\t", "")
    if not text:
        raise CallbackError("Nothing was pasted. " + _COPY_ADDRESS)

    return text


def _split_callback(text: str) -> tuple[str, str]:
    """Return (query, fragment) of an address or a bare query string."""
    if _looks_encoded(text):
        text = unquote(text)

    if "://" in text:
        try:
            parts = urlsplit(text)
        except ValueError:
            raise CallbackError(
                "The pasted address is damaged and cannot be read. " + _COPY_ADDRESS
            ) from None
        return parts.query, parts.fragment

    body, _, fragment = text.partition("#")
    if "?" in body:
        return body.split("?", 1)[1], fragment
    if "=" in body:
        return body, fragment

    raise CallbackError(
        "The pasted text is not an address. " + _COPY_ADDRESS + " It starts "
        "with http and contains code= and state=; pasting only the code does not "
        "work, because the state is needed to check where it came from."
    )


def _looks_encoded(text: str) -> bool:
    """True for a whole address percent-encoded once more (http%3A%2F%2F...)."""
    lowered = text.lower()
    return "=" not in text and ("%3d" in lowered or lowered.startswith("http%3a"))


def _parse_params(query: str) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="replace")
    except ValueError:
        raise CallbackError(
            "The pasted address is damaged and cannot be read. " + _COPY_ADDRESS
        ) from None

    for name, value in pairs:
        params.setdefault(name.strip().lower(), []).append(value.strip())
    return params


def _single(params: dict[str, list[str]], name: str) -> str | None:
    """The one value of a parameter; None when absent or empty."""
    values = list(dict.fromkeys(v for v in params.get(name, []) if v))
    if len(values) > 1:
        raise CallbackError(
            f"The pasted address has several different '{name}' parameters, so "
            "it is not clear which one is right. Click Authorize again and paste "
            "the new address exactly as the browser shows it, without adding to it."
        )

    return values[0] if values else None


def _raise_for_error(params: dict[str, list[str]]) -> None:
    error = _single(params, "error")
    if error is None:
        return

    if error.lower() == "access_denied":
        raise ConsentDeniedError(
            "Access was denied on the consent page. Click Authorize again and "
            "press Approve."
        )
    name = f"'{error}'" if _ERROR_NAME.fullmatch(error) else "an unreadable error"
    description = _single(params, "error_description")
    said = f" ({shorten(description)})" if description else ""
    raise CallbackError(
        f"The consent page sent back {name} instead of a code{said}. Click "
        "Authorize again; if it repeats, check the partner's client id, "
        "redirect URI and scopes."
    )


def _missing_code_message(
    params: dict[str, list[str]], fragment: dict[str, list[str]]
) -> str:
    if fragment.get("code"):
        return (
            "The pasted address carries its code after '#', where it is not "
            "read. " + _COPY_ADDRESS + " Paste it unchanged; the code must come "
            "after '?'."
        )
    if "client_id" in params and "redirect_uri" in params:
        return (
            "This is the Authorize link itself, not the address you land on "
            "after approving. Open the link, press Approve, then paste the "
            "address of the page that opens."
        )

    return (
        "The pasted address has no 'code' parameter. Copy the whole address "
        "from the browser bar after you approve access."
    )


def _check_state(state: str | None, expected: str) -> None:
    if state is None:
        raise StateMismatchError(
            "The pasted address has no 'state' parameter, so it cannot be "
            "matched to this Authorize link. Copy the whole address, including "
            "'&state=...', or click Authorize again."
        )

    given = state.encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(given, expected.encode("utf-8", "surrogatepass")):
        raise StateMismatchError(
            "The pasted address belongs to an older or different Authorize "
            "link (its 'state' does not match). Click the current Authorize "
            "link again, approve, and paste the new address."
        )


def _check_code(code: str) -> None:
    if any(c.isspace() or not c.isprintable() for c in code):
        raise CallbackError(
            "The 'code' parameter in the pasted address contains spaces or "
            "invisible characters, so the address was changed while copying. "
            + _COPY_ADDRESS
        )


def shorten(text: str) -> str:
    """Printable, short form of a non-secret value for a message."""
    printable = "".join(c if c.isprintable() else "?" for c in text)
    if len(printable) > _MAX_QUOTED:
        return printable[: _MAX_QUOTED - 1] + "…"
    return printable
