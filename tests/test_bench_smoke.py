"""Every benchmark still runs against the current code (at its small sizes): a schema or API
change that breaks `make bench` fails here, not weeks later."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_benchmark_runs_at_quick_sizes(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path / "out.md")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    modules = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))
    assert len(modules) >= 5
    # At least one Markdown section per module, each with a table.
    headings = [line for line in done.stdout.splitlines() if line.startswith("## ")]
    assert len(headings) >= len(modules)
    assert done.stdout.count("|---") >= len(headings)
    assert not (tmp_path / "out.md").exists()  # quick runs never overwrite the record
