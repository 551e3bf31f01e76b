"""``Sandbox``: the emulator served by uvicorn on a free local port."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import uvicorn

from ._app import create_app
from ._connect_pages import read_consent_id
from ._data import DEMO_CLIENT_ID, populate
from ._state import SandboxConfig, SandboxHTTPError, SandboxState

logger = logging.getLogger(__name__)

DEFAULT_KEY_SCOPES = ("crm", "task", "user")
_ERROR_CODE = re.compile(r'id="error-code">([^<]*)<')
_ERROR_MESSAGE = re.compile(r'(?:id="error-message"|class="message")>([^<]*)<')


class Sandbox:
    """A local, faithful Vibe Platform with a seeded demo portal.

    Parameters
    ----------
    seed : int, default 42
        Seeds the generated portals: the same seed gives the same data.
    deals : int, default 1500
        Deals on the main portal (up to 1,000,000; above 200,000 they are
        generated on demand).
    profile : {"test", "demo"}, default "test"
        ``demo`` adds modeled latency; ``test`` answers as fast as it can.
    quirks : bool, default True
        Reproduce the platform's known quirks (see docs/sandbox.md).
    fault_rates : dict, optional
        Probability of each injected fault: ``"429"``, ``"502"``, ``"504"``,
        ``"drop"``, ``"slow"``.
    clock : callable, optional
        Returns the time in seconds; tests pass a fake one.
    host, port : str, int
        Where to listen; port 0 picks a free one.
    public_url : str, optional
        The address a browser uses when it is not ``base_url`` (for example
        behind jupyter-server-proxy); its ``/callback`` is registered too.
    **config
        Any other :class:`SandboxConfig` field, e.g. ``requests_per_minute``.

    Examples
    --------
    >>> with Sandbox() as sb:  # doctest: +SKIP
    ...     key = sb.issue_key()
    ...     httpx.get(sb.base_url + "/v1/deals", headers={"X-Api-Key": key})
    """

    def __init__(
        self,
        *,
        seed: int = 42,
        deals: int = 1500,
        profile: str = "test",
        quirks: bool = True,
        fault_rates: dict[str, float] | None = None,
        clock: Callable[[], float] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
        **config: Any,
    ):
        settings = SandboxConfig(
            seed=seed,
            deals=deals,
            profile=profile,
            quirks=quirks,
            fault_rates=dict(fault_rates or {}),
            **config,
        )
        self.state = SandboxState(settings, clock or time.time)
        populate(self.state)
        self.app = create_app(self.state)
        self.host = host
        self.port = port
        self._public_url = public_url.rstrip("/") if public_url else None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._server else "not started"
        return f"Sandbox({where}, portal={self.portal_domain!r})"

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def config(self) -> SandboxConfig:
        return self.state.config

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, once started."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def public_url(self) -> str:
        """The address browsers use: ``public_url`` if given, else ``base_url``."""
        return self._public_url or self.base_url

    @property
    def client_id(self) -> str:
        return DEMO_CLIENT_ID

    @property
    def client_secret(self) -> str:
        return self.state.partners[DEMO_CLIENT_ID].client_secret

    @property
    def redirect_uri(self) -> str:
        """The sandbox's own ``/callback`` page, registered for the demo partner."""
        return f"{self.public_url}/callback"

    @property
    def portal_domain(self) -> str:
        return self.state.default_portal

    def start(self) -> Sandbox:
        """Serve in a background thread; returns self once it answers."""
        if self._server is not None:
            raise RuntimeError("This sandbox is already running; call stop() first.")
        sock, server = self._listen()
        self._thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [sock]},
            name=f"vibe-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._wait_started()
        logger.info("Sandbox serving %s", self.base_url)
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (what the CLI does)."""
        sock, server = self._listen()
        server.run(sockets=[sock])

    def _listen(self) -> tuple[socket.socket, uvicorn.Server]:
        """Bind the port (a free one when 0) and make the server for it."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._register_callbacks()
        self._server = _server(self.app, self.host)
        return sock, self._server

    def bind_port(self) -> int:
        """Pick the port now (for banners printed before serving)."""
        if not self.port:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind((self.host, 0))
                self.port = probe.getsockname()[1]
        self._register_callbacks()
        return self.port

    def stop(self) -> None:
        """Stop serving and wait for the server thread to end."""
        if self._server is None:
            return
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def issue_key(
        self, scopes: Iterable[str] = DEFAULT_KEY_SCOPES, portal: str | None = None
    ) -> str:
        """A ready API key for ``portal`` (the main one by default)."""
        domain = portal or self.portal_domain
        if domain not in self.state.portals:
            known = ", ".join(self.state.portals)
            raise ValueError(
                f"No portal {domain!r} in this sandbox; use one of {known}."
            )
        owner = self.state.portals[domain].owner_id
        return self.state.issue_key(domain, list(scopes), owner)

    def modeled_floor(self, rows: int, *, page_size: int = 5000) -> float:
        """The least time, in seconds, any client could pull ``rows`` rows in."""
        return float(self.state.limits.modeled_floor(rows, page_size=page_size))

    def approve(
        self,
        authorize_url: str,
        scopes: Iterable[str] | None = None,
        portal: str | None = None,
        deny: bool = False,
    ) -> str:
        """Answer the consent page over HTTP, as a user in a browser would.

        Opens ``authorize_url``, ticks ``scopes`` (all requested ones by
        default), picks ``portal`` (the main one by default) and presses
        Approve, or Deny when ``deny`` is true.

        Returns
        -------
        str
            The address the browser is sent to: the redirect URI with
            ``code`` and ``state``, or with ``error=access_denied``.

        Raises
        ------
        SandboxHTTPError
            The consent page refused the link (unknown client, unregistered
            redirect URI, unknown scope, disabled partner).
        """
        with httpx.Client(headers={"Accept": "text/html"}, timeout=30) as http:
            page = http.get(authorize_url)
            if page.status_code != 200:
                raise _page_error(page)
            form = _consent_form(page.text, authorize_url, scopes, portal, deny)
            form.setdefault("portal", [portal or self.portal_domain])
            answer = http.post(urljoin(authorize_url, "approve"), data=form)
        if answer.status_code != 302:
            raise _page_error(answer)
        return answer.headers["location"]

    def _register_callbacks(self) -> None:
        partner = self.state.partners[DEMO_CLIENT_ID]
        for uri in {f"{self.base_url}/callback", self.redirect_uri}:
            if uri not in partner.redirect_uris:
                partner.redirect_uris.insert(0, uri)

    def _wait_started(self) -> None:
        deadline = time.monotonic() + 15
        while self._server is not None and not self._server.started:
            if self._thread is not None and not self._thread.is_alive():
                raise RuntimeError(f"The sandbox failed to start on {self.base_url}.")
            if time.monotonic() > deadline:
                raise RuntimeError(f"The sandbox did not start on {self.base_url}.")
            time.sleep(0.01)


