"""funnel(): which deals reached which stage, with amounts and conversion."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from vibe_notebook import funnel
from vibe_notebook._frames import to_frame
from vibe_notebook.errors import ConfigurationError, VibeWarning

STAGES = [
    {"id": "NEW", "name": "New", "pipelineId": 0, "pipeline": "General"},
    {"id": "DEMO", "name": "Demo", "pipelineId": 0, "pipeline": "General"},
    {"id": "OFFER", "name": "Offer", "pipelineId": 0, "pipeline": "General"},
    {"id": "WON", "name": "Won", "pipelineId": 0, "pipeline": "General"},
    {"id": "LOSE", "name": "Lost", "pipelineId": 0, "pipeline": "General"},
    {"id": "C1:NEW", "name": "New", "pipelineId": 1, "pipeline": "Partners"},
    {"id": "C1:WON", "name": "Won", "pipelineId": 1, "pipeline": "Partners"},
]
SEMANTIC = {"WON": "won", "LOSE": "lost", "C1:WON": "won"}
for _stage in STAGES:
    _stage["semantic"] = SEMANTIC.get(_stage["id"], "open")


def _deals(rows: list[tuple[str, str | None, float]]) -> pd.DataFrame:
    records = [
        {"id": i, "stageId": stage, "previousStageId": before, "amount": amount}
        for i, (stage, before, amount) in enumerate(rows, 1)
    ]
    frame = to_frame("deals", records)
    frame.attrs["stages"] = STAGES
    return frame


@pytest.mark.parametrize(
    ("stage", "before", "reached"),
    [
        ("NEW", None, [1, 0, 0, 0]),
        ("DEMO", "NEW", [1, 1, 0, 0]),
        ("OFFER", "DEMO", [1, 1, 1, 0]),
        ("WON", "OFFER", [1, 1, 1, 1]),
        ("LOSE", "DEMO", [1, 1, 0, 0]),
        ("LOSE", "OFFER", [1, 1, 1, 0]),
        ("LOSE", None, [1, 0, 0, 0]),
        ("LOSE", "SOMEWHERE", [1, 0, 0, 0]),
    ],
    ids=[
        "open-first",
        "open-second",
        "open-last",
        "won-reaches-all",
        "lost-from-demo",
        "lost-from-offer",
        "lost-unknown-previous",
        "lost-previous-not-in-pipeline",
    ],
)
def test_funnel_reached_rule(stage, before, reached):
    result = funnel(_deals([(stage, before, 10.0)]), pipeline=0)

    assert result["reached"].tolist() == reached
    assert list(result.index) == ["New", "Demo", "Offer", "Won"]


def test_funnel_amount_and_conversion():
    deals = _deals(
        [
            ("NEW", None, 1.0),
            ("DEMO", "NEW", 2.0),
            ("WON", "OFFER", 4.0),
            ("LOSE", "DEMO", 8.0),
        ]
    )

    result = funnel(deals, pipeline="General")

    assert result["reached"].tolist() == [4, 3, 1, 1]
    assert result["amount"].tolist() == [15.0, 14.0, 4.0, 4.0]
    assert math.isnan(result["conversion"].iloc[0])
    assert result["conversion"].tolist()[1:] == [0.75, 1 / 3, 1.0]
    assert result.index.dtype == "category" and result.index.dtype.ordered


def test_funnel_picks_the_only_pipeline_present():
    result = funnel(_deals([("C1:NEW", None, 1.0), ("C1:WON", "C1:NEW", 2.0)]))

    assert result["stageId"].tolist() == ["C1:NEW", "C1:WON"]
    assert result["reached"].tolist() == [2, 1]


def test_funnel_needs_a_pipeline_when_deals_span_several():
    deals = _deals([("NEW", None, 1.0), ("C1:NEW", None, 1.0)])

    with pytest.raises(ConfigurationError, match="several pipelines"):
        funnel(deals)


def test_funnel_unknown_pipeline_lists_the_known_ones():
    with pytest.raises(ConfigurationError, match="Partners"):
        funnel(_deals([("NEW", None, 1.0)]), pipeline="Nope")


def test_funnel_without_stage_list_says_what_to_pass():
    deals = _deals([("NEW", None, 1.0)])
    deals.attrs.clear()

    with pytest.raises(ConfigurationError, match="stages=vn.stages()"):
        funnel(deals, pipeline=0)


def test_funnel_uses_a_stages_frame():
    stages = pd.DataFrame(
        {
            "statusId": [s["id"] for s in STAGES],
            "name": [s["name"] for s in STAGES],
            "categoryId": [s["pipelineId"] for s in STAGES],
            "pipeline": [s["pipeline"] for s in STAGES],
            "stageSemantic": [s["semantic"] for s in STAGES],
        }
    )
    deals = _deals([("OFFER", "DEMO", 1.0)])
    deals.attrs.clear()

    result = funnel(deals, pipeline=0, stages=stages)

    assert result["reached"].tolist() == [1, 1, 1, 0]


def test_funnel_warns_when_currencies_mix():
    deals = _deals([("NEW", None, 1.0), ("NEW", None, 1.0)])
    deals["currency"] = pd.Categorical(["USD", "EUR"])

    with pytest.warns(VibeWarning, match="several currencies"):
        funnel(deals, pipeline=0)
