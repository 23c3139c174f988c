"""Triggerer scale: N deferred waits in one event loop, our trigger against two peers, side by side.

``make bench`` runs it. For each N and each implementation, a fresh worker
process (the "triggerer") starts N triggers over a spread of a few seconds,
each trigger's ``run()`` an asyncio task iterated to its end and then cleaned
up, as Airflow's TriggerRunner does (with greenback's portal, as the triggerer
sets one up for every trigger). They poll the simulator, which runs in its own
process on loopback, where each document finishes a set time after its
trigger starts. Measured per run:

- CPU ms per poll: the worker's CPU time (user + system, every thread) while
  the triggers run, divided by the polls the simulator counted;
- RSS growth per waiting trigger: the largest RSS while every trigger waits,
  minus the RSS before the first one started, divided by N;
- event-loop lag: a 50 ms ticker in the same loop, how late each tick wakes
  (p50, p99, max);
- requests made against the minimum needed (ceil(T/I) + 1 polls per document);
- errors: triggers that ended without a success event (error or timeout
  event, an exception, or still running at the time limit).

Implementations:

- ``ours``: the vendor's trigger (``--vendor``, default LEADTOOLS' LeadtoolsQueryTrigger);
- ``http``: the http provider's ``HttpSensorTrigger`` polling the simulator's
  generic ``/_sim/ready/{vendor}/{id}``, which answers 404 until the document is done;
- ``naive``: the common shortcut, the vendor's sync hook ``check_status`` run
  through asgiref's ``sync_to_async``.

Usage: ``python benchmarks/triggerer_scale.py [--n 100,1000,5000,10000] [--interval 5]
[--finish-after 12.5] [--spread 5] [--impls ours,http,naive] [--vendor leadtools] [--quick]``.
It prints the table (with ratios of ours against each peer) and writes
``docs/benchmarks.json``, ``docs/benchmarks.png`` and the results section of
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_docstatus.vendors import VENDORS as ALL_VENDORS
from airflow_docstatus.vendors import Vendor

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
IMPLS = ("ours", "http", "naive")
IMPL_LABELS = {
    "ours": "ours (DocStatusTrigger)",
    "http": "HttpSensorTrigger",
    "naive": "sync hook via sync_to_async",
}
HTTP_CONN_ID = "bench_http"
LAG_TICK = 0.05
RSS_SAMPLE = 0.25

# Targets at N = 5,000 with a 5 s interval (issue 7).
TARGET_N = 5000
TARGET_P99_LAG_MS = 25.0
TARGET_CPU_RATIO_VS_HTTP = 1 / 3
TARGET_RSS_KB = 20.0


@dataclass(frozen=True)
class VendorBench:
    """How to benchmark one vendor: its simulator name, trigger, hook, the trigger's ids for a
    simulator document id, and a script that waits and then succeeds."""

    name: str
    trigger_path: str
    hook_path: str
    ids: Callable[[str], dict[str, Any]]
    waiting_status: Any
    done_status: Any
    done_payload: Any = None

    def script(self, finish_in: float) -> list[dict[str, Any]]:
        done = {"status": self.done_status}
        if self.done_payload is not None:
            done["payload"] = self.done_payload
        return [{"status": self.waiting_status, "seconds": round(finish_in, 3)}, done]


def _ids_of(vendor: Vendor) -> Callable[[str], dict[str, Any]]:
    """The trigger's ids for a simulator document id (``batch:document`` for a vendor with two ids)."""

    def ids(doc_id: str) -> dict[str, Any]:
        fields = import_string(vendor.hook_path).protocol_class.id_fields
        values = doc_id.split(":") if len(fields) > 1 else [doc_id]
        return {name: int(value) if vendor.simulator.int_ids else value for name, value in zip(fields, values)}

    return ids


# Every vendor of airflow_docstatus/vendors.py, by its simulator name; its first trigger is measured.
VENDORS: dict[str, VendorBench] = {
    vendor.module: VendorBench(
        name=vendor.module,
        trigger_path=vendor.trigger_paths[0],
        hook_path=vendor.hook_path,
        ids=_ids_of(vendor),
        waiting_status=vendor.simulator.waiting_status,
        done_status=vendor.simulator.done_status,
        done_payload=vendor.simulator.done_payload,
    )
    for vendor in ALL_VENDORS.values()
}