def _server(app: Any, host: str) -> uvicorn.Server:
    config = uvicorn.Config(
        app, host=host, log_level="warning", access_log=False, lifespan="off"
    )
    return uvicorn.Server(config)


def _consent_form(
    page: str,
    authorize_url: str,
    scopes: Iterable[str] | None,
    portal: str | None,
    deny: bool,
) -> dict[str, list[str]]:
    try:
        consent_id = read_consent_id(page)
    except ValueError:
        raise SandboxHTTPError(
            400, "INVALID_PARAMS", "The page has no consent form."
        ) from None
    requested = parse_qs(urlsplit(authorize_url).query).get("scopes", [""])[0]
    ticked = list(scopes) if scopes is not None else requested.split(",")
    form = {
        "consent_id": [consent_id],
        "scope": [name for name in ticked if name],
        "decision": ["deny" if deny else "approve"],
    }
    if portal:
        form["portal"] = [portal]
    return form


def _page_error(response: httpx.Response) -> SandboxHTTPError:
    code = _ERROR_CODE.search(response.text)
    message = _ERROR_MESSAGE.search(response.text)
    return SandboxHTTPError(
        response.status_code,
        code.group(1) if code else "UNEXPECTED_PAGE",
        message.group(1) if message else f"HTTP {response.status_code}",
    )
