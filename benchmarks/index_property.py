"""The index property test, longer: random steps (ingest, update, remove, prune, rebuild,
a damaged Chroma, kill -9 of a real writer) from random working folders, each followed by
a comparison of the index with a fresh build of the files that should be there.

The suite runs 2 seeds x 100 steps (tests/test_index_property.py); this runs more.

    .venv/bin/python benchmarks/index_property.py [--seeds 3,4,5] [--steps 1000]

Prints, per seed, the steps of each kind, writers killed (and of those, killed after
at least one commit), damages, fresh builds and the time; exit 1 at the first
difference, with the steps that led to it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.index_model import Difference, run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="3,4,5")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--kill-every", type=int, default=20)
    args = parser.parse_args()
    total = kills = 0
    for seed in (int(s) for s in args.seeds.split(",")):
        with tempfile.TemporaryDirectory(prefix="pcc-property-") as tmp:
            try:
                out = run(Path(tmp), seed, args.steps, args.kill_every)
            except Difference as exc:
                print(exc)
                sys.exit(1)
        total += out.steps
        kills += out.kills
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(out.by_kind.items()))
        print(
            f"seed {seed}: {out.steps} steps ({kinds}); {out.kills} writers killed "
            f"({out.kills_mid_write} after a commit), {out.damages} damaged Chromas, "
            f"{out.fresh_builds} fresh builds; {out.seconds:.0f} s; 0 differences",
            flush=True,
        )
    print(f"all: {total} steps, {kills} kill -9s, 0 differences")


if __name__ == "__main__":
    main()
