"""Run the benchmark suite: ``python -m tests.benchmarks [name ...]``.

Environment: ``SCALE=small`` for a quick run (CI), ``BENCH_OUT=path.json`` to write the figures.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks import (
    bench_board,
    bench_browser,
    bench_dispatch,
    bench_export,
    bench_generation,
    bench_kpi,
    bench_push,
    bench_sim,
    bench_ws,
)
from tests.benchmarks.common import SCALE, Results

SUITES = {
    "generation": bench_generation.run,
    "dispatch": bench_dispatch.run,
    "board": bench_board.run,
    "kpi": bench_kpi.run,
    "export": bench_export.run,
    "push": bench_push.run,
    "browser": bench_browser.run,
    "ws": bench_ws.run,
    "sim": bench_sim.run,
}


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all by default), print a table, optionally write JSON."""
    names = argv or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        print(f"unknown benchmarks: {unknown}; choose from {list(SUITES)}")
        return 2
    results = Results()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            print(f"== {name} (SCALE={SCALE})", flush=True)
            SUITES[name](results, Path(tmp))
    print(f"\nBenchmarks finished in {time.perf_counter() - started:.0f} s (SCALE={SCALE})\n")
    print(results.table())
    out = os.environ.get("BENCH_OUT")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps({m.name: round(m.value, 3) for m in results.metrics}, indent=2))
        print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
