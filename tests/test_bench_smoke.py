"""The benchmarks in bench/ still run, with tiny numbers. They measure nothing here: no timings."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.replication import find_litestream

pytestmark = pytest.mark.slow  # every benchmark in small: ~7 s

ROOT = Path(__file__).resolve().parent.parent
RUNS = {
    "dialogue": ["bench.dialogue", "--members", "2", "--lock-times"],
    "dialogue over HTTP": ["bench.dialogue", "--members", "1", "--http"],
    "fanout": ["bench.fanout", "--recipients", "3"],
    "reports": ["bench.reports", "--institutions", "2", "--members", "4", "--runs", "1"],
    "carry": ["bench.carry", "--latency", "0"],
}


def run(args: list[str], tmp_path: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", *args, "--repeat", "1", "--json", "--dir", str(tmp_path)]
    out = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_every_benchmark_runs_to_the_end(tmp_path: Path) -> None:
    with ThreadPoolExecutor(len(RUNS)) as pool:
        results = dict(
            zip(RUNS, pool.map(lambda args: run(args, tmp_path), RUNS.values()), strict=True)
        )
    for name in ("dialogue", "dialogue over HTTP"):
        members = results[name]["members"]
        # Joining, starting, 45 answers with their follow-ups, submitting: 57 updates each,
        # and 15 "Überspringen" of the measures' "Bis wann?" (issue 16): 72.
        assert results[name]["updates"] == 72 * members, name
        assert results[name]["errors_logged"] == 0, name
    # Every turn commits its answer, then remembers the message with buttons.
    assert results["dialogue"]["transactions_per_update"] >= 1.5
    fanout = results["fanout"]
    assert (fanout["delivered"], fanout["lost"], fanout["duplicates"]) == (3, 0, 0)
    assert results["reports"]["heatmap_png_kib"] > 0
    # The repeat check: /weiter, one tap per requirement, submit and confirm (issue 15).
    assert (results["carry"]["taps"], results["carry"]["answers_carried"]) == (18, 45)


@pytest.mark.skipif(
    find_litestream() is None,
    reason="litestream is not installed: pip install -e '.[test,replication]'",
)
def test_the_replication_benchmark_runs_to_the_end(tmp_path: Path) -> None:
    """bench.replication still measures a lag for every answer and restores a sound copy."""
    result = run(
        ["bench.replication", "--members", "1", "--restore-institutions", "2", "--restores", "1"],
        tmp_path,
    )
    assert result["answers"] > 45  # one whole check, every revision
    assert result["answers_replicated"] == result["answers"]
    assert result["errors_logged"] == 0
    assert result["lag_ms_max"] >= result["lag_ms_p50"] >= 0
