"""The benchmark still runs: a tiny triggerer-scale run end to end, so `make bench` cannot rot unnoticed."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_run_prints_the_table_and_writes_the_results(tmp_path):
    impls = "ours,naive"
    try:
        import airflow.providers.http  # noqa: F401 - only with the bench extra
        impls += ",http"
    except ImportError:
        pass
    (tmp_path / "benchmarks.md").write_text("# Benchmarks\n\nkept\n")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "triggerer_scale.py"), "--n", "20", "--impls", impls,
         "--interval", "2", "--finish-after", "3", "--spread", "0.5", "--skip-import-cost", "--azure-coalesce", "40:2",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| 20 | ours (DocStatusTrigger) |" in done.stdout
    assert "| 20 | sync hook via sync_to_async |" in done.stdout
    summary = json.loads((tmp_path / "benchmarks.json").read_text())
    for result in summary["results"]:
        assert "failed" not in result, result
        assert result["errors"] == 0 and result["outcomes"] == {"success": 20}
        # Each document is done 3 s after its trigger starts: polls at 0, 2 and 4 s.
        assert result["requests"] == result["minimum_requests"] == 60
        assert result["cpu_ms_per_poll"] > 0 and result["lag_ms"]["ticks"] > 0
        assert result["objects_per_waiting_trigger"] > 0 and len(result["loadavg_at_start"]) == 3
    # logging is on, routed as the triggerer routes it, for ours and the peers alike: ours writes its first
    # status and its end (the poll in between is at DEBUG), the http peer a warning per 404
    by_impl = {result["impl"]: result for result in summary["results"]}
    assert by_impl["ours"]["log_lines"] == {"info": 40}
    if "http" in by_impl:
        assert sum(by_impl["http"]["log_lines"].values()) >= 40, by_impl["http"]["log_lines"]
    shared, unshared = summary["azure_coalesce"]
    assert shared["shared"] and not unshared["shared"] and shared["errors"] == unshared["errors"] == 0
    # 40 waits, 2 batches, polls at 0, 2 and 4 s: 2 calls a round shared (a lone call, then the list), 40 not.
    assert 4 <= shared["calls"] <= 6 and unshared["calls"] == 120, (shared, unshared)
    assert "Target: 40 document waits in 2 batches cost at most 2 status calls per interval" in done.stdout
    page = (tmp_path / "benchmarks.md").read_text()
    assert page.startswith("# Benchmarks\n\nkept\n") and "<!-- results:start" in page
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "benchmarks.png").stat().st_size > 1000