def import_string(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(__import__(module, fromlist=[name]), name)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raise_open_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


# -- the worker: one implementation, one N, in a fresh process -----------------------------------


def naive_trigger_class() -> type:
    """A trigger that runs the vendor's sync hook through asgiref's ``sync_to_async``: the common shortcut."""
    from asgiref.sync import sync_to_async
    from airflow.triggers.base import BaseTrigger, TriggerEvent

    from airflow_docstatus.engine.status import State

    class NaiveSyncHookTrigger(BaseTrigger):
        """Polls with the sync hook in asgiref's executor thread, sleeping ``poll_interval`` between polls."""

        def __init__(self, hook_path: str, ids: dict[str, Any], poll_interval: float) -> None:
            super().__init__()
            self.hook_path, self.ids, self.poll_interval = hook_path, ids, poll_interval

        def serialize(self) -> tuple[str, dict[str, Any]]:
            return ("NaiveSyncHookTrigger", {"hook_path": self.hook_path, "ids": self.ids,
                                             "poll_interval": self.poll_interval})

        async def run(self):
            hook = import_string(self.hook_path)()
            check = sync_to_async(hook.check_status)
            while True:
                status = await check(**self.ids)
                if status.state is State.SUCCEEDED:
                    yield TriggerEvent({"status": "success", "payload": status.payload})
                    return
                if status.state is State.FAILED:
                    yield TriggerEvent({"status": "failed"})
                    return
                await asyncio.sleep(self.poll_interval)

    return NaiveSyncHookTrigger


def make_factory(impl: str, vendor: VendorBench, interval: float):
    """A function doc_id -> a new trigger of ``impl``."""
    if impl == "ours":
        trigger_class = import_string(vendor.trigger_path)
        end_time = time.time() + 3600
        return lambda doc_id: trigger_class(**vendor.ids(doc_id), poll_interval=interval, end_time=end_time)
    if impl == "http":
        from airflow.providers.http.triggers.http import HttpSensorTrigger

        return lambda doc_id: HttpSensorTrigger(
            endpoint=f"_sim/ready/{vendor.name}/{doc_id}", http_conn_id=HTTP_CONN_ID, method="GET",
            poke_interval=interval,
        )
    if impl == "naive":
        naive = naive_trigger_class()
        return lambda doc_id: naive(vendor.hook_path, vendor.ids(doc_id), interval)
    raise ValueError(f"unknown implementation {impl!r}; known: {IMPLS}")


def is_success(impl: str, payload: Any) -> bool:
    if impl == "http":
        return payload is True
    return isinstance(payload, dict) and payload.get("status") == "success"


async def run_triggers(args: argparse.Namespace, doc_ids: list[str], factory) -> dict[str, Any]:
    """Start every trigger over the spread, iterate each to its end as the triggerer does, and measure."""
    greenback = None
    if not args.no_greenback:
        import greenback  # the triggerer gives every trigger a greenback portal

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    lags: list[float] = []
    samples: list[tuple[float, int]] = []
    outcomes: dict[str, int] = {}
    done_times: list[float] = []
    start = loop.time()

    async def ticker() -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(LAG_TICK)
            lags.append((time.perf_counter() - before - LAG_TICK) * 1000)

    async def sampler() -> None:
        while not stop.is_set():
            samples.append((loop.time() - start, rss_bytes()))
            await asyncio.sleep(RSS_SAMPLE)

    def count(outcome: str) -> None:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    async def run_one(trigger) -> None:
        if greenback is not None:
            await greenback.ensure_portal()
        try:
            outcome = "ended without an event"
            async for event in trigger.run():
                outcome = "success" if is_success(args.impl, event.payload) else f"event {event.payload!r:.80}"
                done_times.append(loop.time() - start)
            count(outcome)
        except asyncio.CancelledError:
            count("still running at the time limit")
            raise
        except Exception as exc:  # noqa: BLE001 - counted and reported
            count(f"{type(exc).__name__}: {exc}"[:120])
        finally:
            try:
                await trigger.cleanup()
            except Exception:  # noqa: BLE001 - the triggerer ignores cleanup errors too
                pass

    gc_pauses: list[float] = []
    gc_started: list[float] = []
    gc_when: list[float] = []

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            gc_started.append(time.perf_counter())
        elif gc_started:
            gc_pauses.append((time.perf_counter() - gc_started.pop()) * 1000)
            gc_when.append(round(loop.time() - start, 2))

    gc.callbacks.append(on_gc)
    rng = random.Random(args.seed)
    offsets = sorted(rng.uniform(0, args.spread) for _ in doc_ids)
    background = [asyncio.create_task(ticker()), asyncio.create_task(sampler())]
    tasks: list[asyncio.Task] = []
    cpu_start = cpu_seconds()
    for offset, doc_id in zip(offsets, doc_ids):
        delay = start + offset - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(run_one(factory(doc_id))))
    launched = loop.time() - start
    limit = args.spread + args.finish_after + 3 * args.interval + 20
    _, pending = await asyncio.wait(tasks, timeout=max(1.0, limit - (loop.time() - start)))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    finished = loop.time() - start
    cpu = cpu_seconds() - cpu_start
    stop.set()
    await asyncio.gather(*background)
    gc.callbacks.remove(on_gc)

    first_done = min(done_times) if done_times else finished
    waiting = [rss for t, rss in samples if launched + 1.0 <= t <= first_done]
    if not waiting:
        waiting = [rss for t, rss in samples if t >= launched][:1] or [samples[-1][1]]
    return {
        "cpu_seconds": cpu,
        "wall_seconds": finished,
        "launched_at": launched,
        "first_done_at": first_done,
        "rss_waiting_peak": max(waiting),
        "lag_ms": {"p50": percentile(lags, 50), "p99": percentile(lags, 99), "max": max(lags, default=0.0),
                   "ticks": len(lags)},
        "outcomes": outcomes,
        "full_gc": {"count": len(gc_pauses), "total_ms": sum(gc_pauses), "max_ms": max(gc_pauses, default=0.0),
                    "at": gc_when, "objects_tracked_at_end": len(gc.get_objects())},
    }


