"""funnel(): how many deals reached each stage of a pipeline, and their amount."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .errors import ConfigurationError, VibeWarning

__all__ = ["funnel"]

_STAGE_FIELDS = ("id", "name", "pipelineId", "pipeline", "semantic")


def funnel(
    deals: pd.DataFrame,
    pipeline: int | str | None = None,
    *,
    stages: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Count the deals that reached each stage of one pipeline.

    A deal *reached* a stage when its current stage is that stage or a later
    one in the pipeline's order. A won deal reached every stage. A lost deal
    reached the stages up to the one it was lost from (its
    ``previousStageId``); when that is not an open stage of the pipeline,
    only the first stage counts it.

    Parameters
    ----------
    deals : pandas.DataFrame
        A frame from ``deals()``, with at least ``stageId`` and ``amount``
        (``previousStageId`` makes lost deals count where they dropped out).
    pipeline : int or str, optional
        The pipeline, by id or name. May be left out when the deals all
        belong to one pipeline.
    stages : pandas.DataFrame, optional
        A ``stages()`` frame; by default the stage list that ``deals()``
        keeps in ``deals.attrs["stages"]``.

    Returns
    -------
    pandas.DataFrame
        One row per open stage in order, then the won stage(s), indexed by
        stage name: ``stageId``, ``reached`` (deals), ``amount`` (the sum of
        their ``amount``) and ``conversion`` (``reached`` over the previous
        row's; missing on the first row). Ready for ``.plot.bar()``.

    Examples
    --------
    >>> f = vn.funnel(vn.deals(), pipeline="General")  # doctest: +SKIP
    >>> f["reached"].plot.barh()  # doctest: +SKIP
    """
    table = _stage_table(deals, stages)
    chosen = _pick_pipeline(deals, table, pipeline)
    own = table[table["pipelineId"] == chosen]
    process = own[own["semantic"] == "open"]
    won = own[own["semantic"] == "won"]
    rows = deals[deals["stageId"].astype(object).isin(set(own["id"]))]
    _warn_on_mixed_currency(rows)

    levels = _levels(rows, list(process["id"]), set(won["id"]))
    amounts = _amounts(rows)
    return _result(process, won, rows, levels, amounts)


def _stage_table(deals: pd.DataFrame, stages: pd.DataFrame | None) -> pd.DataFrame:
    if stages is not None:
        needed = {"statusId", "name", "categoryId", "pipeline", "stageSemantic"}
        if not needed <= set(stages.columns):
            raise ConfigurationError(
                "stages= needs a frame from vn.stages() with columns "
                f"{sorted(needed)}; this one has {list(stages.columns)}."
            )
        table = pd.DataFrame(
            {
                "id": stages["statusId"].astype(object),
                "name": stages["name"].astype(object),
                "pipelineId": stages["categoryId"].astype("Int64"),
                "pipeline": stages["pipeline"].astype(object),
                "semantic": stages["stageSemantic"].astype(object),
            }
        )
        return table.reset_index(drop=True)

    kept = deals.attrs.get("stages")
    if not kept:
        raise ConfigurationError(
            "These deals carry no stage list (deals.attrs['stages'] is empty), "
            "so the stage order is unknown. Pass stages=vn.stages(), or use a "
            "frame straight from vn.deals()."
        )
    return pd.DataFrame([{k: s.get(k) for k in _STAGE_FIELDS} for s in kept])


def _pick_pipeline(deals: pd.DataFrame, table: pd.DataFrame, pipeline: Any) -> int:
    names = dict(zip(table["pipelineId"], table["pipeline"], strict=True))
    if pipeline is None:
        present = _pipelines_present(deals, table)
        if len(present) == 1:
            return present[0]
        listed = ", ".join(f"{p} ({names.get(p)})" for p in present) or "none"
        raise ConfigurationError(
            f"The deals span several pipelines ({listed}); say which one, "
            "e.g. funnel(deals, pipeline=0)."
        )
    for pid, name in names.items():
        if pipeline in (pid, name) or str(pipeline) == str(pid):
            return int(pid)
    listed = ", ".join(f"{p} ({n})" for p, n in names.items())
    raise ConfigurationError(
        f"pipeline={pipeline!r} is not one of this portal's pipelines: {listed}."
    )


def _pipelines_present(deals: pd.DataFrame, table: pd.DataFrame) -> list[int]:
    by_stage = dict(zip(table["id"], table["pipelineId"], strict=True))
    stage_ids = pd.unique(deals["stageId"].dropna().astype(object))
    return sorted({int(by_stage[s]) for s in stage_ids if s in by_stage})


def _levels(rows: pd.DataFrame, process: list[str], won: set[str]) -> np.ndarray:
    """How far each deal got: the index of the last open stage it reached.

    Won deals get ``len(process)``, one past the last open stage.
    """
    position: Mapping[str, int] = {stage: i for i, stage in enumerate(process)}
    current = rows["stageId"].astype(object).to_numpy()
    if "previousStageId" in rows.columns:
        previous = rows["previousStageId"].astype(object).to_numpy()
    else:
        previous = np.full(len(rows), None, dtype=object)

    levels = np.empty(len(rows), dtype=np.int64)
    for i, (stage, before) in enumerate(zip(current, previous, strict=True)):
        if stage in position:
            levels[i] = position[stage]
        elif stage in won:
            levels[i] = len(process)
        else:
            levels[i] = position.get(before, 0)
    return levels


def _amounts(rows: pd.DataFrame) -> np.ndarray:
    if "amount" not in rows.columns:
        return np.zeros(len(rows))
    return np.nan_to_num(rows["amount"].to_numpy(dtype=float, na_value=np.nan))


def _result(
    process: pd.DataFrame,
    won: pd.DataFrame,
    rows: pd.DataFrame,
    levels: np.ndarray,
    amounts: np.ndarray,
) -> pd.DataFrame:
    records = []
    for i, (stage_id, name) in enumerate(
        zip(process["id"], process["name"], strict=True)
    ):
        hit = levels >= i
        records.append((name, stage_id, int(hit.sum()), float(amounts[hit].sum())))
    current = rows["stageId"].astype(object).to_numpy()
    for stage_id, name in zip(won["id"], won["name"], strict=True):
        hit = current == stage_id
        records.append((name, stage_id, int(hit.sum()), float(amounts[hit].sum())))

    frame = pd.DataFrame(records, columns=["stage", "stageId", "reached", "amount"])
    previous = frame["reached"].shift(1)
    frame["conversion"] = frame["reached"] / previous.where(previous > 0)
    order = pd.CategoricalDtype(list(dict.fromkeys(frame["stage"])), ordered=True)
    return frame.set_index(frame["stage"].astype(order)).drop(columns="stage")


def _warn_on_mixed_currency(rows: pd.DataFrame) -> None:
    if "currency" not in rows.columns:
        return
    currencies = sorted(str(c) for c in rows["currency"].dropna().unique())
    if len(currencies) > 1:
        warnings.warn(
            f"The deals are in several currencies ({', '.join(currencies)}); "
            "amount adds them up as they are. Filter to one currency first, "
            "e.g. funnel(deals[deals.currency == 'USD']).",
            VibeWarning,
            stacklevel=3,
        )
