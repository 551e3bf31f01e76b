"""The progress bar a slow pull shows: tqdm.auto, fed by the pull's callbacks."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._pull_plan import PullPlan

__all__ = ["progress_bar"]

OnCount = Callable[[int], Any]

# A pull still running after this many seconds shows a progress bar.
_PROGRESS_DELAY = 1.0


@contextlib.contextmanager
def progress_bar(plan: PullPlan) -> Iterator[tuple[OnCount | None, OnCount | None]]:
    """Callbacks ``(on_rows, on_total)`` feeding a tqdm.auto bar, or Nones.

    With ``progress=None`` the bar appears only once a pull has run for a
    second. The total comes from ``limit=``, or from the pull's estimate once
    it knows the highest id (the platform's own totals cannot be trusted,
    vibe-api.md §3.1); with it the bar shows an ETA.
    """
    if plan.progress is False:
        yield None, None
        return
    from tqdm.auto import tqdm

    delay = 0.0 if plan.progress else _PROGRESS_DELAY
    bar = tqdm(
        total=plan.limit, desc=plan.entity, unit=" rows", delay=delay, leave=True
    )
    try:
        yield bar.update, functools.partial(_set_total, bar)
    finally:
        bar.close()


def _set_total(bar: Any, total: int) -> None:
    """Give a running bar its total; the next update draws it with an ETA."""
    bar.total = total
    widget = getattr(bar, "container", None)  # tqdm.notebook's ipywidget
    if widget is not None:
        progress = widget.children[1]
        progress.max, progress.bar_style = max(1, total), ""
        progress.layout.width = None
