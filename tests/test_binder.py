"""The Binder configuration: Python 3.12, the package installed by postBuild."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
BINDER = REPO / "binder"


def _has_repo2docker() -> bool:
    return importlib.util.find_spec("repo2docker") is not None


def _unescape(text: str) -> str:
    # repo2docker names the build files it copies in by escaping their source
    # path ("." becomes "-2e", "-" becomes "-2d"); undo it to read the names.
    return re.sub(r"-([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), text)


@pytest.fixture(scope="module")
def rendered() -> subprocess.CompletedProcess[str]:
    if not _has_repo2docker():
        pytest.skip(
            "jupyter-repo2docker is not installed; "
            "`pip install jupyter-repo2docker` to render the Binder image"
        )

    command = [sys.executable, "-m", "repo2docker", "--no-build", "--debug", "."]
    result = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def rendered_dockerfile(rendered: subprocess.CompletedProcess[str]) -> str:
    return rendered.stdout


def test_binder_runtime_is_python_3_12() -> None:
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.12"


def test_binder_scripts_are_executable() -> None:
    for name in ("postBuild", "start"):
        assert os.access(BINDER / name, os.X_OK), f"binder/{name} is not executable"


def test_binder_post_build_stops_on_error_and_installs_the_demo_extra() -> None:
    lines = (BINDER / "postBuild").read_text().splitlines()

    assert lines[0].startswith("#!")
    assert any(line.startswith("set -e") for line in lines)
    assert 'python -m pip install --no-cache-dir ".[demo]"' in lines


def test_binder_start_hands_over_to_the_server() -> None:
    lines = [line for line in (BINDER / "start").read_text().splitlines() if line]

    assert lines[-1] == 'exec "$@"'


def test_binder_start_sets_no_api_key() -> None:
    text = (BINDER / "start").read_text()

    assert "VIBE_API_KEY" not in text
    assert "VIBE_CLIENT_SECRET" not in text


def test_binder_image_uses_python_3_12(
    rendered: subprocess.CompletedProcess[str],
) -> None:
    environment_lock = re.search(
        r"environment\.py-(3\.\d+)-", _unescape(rendered.stdout)
    )

    assert "conda environment for python=3.12" in rendered.stderr
    assert environment_lock is not None
    assert environment_lock.group(1) == "3.12"


def test_binder_image_runs_post_build(rendered_dockerfile: str) -> None:
    assert "RUN ./binder/postBuild" in rendered_dockerfile


def test_binder_image_installs_requirements_before_post_build(
    rendered_dockerfile: str,
) -> None:
    requirements = rendered_dockerfile.index('install --no-cache-dir -r "binder/requ')

    assert requirements < rendered_dockerfile.index("RUN ./binder/postBuild")


def test_binder_image_uses_the_start_script(rendered_dockerfile: str) -> None:
    assert 'R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in rendered_dockerfile
