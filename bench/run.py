"""Measure reply latency, throughput, training time, memory and the red-flag detector's
cost; write bench/report.md.

Starts the real action server and Rasa server, sends handout questions over REST from
1 and then 10 concurrent conversations, and reads both servers' resident memory from
/proc. Training time is measured by a fresh `rasa train --force` into a temporary folder.
The detector is timed in-process on every message of the red-flag evaluation sets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List

import requests

from devtools.servers import BIN, PROJECT, Servers

QUESTIONS = [
    "can i take a shower tonight",
    "when will i feel better",
    "what can i eat",
    "how long does the relief last",
    "do i need someone to drive me home",
    "is it normal to be sore",
    "what is a facet joint",
    "when should i call the doctor",
]
OUT = PROJECT / "bench"


def percentile(values: List[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def conversation(servers: Servers, name: str, messages: int) -> List[float]:
    session = requests.Session()
    latencies = []
    for i in range(messages):
        started = time.perf_counter()
        response = session.post(
            servers.rest_url,
            json={"sender": name, "message": QUESTIONS[i % len(QUESTIONS)]},
            timeout=60,
        )
        response.raise_for_status()
        if not response.json():
            raise RuntimeError("empty reply")
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def load(servers: Servers, concurrency: int, messages: int) -> Dict[str, float]:
    conversation(servers, f"warmup-{concurrency}-{time.time_ns()}", 4)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        runs = list(
            pool.map(
                lambda i: conversation(servers, f"bench-{concurrency}-{i}-{time.time_ns()}", messages),
                range(concurrency),
            )
        )
    elapsed = time.perf_counter() - started
    latencies = [ms for run in runs for ms in run]
    return {
        "concurrency": concurrency,
        "messages": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 95),
        "throughput_per_s": len(latencies) / elapsed,
    }


def detector_cost(repeats: int = 3) -> Dict[str, float]:
    """Milliseconds per message for the red-flag detector, over the evaluation sets."""
    import yaml

    from components.red_flags.detector import RedFlagDetector

    started = time.perf_counter()
    detector = RedFlagDetector()
    load_ms = (time.perf_counter() - started) * 1000
    texts = []
    for path in (PROJECT / "tests").glob("**/red_flag*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts += [item["text"] for key in ("red_flags", "calm") for item in data[key]]
    detector.detect("warm-up")
    timings = []
    for _ in range(repeats):
        for text in texts:
            started = time.perf_counter()
            detector.detect(text)
            timings.append((time.perf_counter() - started) * 1000)
    return {
        "messages": len(texts),
        "load_ms": load_ms,
        "p50_ms": statistics.median(timings),
        "p95_ms": percentile(timings, 95),
        "p99_ms": percentile(timings, 99),
        "max_ms": max(timings),
    }


def train_seconds() -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [str(BIN / "rasa"), "train", "--force", "--out", out],
            cwd=PROJECT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=40, help="messages per conversation")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false"}
    results: Dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    with tempfile.TemporaryDirectory() as work:
        servers = Servers(Path(work), env)
        try:
            servers.start_actions()
            servers.start_rasa()
            results["idle_rss_mib"] = {n: rss_mib(p.pid) for n, p in servers.processes.items()}
            results["load"] = [load(servers, 1, args.messages), load(servers, 10, args.messages // 2)]
            results["rss_mib"] = {n: rss_mib(p.pid) for n, p in servers.processes.items()}
        finally:
            servers.stop_all()
    results["red_flag_detector"] = detector_cost()
    if not args.skip_training:
        results["train_seconds"] = train_seconds()

    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    lines = [
        "# Benchmark", "",
        f"Machine: {results['machine']}; run {results['date']} with `make bench`.", "",
        "| concurrent conversations | messages | p50 ms | p95 ms | messages/s |",
        "|---|---|---|---|---|",
    ]
    for row in results["load"]:  # type: ignore[union-attr]
        lines.append(
            f"| {row['concurrency']} | {row['messages']} | {row['p50_ms']:.1f} | "
            f"{row['p95_ms']:.1f} | {row['throughput_per_s']:.1f} |"
        )
    lines += ["", "| server | RSS idle MiB | RSS after load MiB |", "|---|---|---|"]
    for name in ("rasa", "actions"):
        lines.append(
            f"| {name} | {results['idle_rss_mib'][name]:.0f} | {results['rss_mib'][name]:.0f} |"  # type: ignore[index]
        )
    cost = results["red_flag_detector"]
    lines += [
        "",
        f"Red-flag detector, in-process, {cost['messages']} messages x 3 (target p95 < 5 ms): "  # type: ignore[index]
        f"p50 {cost['p50_ms']:.2f} ms, p95 {cost['p95_ms']:.2f} ms, p99 {cost['p99_ms']:.2f} ms, "  # type: ignore[index]
        f"max {cost['max_ms']:.2f} ms; built in {cost['load_ms']:.0f} ms.",  # type: ignore[index]
    ]
    if "train_seconds" in results:
        lines += ["", f"Training (`rasa train --force`): {results['train_seconds']:.0f} s"]
    (OUT / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
