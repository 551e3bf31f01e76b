"""JupyterLab and Debian's Chromium for the real-browser tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest
from playwright.sync_api import expect

_CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_STARTUP_LIMIT = 90.0
_WAIT_MS = 60_000

# The machine is shared and slow at times: wait for states, never for time.
expect.set_options(timeout=_WAIT_MS)

# Widget state is saved into the notebook, so the "no secret in the saved
# file" check also covers every widget's state, not only the outputs.
_WIDGET_SETTINGS = {"saveState": True}
_NEWS_OFF = {"fetchNews": "false", "checkForUpdates": False}


@dataclass
class Lab:
    """A running JupyterLab: where it is and where its files are."""

    url: str
    token: str
    root: Path
    notebook: Path
    secrets_file: Path
    log: Path

    def page_url(self) -> str:
        return f"{self.url}lab/tree/{self.notebook.name}?reset&token={self.token}"


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any],
) -> dict[str, Any]:
    chromium = os.environ.get("VIBE_CHROMIUM", "/usr/bin/chromium")
    return {
        **browser_type_launch_args,
        "executable_path": chromium,
        "args": _CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 1600}}


@pytest.fixture(scope="session")
def output_dir() -> Path:
    folder = Path(__file__).resolve().parents[2] / "test-output" / "ui"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(params=["local", "hub"])
def jupyter_lab(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lab]:
    """JupyterLab at / (local) or under /user/test/ with the hub's variable set."""
    root = tmp_path_factory.mktemp(f"lab-{request.param}")
    prefix = "/user/test/" if request.param == "hub" else "/"
    lab = _prepare(root, prefix)
    process = _start(lab, prefix, request.param == "hub")
    try:
        _wait_until_up(lab, process)
        yield lab
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _prepare(root: Path, prefix: str) -> Lab:
    notebooks = root / "notebooks"
    notebooks.mkdir()
    secrets_file = root / "outside" / "secrets.json"
    secrets_file.parent.mkdir()
    notebook = notebooks / "connect.ipynb"
    nbformat.write(_notebook(secrets_file), notebook)
    settings = root / "lab-settings" / "@jupyter-widgets" / "jupyterlab-manager"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text(json.dumps(_WIDGET_SETTINGS))
    news = root / "lab-settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps(_NEWS_OFF))
    port = _free_port()
    return Lab(
        url=f"http://127.0.0.1:{port}{prefix}",
        token=os.urandom(12).hex(),
        root=root,
        notebook=notebook,
        secrets_file=secrets_file,
        log=root / "lab.log",
    )


def _notebook(secrets_file: Path) -> nbformat.NotebookNode:
    """Connect; dump the real secrets outside the notebook; pull deals."""
    dump = (
        "import json, pathlib\n"
        "from vibe_notebook import _panel_settings\n"
        "_sb = _panel_settings._SANDBOX\n"
        f"pathlib.Path({str(secrets_file)!r}).write_text(json.dumps({{\n"
        "    'api_key': panel.connection.api_key,\n"
        "    'client_secret': _sb.client_secret,\n"
        "    'all_keys': list(_sb.state.keys),\n"
        "}))\n"
        "del _sb"
    )
    cells = [
        "import vibe_notebook as vn\npanel = vn.connect(sandbox=True)\npanel",
        dump,
        "vn.deals().shape",
    ]
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )


def _start(lab: Lab, prefix: str, behind_hub: bool) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(lab.root / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(lab.root / "jupyter-runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(lab.root / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(lab.root / "lab-workspaces"),
        "IPYTHONDIR": str(lab.root / "ipython"),
        "XDG_CONFIG_HOME": str(lab.root / "xdg-config"),
        "XDG_DATA_HOME": str(lab.root / "xdg-data"),
        "XDG_CACHE_HOME": str(lab.root / "xdg-cache"),
    }
    for name in ("VIBE_API_KEY", "VIBE_CLIENT_SECRET", "JUPYTERHUB_SERVICE_PREFIX"):
        env.pop(name, None)
    if behind_hub:
        env["JUPYTERHUB_SERVICE_PREFIX"] = prefix
    port = lab.url.split(":")[2].split("/")[0]
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={lab.token}",
        "--LabApp.expose_app_in_browser=True",
        f"--ServerApp.root_dir={lab.notebook.parent}",
        f"--ServerApp.base_url={prefix}",
    ]
    with lab.log.open("wb") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_until_up(lab: Lab, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _STARTUP_LIMIT
    status = f"{lab.url}api/status?token={lab.token}"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(status, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)

    log = lab.log.read_text(errors="replace")[-4000:]
    pytest.fail(f"JupyterLab did not start at {lab.url}; its log ends with:\n{log}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
