"""Catch the consent page's redirect on a localhost port, so pasting is optional."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from ._hosting import can_browser_reach_kernel_localhost, local_port

logger = logging.getLogger(__name__)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vibe: back to the notebook</title>
<style>body{font-family:system-ui,sans-serif;max-width:32em;margin:4em auto}</style>
</head><body><h1>Done here</h1>
<p>The notebook received the consent page's answer and is connecting now.
You can close this tab and go back to the notebook.</p></body></html>
"""


class RedirectCatcher:
    """A tiny HTTP listener that hands one redirect address to a callback.

    It answers ``GET <redirect path>?code=...&state=...`` (or ``?error=...``)
    with a short "you can close this tab" page, then calls ``on_redirect`` with
    the full address, on ``loop`` when one is given (the kernel's loop), else
    in the listener's own thread. Anything else gets a 404.
    """

    def __init__(
        self,
        server: ThreadingHTTPServer,
        on_redirect: Callable[[str], None],
        loop: asyncio.AbstractEventLoop | None,
    ):
        self._server = server
        self._on_redirect = on_redirect
        self._loop = loop
        self.delivered = threading.Event()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="vibe-redirect",
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def deliver(self, address: str) -> None:
        """Hand ``address`` to the callback, on the loop when there is one."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._call, address)
            return

        self._call(address)

    def _call(self, address: str) -> None:
        try:
            self._on_redirect(address)
        finally:
            self.delivered.set()

    def close(self) -> None:
        """Stop listening and free the port; safe from a handler's thread too.

        Requests run in threads of their own, so waiting for the serving loop
        to end (at most its half-second poll) cannot wait on the caller.
        """
        self._server.shutdown()
        self._server.server_close()


def start_catcher(
    redirect_uri: str,
    on_redirect: Callable[[str], None],
    *,
    loop: asyncio.AbstractEventLoop | None = None,
) -> RedirectCatcher | None:
    """Listen on the redirect URI's localhost port, or return None.

    None means pasting is the only way: the URI is not ``http://localhost:<port>``
    or ``http://127.0.0.1:<port>``, the browser is not on this machine
    (JupyterHub, Binder, Colab), or the port is taken. Never raises for those.
    """
    port = local_port(redirect_uri)
    if port is None or not can_browser_reach_kernel_localhost():
        return None

    handler = _handler_class(redirect_uri)
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        logger.debug("Cannot listen on port %s for the redirect: %s", port, exc)
        return None

    server.daemon_threads = True
    server.block_on_close = False
    catcher = RedirectCatcher(server, on_redirect, loop)
    handler.catcher = catcher
    logger.debug("Listening for the consent redirect on port %s", port)
    return catcher


def _handler_class(redirect_uri: str) -> type[_RedirectHandler]:
    parts = urlsplit(redirect_uri)
    base = f"{parts.scheme}://{parts.netloc}"
    path = parts.path or "/"
    return type(
        "_BoundRedirectHandler",
        (_RedirectHandler,),
        {"expected_path": path, "public_base": base, "catcher": None},
    )


class _RedirectHandler(BaseHTTPRequestHandler):
    expected_path: str = "/"
    public_base: str = ""
    catcher: RedirectCatcher | None = None

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        is_answer = "state" in query or "error" in query or "code" in query
        if parts.path != self.expected_path or not is_answer:
            self._reply(404, "<p>Nothing here.</p>")
            return

        self._reply(200, _PAGE)
        if self.catcher is not None:
            self.catcher.deliver(self.public_base + self.path)

    def _reply(self, status: int, html: str) -> None:
        body = html.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        # The request line carries the authorization code: never log it.
        return
