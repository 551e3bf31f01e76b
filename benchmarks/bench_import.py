"""Measure what `import vibe_notebook` costs on top of `import pandas`.

Each run is a fresh interpreter that imports pandas first, then times
``import vibe_notebook`` and, separately, the first touch of ``vn.Client``
(which loads httpx and the client modules). Prints the median of 7 runs.

    python benchmarks/bench_import.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys

RUNS = 7

_CHILD = """
import time
import pandas
t0 = time.perf_counter()
import vibe_notebook as vn
t1 = time.perf_counter()
vn.Client
t2 = time.perf_counter()
print(f"{(t1 - t0) * 1000:.3f} {(t2 - t1) * 1000:.3f}")
"""


def one_run() -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    runs = [one_run() for _ in range(RUNS)]
    package = statistics.median(r[0] for r in runs)
    client = statistics.median(r[1] for r in runs)
    print(f"import vibe_notebook after pandas: {package:.1f} ms (median of {RUNS})")
    print(f"first use of vn.Client (httpx, client): {client:.1f} ms (median)")
    print(f"together: {package + client:.1f} ms")


if __name__ == "__main__":
    main()
