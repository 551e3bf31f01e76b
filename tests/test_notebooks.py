"""Execute every notebook in notebooks/ against the sandbox, as CI does.

Each notebook runs top to bottom in a fresh kernel of this interpreter, in a
temporary working directory (so its Parquet files stay out of the checkout).
The executed copies are kept as HTML and .ipynb under test-output/notebooks/,
with the execution time of each notebook in timings.txt; `pytest -s` prints
the timings too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest

nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
OUTPUT = REPO / "test-output" / "notebooks"
KERNEL_NAME = "vibe-notebook-tests"
CELL_TIMEOUT = 300

# Variables that would point a notebook at a real portal or a saved key.
_PORTAL_VARIABLES = (
    "VIBE_API_KEY",
    "VIBE_BASE_URL",
    "VIBE_CLIENT_ID",
    "VIBE_CLIENT_SECRET",
    "VIBE_REDIRECT_URI",
)


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A kernelspec for this interpreter, and an environment with no portal."""
    prefix = tmp_path_factory.mktemp("kernel")
    subprocess.run(
        [sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix)]
        + ["--name", KERNEL_NAME, "--display-name", "vibe_notebook tests"],
        check=True,
        capture_output=True,
    )
    spec = json.loads(
        (prefix / "share/jupyter/kernels" / KERNEL_NAME / "kernel.json").read_text()
    )
    assert spec["argv"][0] == sys.executable

    overrides = {
        "JUPYTER_PATH": str(prefix / "share/jupyter"),
        "XDG_CONFIG_HOME": str(tmp_path_factory.mktemp("config")),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    saved = {name: os.environ.get(name) for name in [*overrides, *_PORTAL_VARIABLES]}
    os.environ.update(overrides)
    for name in _PORTAL_VARIABLES:
        os.environ.pop(name, None)

    yield

    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="module")
def timings() -> Iterator[dict[str, float]]:
    """Seconds per notebook, written to test-output/notebooks/timings.txt."""
    measured: dict[str, float] = {}

    yield measured

    if measured:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        lines = [f"{name}\t{seconds:.1f} s" for name, seconds in measured.items()]
        (OUTPUT / "timings.txt").write_text("\n".join(lines) + "\n")


def _execute(path: Path, workdir: Path) -> tuple[nbformat.NotebookNode, float]:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT,
        allow_errors=True,
        resources={"metadata": {"path": str(workdir)}},
    )

    started = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - started


def _save_executed(nb: nbformat.NotebookNode, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, OUTPUT / f"{name}.ipynb")

    try:
        from nbconvert import HTMLExporter
    except ImportError:
        return
    body, _ = HTMLExporter().from_notebook_node(nb)
    (OUTPUT / f"{name}.html").write_text(body, encoding="utf-8")


def _errors(nb: nbformat.NotebookNode) -> list[str]:
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found.append(f"cell {index}: {output.ename}: {output.evalue}")
    return found


def _chart_cells(nb: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    return [
        (index, cell)
        for index, cell in enumerate(nb.cells)
        if "chart" in cell.metadata.get("tags", [])
    ]


def _has_png(cell: nbformat.NotebookNode) -> bool:
    return any("image/png" in output.get("data", {}) for output in cell.outputs)


class _Run:
    """A notebook executed once per test module, with its working directory."""

    def __init__(self, nb: nbformat.NotebookNode, seconds: float, workdir: Path):
        self.nb = nb
        self.seconds = seconds
        self.workdir = workdir


@pytest.fixture(scope="module")
def run_notebook(
    kernel_env: None,
    timings: dict[str, float],
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[Path], _Run]:
    """Execute a notebook (once, however many tests ask) and keep the result."""
    runs: dict[Path, _Run] = {}

    def run(path: Path) -> _Run:
        if path not in runs:
            workdir = tmp_path_factory.mktemp(path.stem)
            nb, seconds = _execute(path, workdir)
            _save_executed(nb, path.stem)
            timings[path.name] = seconds
            print(f"\n{path.name}: executed in {seconds:.1f} s")
            runs[path] = _Run(nb, seconds, workdir)
        return runs[path]

    return run


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_without_errors(
    path: Path, run_notebook: Callable[[Path], _Run]
) -> None:
    nb = run_notebook(path).nb

    assert _errors(nb) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_charts_appear_in_the_executed_copy(
    path: Path, run_notebook: Callable[[Path], _Run]
) -> None:
    charts = _chart_cells(run_notebook(path).nb)

    blank = [index for index, cell in charts if not _has_png(cell)]

    assert charts, f"{path.name} has no cell tagged 'chart'"
    assert blank == [], f"{path.name}: chart cells {blank} drew no image"


def test_crm_report_saves_its_frames_to_parquet(
    run_notebook: Callable[[Path], _Run],
) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")

    run = run_notebook(REPO / "notebooks" / "crm_report.ipynb")
    saved = sorted((run.workdir / "reports").glob("*.parquet"))

    assert saved, "crm_report.ipynb wrote no Parquet files under reports/"
    assert all(len(pd.read_parquet(file)) > 0 for file in saved)
