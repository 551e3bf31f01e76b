#!/usr/bin/env bash
# Set everything up and run every test: unit, sandbox, notebooks, browser.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh ui
scripts/ensure-chromium.sh
export VIBE_CHROMIUM="${VIBE_CHROMIUM:-/usr/bin/chromium}"
export PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring
py=.venv/bin/python

status=0
"$py" -m pytest -q -m "not ui" "$@" || status=$?
[ "$status" -eq 5 ] && { echo "no tests were collected" >&2; status=1; }

ui_status=0
"$py" -m pytest -q -m ui tests "$@" || ui_status=$?
[ "$ui_status" -eq 5 ] && { echo "no browser tests were collected" >&2; ui_status=1; }

exit $(( status || ui_status ))
