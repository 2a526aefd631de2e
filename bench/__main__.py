"""``make bench``: run every benchmark module's ``main()`` in turn (areas add theirs to MODULES)."""

from __future__ import annotations

import importlib
import sys

MODULES = [
    "bench.emotion_eval",
    "bench.rollup_bench",
    "bench.load_bench",
]


def main() -> int:
    """``python -m bench [--quick] [name ...]``; ``--quick`` sets ``FENGQIAO_BENCH_SCALE=0.02``."""
    import os

    if "--quick" in sys.argv:
        os.environ.setdefault("FENGQIAO_BENCH_SCALE", "0.02")
    failed = 0
    only = [a for a in sys.argv[1:] if not a.startswith("-")]
    for name in MODULES:
        if only and not any(o in name for o in only):
            continue
        print(f"\n=== {name} ===", flush=True)
        module = importlib.import_module(name)
        result = module.main([])  # options come from the environment
        failed += 1 if result not in (None, 0) else 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