def worker(args: argparse.Namespace) -> int:
    import requests

    raise_open_file_limit()
    vendor = VENDORS[args.vendor]
    # Everything any implementation needs is imported before the baseline, so
    # the RSS growth counts only what the triggers themselves hold.
    import aiohttp  # noqa: F401
    import greenback  # noqa: F401
    from airflow.providers.http.triggers.http import HttpSensorTrigger  # noqa: F401

    import_string(vendor.trigger_path)
    import_string(vendor.hook_path)
    naive_trigger_class()
    factory = make_factory(args.impl, vendor, args.interval)

    sim = args.sim_url.rstrip("/")
    requests.post(f"{sim}/_sim/reset", timeout=30).raise_for_status()
    rng = random.Random(args.seed)
    offsets = sorted(rng.uniform(0, args.spread) for _ in range(args.n))  # the same draw as run_triggers
    created = time.monotonic()
    body = {"documents": [{"vendor": vendor.name, "script": vendor.script(offset + args.finish_after)}
                          for offset in offsets]}
    answer = requests.post(f"{sim}/_sim/documents/bulk", json=body, timeout=300)
    answer.raise_for_status()
    doc_ids = [d["id"] for d in answer.json()["documents"]]
    del body, answer
    gc.collect()
    if args.gc_freeze:
        gc.freeze()  # what-if: a triggerer that moved its start-up objects out of the collector's way
    baseline = rss_bytes()
    head_start = time.monotonic() - created  # how much of finish_after passed before the triggers began

    measured = asyncio.run(run_triggers(args, doc_ids, factory))

    counters = requests.get(f"{sim}/_sim/stats", timeout=30).json()[vendor.name]
    requests_made = counters["ready_calls" if args.impl == "http" else "status_calls"]
    result = {
        "impl": args.impl,
        "vendor": vendor.name,
        "n": args.n,
        "interval": args.interval,
        "finish_after": args.finish_after,
        "spread": args.spread,
        "greenback": not args.no_greenback,
        "gc_freeze": args.gc_freeze,
        "head_start_seconds": head_start,
        "baseline_rss": baseline,
        "requests": requests_made,
        "minimum_requests": args.n * (math.ceil(args.finish_after / args.interval) + 1),
        "auth_failures": counters["auth_failures"],
        **measured,
    }
    result["cpu_ms_per_poll"] = 1000 * result["cpu_seconds"] / max(requests_made, 1)
    result["rss_kb_per_trigger"] = (result["rss_waiting_peak"] - baseline) / 1024 / args.n
    result["errors"] = sum(v for k, v in result["outcomes"].items() if k != "success") + counters["auth_failures"]
    Path(args.result).write_text(json.dumps(result, indent=1))
    return 0


