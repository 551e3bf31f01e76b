"""1,000,000 deal records to a typed, labelled frame vs pandas.DataFrame(records).

Run: ``python benchmarks/bench_frames.py [--rows 1000000]``.

The records come from the sandbox's own deal generator, passed through JSON
as the client would receive them. Each conversion runs in a fresh process,
twice: once timed (and its peak RSS above the level before the conversion
read from /proc), once under tracemalloc for the peak of Python and NumPy
allocations. tracemalloc does not see Arrow's buffers (pandas keeps text in
them), so both memory figures are printed.

Goals: typed conversion at most 1.5x the time and at most 1.0x the memory
of the plain frame.

A third row, *paged*, types the same records the way ``vn.deals()`` does
during a pull: 5000-row pages through ``PagedFrame.add``, then one
``PagedFrame.frame`` that joins them and adds the labels. It is reported for
comparison; the goals are judged on *typed*.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import pickle
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import pandas as pd

from vibe_notebook._frames import PagedFrame, to_frame
from vibe_notebook._lookups import build_lookups

PAGE_ROWS = 5000  # rows per page of a pull


def make_records(rows: int, path: Path) -> None:
    """Generate ``rows`` sandbox deals, round-trip them through JSON, pickle."""
    from vibe_notebook.sandbox._data import PortalPlan, build_portal
    from vibe_notebook.sandbox._data_words import anchor_time

    plan = PortalPlan("bench.bitrix24.com", "Bench", 42, rows, eager_limit=rows)
    plan.anchor = anchor_time("2026-12-01", 0)
    portal = build_portal(plan)
    deals = portal.tables["deals"]
    records = json.loads(json.dumps([deals[key] for key in deals]))
    tables = portal.tables
    lookups = build_lookups(
        categories=[c for c in tables["deal-categories"].values() if c["id"] != 0],
        statuses=list(tables["statuses"].values()),
        users=list(tables["users"].values()),
        currencies=list(tables["currencies"].values()),
    )
    with path.open("wb") as out:
        pickle.dump((records, lookups), out, protocol=pickle.HIGHEST_PROTOCOL)


def measure(mode: str, path: Path, traced: bool) -> dict[str, float]:
    """Convert once in this process; return seconds and memory figures."""
    with path.open("rb") as source:
        records, lookups = pickle.load(source)
    rss_before = _rss_kb("VmRSS")
    _reset_peak_rss()

    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    if mode == "typed":
        frame = to_frame("deals", records, lookups=lookups)
    elif mode == "paged":
        paged = PagedFrame("deals")
        for start in range(0, len(records), PAGE_ROWS):
            paged.add(records[start : start + PAGE_ROWS])
        frame = paged.frame(records, lookups=lookups)
    else:
        frame = pd.DataFrame(records)
    seconds = time.perf_counter() - started
    peak_traced = tracemalloc.get_traced_memory()[1] if traced else 0
    tracemalloc.stop()

    return {
        "seconds": seconds,
        "rss_mb": (_rss_kb("VmHWM") - rss_before) / 1024,
        "traced_mb": peak_traced / 2**20,
        "frame_mb": frame.memory_usage(deep=True).sum() / 2**20,
        "rows": len(frame),
    }


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss() -> None:
    # writing 5 to clear_refs resets VmHWM (Linux), so the peak is this step's
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def run_child(mode: str, path: Path, traced: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", mode, "--data", str(path)]
    if traced:
        command.append("--traced")
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    return dict(json.loads(output.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", choices=["typed", "plain", "paged"])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--traced", action="store_true")
    args = parser.parse_args()

    if args.child:
        print(json.dumps(measure(args.child, args.data, args.traced)))
        return

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "deals.pickle"
        started = time.perf_counter()
        make_records(args.rows, path)
        print(f"generated {args.rows:,} deals in {time.perf_counter() - started:.0f} s")
        results = {}
        for mode in ("plain", "typed", "paged"):
            timed = run_child(mode, path, traced=False)
            timed["traced_mb"] = run_child(mode, path, traced=True)["traced_mb"]
            results[mode] = timed
    report(results, args.rows)


def report(results: dict[str, dict[str, float]], rows: int) -> None:
    plain, typed = results["plain"], results["typed"]
    print(f"{rows:,} deal records to a frame (fresh process each)")
    header = f"{'':8}{'seconds':>9}{'peak RSS MB':>13}{'traced MB':>11}{'frame MB':>10}"
    print(header)
    for name, r in results.items():
        print(
            f"{name:8}{r['seconds']:>9.2f}{r['rss_mb']:>13.0f}"
            f"{r['traced_mb']:>11.0f}{r['frame_mb']:>10.0f}"
        )
    time_ratio = typed["seconds"] / plain["seconds"]
    rss_ratio = typed["rss_mb"] / plain["rss_mb"]
    traced_ratio = typed["traced_mb"] / plain["traced_mb"]
    print(f"time ratio typed/plain      {time_ratio:.2f}  (goal <= 1.5)")
    print(f"peak RSS ratio typed/plain  {rss_ratio:.2f}  (goal <= 1.0)")
    print(f"traced peak ratio           {traced_ratio:.2f}  (goal <= 1.0)")
    met = time_ratio <= 1.5 and rss_ratio <= 1.0 and traced_ratio <= 1.0
    print("goals: " + ("met" if met else "MISSED (see the ratios above)"))


if __name__ == "__main__":
    main()
