"""``python -m vibe_notebook.sandbox``: serve a sandbox and print how to connect."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence
from urllib.parse import urlencode

from ._server import Sandbox

_BANNER = """\
Vibe Platform sandbox {version_note}
  base URL       {base_url}
  portals        {portals}
  deals          {deals} on {portal} (seed {seed}, profile {profile}, quirks {quirks})

Partner Connect (demo partner)
  client id      {client_id}
  client secret  {client_secret}
  redirect URI   {redirect_uri}
  authorize URL  {authorize_url}

Ready API key ({scopes}) for {portal}
  {api_key}

Try it:
  curl -H "X-Api-Key: {api_key}" "{base_url}/v1/deals?limit=3"
  export VIBE_BASE_URL={base_url} VIBE_API_KEY={api_key}

Serving until Ctrl-C.
"""


def _fault_rate(text: str) -> tuple[str, float]:
    kind, sep, value = text.partition("=")
    try:
        return kind.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--fault-rate takes KIND=PROBABILITY, e.g. 429=0.05; got {text!r}"
        ) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vibe_notebook.sandbox",
        description="Serve a local emulator of the Vibe Platform with demo data.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=42, help="seeds the demo data")
    parser.add_argument("--deals", type=int, default=1500, help="deals on the portal")
    parser.add_argument("--profile", choices=["demo", "test"], default="demo")
    parser.add_argument("--no-quirks", action="store_true", help="switch quirks off")
    parser.add_argument(
        "--fault-rate",
        type=_fault_rate,
        action="append",
        default=[],
        metavar="KIND=P",
        help="inject faults: 429, 502, 504, drop or slow, e.g. 502=0.05",
    )
    parser.add_argument("--public-url", help="address browsers use, if different")
    parser.add_argument("-v", "--verbose", action="store_true", help="log requests")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        sandbox = Sandbox(
            seed=args.seed,
            deals=args.deals,
            profile=args.profile,
            quirks=not args.no_quirks,
            fault_rates=dict(args.fault_rate),
            host=args.host,
            port=args.port,
            public_url=args.public_url,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sandbox.bind_port()
    print(_banner(sandbox), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sandbox.serve_forever()
    return 0


def _banner(sandbox: Sandbox) -> str:
    scopes = ("crm", "task", "user")
    query = urlencode(
        {
            "client_id": sandbox.client_id,
            "redirect_uri": sandbox.redirect_uri,
            "scopes": ",".join(scopes[:2]),
            "state": "anything-random",
        },
        safe=",",
    )
    config = sandbox.config
    return _BANNER.format(
        version_note="(made-up data; nothing leaves this computer)",
        base_url=sandbox.base_url,
        portals=", ".join(sandbox.state.portals),
        deals=config.deals,
        portal=sandbox.portal_domain,
        seed=config.seed,
        profile=config.profile,
        quirks="on" if config.quirks else "off",
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        redirect_uri=sandbox.redirect_uri,
        authorize_url=f"{sandbox.public_url}/v1/connect/authorize?{query}",
        scopes=",".join(scopes),
        api_key=sandbox.issue_key(scopes),
    )


if __name__ == "__main__":
    sys.exit(main())
