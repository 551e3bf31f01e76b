#!/usr/bin/env bash
# One-command demo: set up a virtual environment, install vibe_notebook with
# the sandbox and JupyterLab, and serve the quickstart notebook.
#
#   scripts/demo.sh
#
# Environment:
#   HOST    address JupyterLab listens on (default 127.0.0.1)
#   PORT    first port to try (default 8888; the next free one is used)
#   PYTHON  interpreter that creates the venv (default python3, 3.11 or later)
#   VENV    where the venv lives (default .venv in the repository)
#
# The notebooks start the embedded sandbox themselves, so no account and no
# key are needed. Stop the server with Ctrl+C.
set -euo pipefail

cd "$(dirname "$0")/.."
repo="$(pwd)"

host="${HOST:-127.0.0.1}"
port="${PORT:-8888}"
python="${PYTHON:-python3}"
venv="${VENV:-$repo/.venv}"
notebook="notebooks/quickstart.ipynb"

say() { printf '%s\n' "$*" >&2; }
fail() { say "demo: $*"; exit 1; }

check_python() {
    command -v "$python" >/dev/null \
        || fail "'$python' was not found. Install Python 3.11 or later, or set PYTHON."
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || fail "$("$python" -V 2>&1) is too old: vibe_notebook needs Python 3.11 or later. Set PYTHON to a newer interpreter."
}

make_venv() {
    [ -x "$venv/bin/python" ] && return 0
    say "demo: creating a virtual environment in $venv"
    "$python" -m venv "$venv" \
        || fail "could not create a venv. On Debian or Ubuntu install python3-venv (apt-get install python3-venv) and run this again."
}

install_package() {
    # Reinstall only when pyproject.toml changed since the last demo install.
    local stamp="$venv/.vibe-demo-installed"
    local wanted
    wanted="$(cksum < pyproject.toml)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
        return 0
    fi
    say "demo: installing vibe_notebook with the sandbox and JupyterLab (first run takes a minute)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[demo]"
    printf '%s' "$wanted" > "$stamp"
}

free_port() {
    "$venv/bin/python" - "$host" "$port" <<'PY'
import socket
import sys

host, first = sys.argv[1], int(sys.argv[2])
for candidate in range(first, first + 50):
    with socket.socket() as sock:
        try:
            sock.bind((host, candidate))
        except OSError:
            continue
    print(candidate)
    break
else:
    sys.exit(f"no free port in {first}..{first + 49} on {host}; set PORT")
PY
}

wait_until_ready() {
    "$venv/bin/python" - "$1" "$2" <<'PY'
import os
import sys
import time
import urllib.request

url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    try:
        with urllib.request.urlopen(url, timeout=2):
            sys.exit(0)
    except OSError:
        time.sleep(0.5)
sys.exit(1)
PY
}

check_python
make_venv
install_package

port="$(free_port)"
token="$("$venv/bin/python" -c 'import secrets; print(secrets.token_hex(16))')"
root_flag=()
[ "$(id -u)" -eq 0 ] && root_flag=(--allow-root)

shown_host="$host"
case "$host" in 0.0.0.0 | "::") shown_host="localhost" ;; esac
address="http://$shown_host:$port/lab/tree/$notebook?token=$token"

"$venv/bin/jupyter" lab --no-browser "${root_flag[@]}" \
    --ServerApp.ip="$host" --ServerApp.port="$port" --ServerApp.port_retries=0 \
    --ServerApp.root_dir="$repo" --IdentityProvider.token="$token" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' INT TERM

if ! wait_until_ready "http://$shown_host:$port/api/status?token=$token" "$server"; then
    kill "$server" 2>/dev/null || true
    fail "JupyterLab did not start on port $port; see its log above."
fi

cat <<EOF

  vibe_notebook demo is ready. Open this address in your browser:

      $address

  Run the cells from the top: the quickstart starts its own sandbox.
  Press Ctrl+C here to stop JupyterLab.

EOF

wait "$server"
