"""Committed notebooks carry no outputs, execution counts or widget state."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def test_notebooks_folder_has_the_documented_notebooks() -> None:
    names = {path.name for path in NOTEBOOKS}

    assert {"quickstart.ipynb", "crm_report.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_valid_nbformat_4(path: Path) -> None:
    nb = _read(path)

    nbformat.validate(nb)
    assert nb.nbformat == 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs_or_execution_counts(path: Path) -> None:
    code_cells = [cell for cell in _read(path).cells if cell.cell_type == "code"]

    dirty = [
        index
        for index, cell in enumerate(code_cells)
        if cell.outputs or cell.execution_count is not None
    ]

    assert code_cells
    assert dirty == [], f"{path.name}: code cells {dirty} carry outputs; clear them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_widget_state_or_run_metadata(path: Path) -> None:
    nb = _read(path)

    timed = [
        index for index, cell in enumerate(nb.cells) if "execution" in cell.metadata
    ]

    assert "widgets" not in nb.metadata
    assert timed == [], f"{path.name}: cells {timed} keep execution timings"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_uses_the_default_python3_kernel(path: Path) -> None:
    kernelspec = _read(path).metadata.get("kernelspec", {})

    assert kernelspec.get("name") == "python3"