# -- the orchestrator --------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    from importlib.metadata import version

    def run(*command: str) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout
        except OSError:
            return ""

    lscpu = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in run("lscpu").splitlines())}
    mem = run("free", "-h").splitlines()
    versions = {}
    for dist in ("apache-airflow", "aiohttp", "apache-airflow-providers-http", "asgiref", "requests"):
        try:
            versions[dist] = version(dist)
        except Exception:  # noqa: BLE001
            versions[dist] = "not installed"
    return {
        "cpu": lscpu.get("Model name", platform.processor() or "unknown"),
        "cpus": os.cpu_count(),
        "memory": mem[1].split()[1] if len(mem) > 1 else "unknown",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
        "loadavg_at_start": os.getloadavg(),
    }


def worker_env(sim_url: str, home: Path) -> dict[str, str]:
    from airflow_docstatus.simulator.sandbox import SIMULATOR_CONNECTIONS, connection_env

    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(connection_env(sim_url))
    lead = next(iter(SIMULATOR_CONNECTIONS.values()))
    env[f"AIRFLOW_CONN_{HTTP_CONN_ID.upper()}"] = json.dumps(
        {"conn_type": "http", "host": sim_url.rstrip("/") + "/", "login": lead.get("login"),
         "password": lead.get("password")}
    )
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def run_worker(args: argparse.Namespace, impl: str, n: int, sim_url: str, tmp: Path) -> dict[str, Any]:
    result_file = tmp / f"{impl}-{n}.json"
    log_file = tmp / f"{impl}-{n}.log"
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--impl", impl, "--n", str(n),
               "--interval", str(args.interval), "--finish-after", str(args.finish_after),
               "--spread", str(args.spread), "--vendor", args.vendor, "--sim-url", sim_url,
               "--result", str(result_file), "--seed", str(args.seed)]
    if args.no_greenback:
        command.append("--no-greenback")
    if args.gc_freeze:
        command.append("--gc-freeze")
    limit = args.spread + args.finish_after + 3 * args.interval + 120
    with open(log_file, "w") as log:
        try:
            done = subprocess.run(command, env=worker_env(sim_url, tmp / "airflow-home"), stdout=log,
                                  stderr=subprocess.STDOUT, timeout=limit)
            code = done.returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    if code != 0 or not result_file.exists():
        tail = log_file.read_text()[-2000:]
        return {"impl": impl, "n": n, "failed": f"worker exit {code}: {tail}"}
    return json.loads(result_file.read_text())


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def fmt(value: float, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def results_table(results: list[dict[str, Any]]) -> str:
    """Markdown table: one row per N and implementation, ratios of ours against each peer."""
    lines = [
        "| N | implementation | CPU ms/poll | RSS KB/trigger | lag p50 ms | lag p99 ms | lag max ms "
        "| requests / minimum | errors | full GCs (longest) | ours vs it: CPU/poll | ours vs it: p99 lag "
        "| ours vs it: RSS |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by_key = {(r["impl"], r["n"]): r for r in results}
    for n in sorted({r["n"] for r in results}):
        ours = by_key.get(("ours", n))
        for impl in IMPLS:
            r = by_key.get((impl, n))
            if r is None:
                continue
            if "failed" in r:
                lines.append(f"| {n:,} | {IMPL_LABELS[impl]} | run failed: {r['failed'][:60]!r} ||||||||||||")
                continue
            if impl == "ours" or ours is None or "failed" in ours:
                vs = "| | | "
            else:
                vs = (f"| {fmt(ratio(ours['cpu_ms_per_poll'], r['cpu_ms_per_poll']))}× "
                      f"| {fmt(ratio(ours['lag_ms']['p99'], r['lag_ms']['p99']))}× "
                      f"| {fmt(ratio(ours['rss_kb_per_trigger'], r['rss_kb_per_trigger']))}× ")
            lines.append(
                f"| {n:,} | {IMPL_LABELS[impl]} | {fmt(r['cpu_ms_per_poll'], 3)} | {fmt(r['rss_kb_per_trigger'], 1)} "
                f"| {fmt(r['lag_ms']['p50'], 1)} | {fmt(r['lag_ms']['p99'], 1)} | {fmt(r['lag_ms']['max'], 1)} "
                f"| {r['requests']:,} / {r['minimum_requests']:,} ({fmt(ratio(r['requests'], r['minimum_requests']))}) "
                f"| {r['errors']} | {r['full_gc']['count']} ({r['full_gc']['max_ms']:.0f} ms) {vs}|"
            )
    return "\n".join(lines)


def target_verdicts(results: list[dict[str, Any]], imports: dict[str, Any] | None) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each of the issue's targets."""
    by_key = {(r["impl"], r["n"]): r for r in results if "failed" not in r}
    ours, http = by_key.get(("ours", TARGET_N)), by_key.get(("http", TARGET_N))
    verdicts: list[tuple[str, str, bool | None]] = []
    if ours is None:
        verdicts.append((f"N = {TARGET_N:,} was not run", "", None))
    else:
        verdicts.append(("zero errors", f"{ours['errors']}", ours["errors"] == 0))
        p99 = ours["lag_ms"]["p99"]
        verdicts.append((f"p99 loop lag ≤ {TARGET_P99_LAG_MS:.0f} ms", f"{p99:.1f} ms", p99 <= TARGET_P99_LAG_MS))
        if http is not None:
            r = ratio(ours["cpu_ms_per_poll"], http["cpu_ms_per_poll"])
            verdicts.append(("CPU per poll ≤ 1/3 of HttpSensorTrigger's",
                             f"{ours['cpu_ms_per_poll']:.3f} vs {http['cpu_ms_per_poll']:.3f} ms ({r:.2f}×)",
                             r <= TARGET_CPU_RATIO_VS_HTTP))
        rss = ours["rss_kb_per_trigger"]
        verdicts.append((f"RSS growth ≤ {TARGET_RSS_KB:.0f} KB per waiting trigger", f"{rss:.1f} KB",
                         rss <= TARGET_RSS_KB))
        per_doc = math.ceil(ours["finish_after"] / ours["interval"]) + 1
        verdicts.append((f"calls per document ≤ elapsed/interval + 1 (here {per_doc} each)",
                         f"{ours['requests']:,} calls for {ours['n']:,} documents",
                         ours["requests"] <= ours["minimum_requests"]))
    if imports:
        worst = max(imports["modules"].values(), key=lambda m: m["added_ms"])
        verdicts.append(("sensor import adds ≤ 30 ms on top of airflow.sdk",
                         f"{worst['added_ms']:.1f} ms (worst module)", worst["added_ms"] <= 30))
        heavy = sorted({m for mod in imports["modules"].values() for m in mod["heavy_modules"]})
        verdicts.append(("sensor import loads no requests/aiohttp/zeep", ", ".join(heavy) or "none", not heavy))
    return verdicts


def verdict_table(verdicts: list[tuple[str, str, bool | None]]) -> str:
    lines = ["| target | measured | met |", "|---|---|---|"]
    for target, measured, met in verdicts:
        lines.append(f"| {target} | {measured} | {'yes' if met else 'n/a' if met is None else '**no**'} |")
    return "\n".join(lines)


def plot(results: list[dict[str, Any]], path: Path) -> bool:
    """CPU per poll and p99 lag against N, one line per implementation; False without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed (it comes with the bench extra): no plot", file=sys.stderr)
        return False

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (cpu_ax, lag_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    for impl in IMPLS:
        rows = sorted((r for r in results if r["impl"] == impl and "failed" not in r), key=lambda r: r["n"])
        if not rows:
            continue
        ns = [r["n"] for r in rows]
        cpu_ax.plot(ns, [r["cpu_ms_per_poll"] for r in rows], marker="o", label=IMPL_LABELS[impl])
        lag_ax.plot(ns, [r["lag_ms"]["p99"] for r in rows], marker="o", label=IMPL_LABELS[impl])
    for ax, title, unit in ((cpu_ax, "CPU per poll", "ms"), (lag_ax, "event-loop lag, p99", "ms")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("concurrent triggers (N)")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    lag_ax.axhline(TARGET_P99_LAG_MS, color="grey", linestyle="--", linewidth=1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


RESULTS_START = "<!-- results:start (written by benchmarks/triggerer_scale.py) -->"
RESULTS_END = "<!-- results:end -->"


def write_markdown(
    path: Path, summary: dict[str, Any], table: str, verdicts: str, imports_md: str, what_if: str = ""
) -> None:
    """Replace the results section of docs/benchmarks.md (between the markers) with this run's."""
    m = summary["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    load = ", ".join(f"{x:.2f}" for x in m["loadavg_at_start"])
    cfg = summary["config"]
    section = "\n".join([
        RESULTS_START,
        f"Run on {summary['date']}: {m['cpu']}, {m['cpus']} CPUs, {m['memory']} memory, {m['os']}, "
        f"Python {m['python']}; {versions}. Load average at the start: {load}.",
        "",
        f"Vendor `{cfg['vendor']}`; interval {cfg['interval']:g} s; each document finishes "
        f"{cfg['finish_after']:g} s after its trigger starts; triggers start over {cfg['spread']:g} s; "
        f"greenback portal per trigger: {'yes' if cfg['greenback'] else 'no'}. "
        f"Whole run: {summary['seconds']:.0f} s.",
        "",
        table,
        "",
        "Ratios are ours divided by the peer on the same row (below 1 means ours is cheaper), measured in the same run.",
        "",
        f"Targets (N = {TARGET_N:,}, {cfg['interval']:g} s interval):",
        "",
        verdicts,
        "",
        *([f"What if the triggerer called `gc.freeze()` after start-up (it does not; Airflow's scheduler, "
           f"DAG processor and local executor do), N = {TARGET_N:,}, same run:", "", what_if, ""] if what_if else []),
        imports_md,
        "",
        "![CPU per poll and p99 loop lag against N](benchmarks.png)",
        RESULTS_END,
    ])
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{RESULTS_START}\n{RESULTS_END}\n"
    if RESULTS_START in text and RESULTS_END in text:
        head, rest = text.split(RESULTS_START, 1)
        _, tail = rest.split(RESULTS_END, 1)
        text = head + section + tail
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)


def report(r: dict[str, Any]) -> None:
    """One progress line per worker run."""
    if "failed" in r:
        print(f"  N={r['n']:>6} {r['impl']:<6} FAILED: {r['failed'][-300:]}", flush=True)
        return
    print(f"  N={r['n']:>6} {r['impl']:<6} cpu/poll={r['cpu_ms_per_poll']:.3f}ms "
          f"rss/trigger={r['rss_kb_per_trigger']:.1f}KB lag p50/p99/max="
          f"{r['lag_ms']['p50']:.1f}/{r['lag_ms']['p99']:.1f}/{r['lag_ms']['max']:.1f}ms "
          f"requests={r['requests']}/{r['minimum_requests']} errors={r['errors']} "
          f"full GCs={r['full_gc']['count']} ({r['full_gc']['total_ms']:.0f}ms, "
          f"longest {r['full_gc']['max_ms']:.0f}ms) wall={r['wall_seconds']:.1f}s", flush=True)


def orchestrate(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import import_cost

    from airflow_docstatus.simulator.sandbox import running_simulator

    started = time.monotonic()
    ns = [int(x) for x in args.n.split(",")]
    impls = [i for i in args.impls.split(",") if i]
    summary: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine_info(),
        "config": {"vendor": args.vendor, "interval": args.interval, "finish_after": args.finish_after,
                   "spread": args.spread, "greenback": not args.no_greenback, "gc_freeze": args.gc_freeze,
                   "n": ns, "impls": impls},
        "results": [],
    }
    print(f"triggerer scale: vendor={args.vendor} interval={args.interval}s finish_after={args.finish_after}s "
          f"spread={args.spread}s N={ns} impls={impls}", flush=True)
    with tempfile.TemporaryDirectory(prefix="docstatus-bench-") as tmp, running_simulator(quiet=True) as url:
        for n in ns:
            for impl in impls:
                r = run_worker(args, impl, n, url, Path(tmp))
                summary["results"].append(r)
                report(r)
    if args.gc_freeze_what_if and not args.gc_freeze and TARGET_N in ns:
        print(f"what if the triggerer froze its start-up heap (gc.freeze), N={TARGET_N:,}:", flush=True)
        frozen_args = argparse.Namespace(**{**vars(args), "gc_freeze": True})
        with tempfile.TemporaryDirectory(prefix="docstatus-bench-") as tmp, running_simulator(quiet=True) as url:
            for impl in impls:
                r = run_worker(frozen_args, impl, TARGET_N, url, Path(tmp))
                summary.setdefault("gc_freeze_what_if", []).append(r)
                report(r)
    imports = None
    if not args.skip_import_cost:
        imports = import_cost.measure(runs=args.import_runs)
        summary["import_cost"] = imports
    summary["machine"]["loadavg_at_end"] = os.getloadavg()
    summary["seconds"] = time.monotonic() - started

    table = results_table(summary["results"])
    verdicts = target_verdicts(summary["results"], imports)
    what_if = results_table(summary["gc_freeze_what_if"]) if summary.get("gc_freeze_what_if") else ""
    print()
    print(table)
    print()
    print(verdict_table(verdicts))
    if what_if:
        print(f"\nWhat if the triggerer called gc.freeze() after start-up (it does not), N={TARGET_N:,}:\n")
        print(what_if)
    imports_md = import_cost.markdown(imports) if imports else ""
    if imports_md:
        print()
        print(imports_md)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "benchmarks.json").write_text(json.dumps(summary, indent=1) + "\n")
        plot(summary["results"], out / "benchmarks.png")
        write_markdown(out / "benchmarks.md", summary, table, verdict_table(verdicts), imports_md, what_if)
        print(f"\nwrote {out / 'benchmarks.json'}, {out / 'benchmarks.png'} and the results in {out / 'benchmarks.md'}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendor", default="leadtools", choices=sorted(VENDORS))
    parser.add_argument("--n", default="100,1000,5000,10000", help="comma-separated trigger counts")
    parser.add_argument("--impls", default=",".join(IMPLS), help=f"comma-separated, of {IMPLS}")
    parser.add_argument("--interval", type=float, default=5.0, help="poll interval, seconds")
    parser.add_argument("--finish-after", type=float, default=12.5,
                        help="seconds after its trigger starts at which a document is done")
    parser.add_argument("--spread", type=float, default=5.0, help="the triggers start over this many seconds")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-greenback", action="store_true", help="do not give each trigger a greenback portal")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="what-if: gc.freeze() in the worker after start-up (the triggerer does not)")
    parser.add_argument("--out", default=str(DOCS), help="where to write benchmarks.json/.png/.md ('' for nowhere)")
    parser.add_argument("--no-gc-freeze-what-if", dest="gc_freeze_what_if", action="store_false",
                        help=f"skip the extra N={TARGET_N:,} runs with gc.freeze()")
    parser.add_argument("--skip-import-cost", action="store_true")
    parser.add_argument("--import-runs", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="N = 100,1000 only, fewer import runs")
    # worker mode (internal)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--impl", help=argparse.SUPPRESS)
    parser.add_argument("--sim-url", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.n = int(args.n)
    elif args.quick:
        args.n, args.import_runs = "100,1000", 3
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return worker(args) if args.worker else orchestrate(args)


if __name__ == "__main__":
    raise SystemExit(main())
