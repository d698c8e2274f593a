"""Measure reply latency, throughput, training time, memory, the sentence encoder's and the
red-flag detector's cost, against the stock `rasa init` bot; write bench/report.md.

Starts the real action server and Rasa server, sends handout questions over REST from
1 and then 10 concurrent conversations, and reads both servers' resident memory from
/proc. Training time is measured by a fresh `rasa train --force` into a temporary folder.
The detector and the encoder are timed in-process on every message of the red-flag
evaluation sets. The stock bot of `rasa init`, from the same .venv, is trained and served
in the same run on the same PostgreSQL and Redis, so the ratios compare like with like.
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
from typing import Dict, List, Tuple

import requests

from devtools.postgres import PostgresServer
from devtools.redis_server import RedisServer
from devtools.servers import BIN, PROJECT, Servers, free_port, wait_until_up

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
# What the stock `rasa init` bot understands.
STOCK_MESSAGES = ["hello", "I am feeling sad", "yes", "no", "great, thanks", "are you a bot?", "bye",
                  "hi there"]
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


def conversation(
    url: str, name: str, messages: int, questions: List[str] = QUESTIONS
) -> Tuple[List[float], int]:
    """One conversation's messages, one after the other; latencies in ms and the errors."""
    session = requests.Session()
    latencies, errors = [], 0
    for i in range(messages):
        started = time.perf_counter()
        try:
            response = session.post(
                url,
                json={"sender": name, "message": questions[i % len(questions)]},
                timeout=120,
            )
            ok = response.status_code == 200 and bool(response.json())
        except (requests.RequestException, ValueError):
            ok = False
        if ok:
            latencies.append((time.perf_counter() - started) * 1000)
        else:
            errors += 1
    return latencies, errors


def load(
    urls: List[str], concurrency: int, messages: int, questions: List[str] = QUESTIONS
) -> Dict[str, float]:
    """`concurrency` conversations at once, spread over the replicas' URLs."""
    for url in urls:
        conversation(url, f"warmup-{concurrency}-{time.time_ns()}", 4, questions)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        runs = list(
            pool.map(
                # a conversation stays on one replica, as behind a sticky load balancer
                lambda i: conversation(
                    urls[i % len(urls)], f"bench-{concurrency}-{i}-{time.time_ns()}", messages, questions
                ),
                range(concurrency),
            )
        )
    elapsed = time.perf_counter() - started
    latencies = [ms for run, _ in runs for ms in run]
    errors = sum(e for _, e in runs)
    return {
        "replicas": len(urls),
        "concurrency": concurrency,
        "messages": len(latencies) + errors,
        "errors": errors,
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p95_ms": percentile(latencies, 95) if latencies else float("nan"),
        "p99_ms": percentile(latencies, 99) if latencies else float("nan"),
        "throughput_per_s": len(latencies) / elapsed,
    }


def machine() -> str:
    """CPU model, cores and memory: the figures mean little without them."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = 0.0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) / 1024 / 1024
    return (
        f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def plot(rows: List[Dict[str, float]], path: Path) -> None:
    """Throughput and p95 latency against concurrent conversations, one line per setup."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for replicas in sorted({int(r["replicas"]) for r in rows}):
        mine = [r for r in rows if r["replicas"] == replicas]
        x = [r["concurrency"] for r in mine]
        label = f"{replicas} replica{'s' if replicas > 1 else ''}"
        left.plot(x, [r["throughput_per_s"] for r in mine], marker="o", label=label)
        right.plot(x, [r["p95_ms"] for r in mine], marker="o", label=label)
    left.set(xlabel="concurrent conversations", ylabel="messages per second", title="Throughput")
    right.set(xlabel="concurrent conversations", ylabel="ms", title="p95 latency")
    for axis in (left, right):
        axis.set_xscale("log")
        axis.grid(True, alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def detector_cost(repeats: int = 3) -> Dict[str, float]:
    """Milliseconds per message for the red-flag detector, over the evaluation sets."""
    import yaml

    from components.red_flags.detector import RedFlagDetector

    started = time.perf_counter()
    detector = RedFlagDetector()
    load_ms = (time.perf_counter() - started) * 1000
    texts = []
    tests = PROJECT / "tests"
    sets = [*tests.glob("red_flags*.yml"), tests / "components" / "red_flag_cases.yml"]
    for path in sets:
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


def encoder_cost() -> Dict[str, float]:
    """Milliseconds per message for the sentence encoder, uncached, over the evaluation sets."""
    import yaml

    from components.encoder.minilm import SentenceEncoder

    started = time.perf_counter()
    encoder = SentenceEncoder()
    load_ms = (time.perf_counter() - started) * 1000
    tests = PROJECT / "tests"
    texts = []
    for path in [*tests.glob("red_flags*.yml"), tests / "components" / "red_flag_cases.yml"]:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts += [item["text"] for key in ("red_flags", "calm") for item in data[key]]
    encoder.encode(["warm-up"])
    timings = []
    for text in texts:
        started = time.perf_counter()
        encoder._forward(encoder._ids([text]))
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "messages": len(texts), "runtime": encoder.runtime, "load_ms": load_ms,
        "p50_ms": statistics.median(timings), "p95_ms": percentile(timings, 95), "max_ms": max(timings),
    }


def stock_bot(work: Path, env: Dict[str, str], postgres: PostgresServer, redis_url: str) -> Dict[str, object]:
    """The stock `rasa init` bot from this .venv, on the same stores: its load rows and RSS."""
    from sqlalchemy.engine import make_url

    directory = work / "stock"
    directory.mkdir()
    subprocess.run(
        [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(directory)],
        cwd=work, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    postgres.create_database("stock")
    db = make_url(postgres.url).set(database="stock")
    redis = make_url(redis_url)
    (directory / "endpoints.yml").write_text(
        json.dumps({
            "tracker_store": {"type": "SQL", "dialect": "postgresql", "url": db.host, "port": db.port,
                              "db": "stock", "username": db.username, "password": db.password or ""},
            "lock_store": {"type": "redis", "url": redis.host, "port": redis.port},
        })
    )
    model = next((directory / "models").glob("*.tar.gz"))
    port = free_port()
    log = (work / "stock.log").open("wb")
    process = subprocess.Popen(
        [str(BIN / "rasa"), "run", "--model", str(model), "--port", str(port), "--endpoints",
         str(directory / "endpoints.yml")],
        cwd=directory, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", process, work / "stock.log")
        url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        rows = [load([url], c, 40 if c == 1 else 12, STOCK_MESSAGES) for c in (1, 10)]
        return {"rows": rows, "rss_mib": rss_mib(process.pid)}
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def train_seconds() -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [str(BIN / "rasa"), "train", "--force", "--out", out],
            cwd=PROJECT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - started


CONCURRENCY = (1, 10, 50)


def cluster_load(work: Path, env: Dict[str, str], replicas: int, messages: int) -> Dict[str, object]:
    """Starts one action server and `replicas` Rasa servers on the shared stores, loads them."""
    servers = Servers(work / f"replicas-{replicas}", env)
    servers.workdir.mkdir()
    try:
        servers.start_actions()
        names = [f"rasa-{i + 1}" for i in range(replicas)]
        for name in names:
            servers.start_rasa(name)
        urls = [servers.rest_url_of(name) for name in names]
        idle = {n: rss_mib(p.pid) for n, p in servers.processes.items()}
        rows = [load(urls, c, messages if c == 1 else max(6, 3 * messages // c)) for c in CONCURRENCY]
        loaded = {n: rss_mib(p.pid) for n, p in servers.processes.items()}
        return {"rows": rows, "idle_rss_mib": idle, "rss_mib": loaded}
    finally:
        servers.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=40, help="messages per conversation at concurrency 1")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()

    results: Dict[str, object] = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M")}
    with tempfile.TemporaryDirectory() as work:
        postgres = PostgresServer("rasa").start()
        redis_server = RedisServer().start()
        try:
            postgres.create_database()
            env = {
                **os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false",
                "TRACKER_STORE_URL": postgres.url, "REDIS_URL": redis_server.url,
                "ESCALATION_DB_URL": postgres.url,
            }
            clusters = {n: cluster_load(Path(work), env, n, args.messages) for n in (1, 2)}
            results["stock"] = stock_bot(Path(work), env, postgres, redis_server.url)
        finally:
            redis_server.remove()
            postgres.remove()
    rows = [row for n in (1, 2) for row in clusters[n]["rows"]]  # type: ignore[index]
    results["load"] = rows
    results["memory"] = {n: {"idle": c["idle_rss_mib"], "loaded": c["rss_mib"]} for n, c in clusters.items()}
    results["red_flag_detector"] = detector_cost()
    results["encoder"] = encoder_cost()
    if not args.skip_training:
        results["train_seconds"] = train_seconds()
    plot(rows, OUT / "load.png")

    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    one = {r["concurrency"]: r["throughput_per_s"] for r in rows if r["replicas"] == 1}
    two = {r["concurrency"]: r["throughput_per_s"] for r in rows if r["replicas"] == 2}
    lines = [
        "# Benchmark", "",
        f"Machine: {results['machine']}.", "",
        f"Run {results['date']} with `make bench`: one action server and one or two Rasa replicas, "
        "sharing a PostgreSQL tracker store and a Redis lock store (as in docker-compose.yml), all on "
        "this machine together with the load generator. Each conversation stays on one replica.", "",
        "| replicas | concurrent conversations | messages | errors | p50 ms | p95 ms | p99 ms | messages/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['replicas']} | {row['concurrency']} | {row['messages']} | {row['errors']} | "
            f"{row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['p99_ms']:.1f} | "
            f"{row['throughput_per_s']:.1f} |"
        )
    lines += ["", "Throughput of two replicas over one (target at least 1.6): " + ", ".join(
        f"{c} conversations {two[c] / one[c]:.2f}x" for c in CONCURRENCY if one.get(c)
    ) + ".", "", "![throughput and p95 latency](load.png)", ""]
    lines += ["| setup | process | RSS idle MiB | RSS after load MiB |", "|---|---|---|---|"]
    for n, memory in results["memory"].items():  # type: ignore[union-attr]
        for name, idle in memory["idle"].items():
            lines.append(f"| {n} replica(s) | {name} | {idle:.0f} | {memory['loaded'][name]:.0f} |")
    cost = results["red_flag_detector"]
    lines += [
        "",
        f"Red-flag detector, in-process, {cost['messages']} messages x 3 (target p95 < 5 ms): "  # type: ignore[index]
        f"p50 {cost['p50_ms']:.2f} ms, p95 {cost['p95_ms']:.2f} ms, p99 {cost['p99_ms']:.2f} ms, "  # type: ignore[index]
        f"max {cost['max_ms']:.2f} ms; built in {cost['load_ms']:.0f} ms.",  # type: ignore[index]
    ]
    stock = results["stock"]
    stock_rows = {r["concurrency"]: r for r in stock["rows"]}  # type: ignore[index]
    ours = {r["concurrency"]: r for r in rows if r["replicas"] == 1}
    p50_ratio = ours[1]["p50_ms"] / stock_rows[1]["p50_ms"]
    throughput_ratio = ours[10]["throughput_per_s"] / stock_rows[10]["throughput_per_s"]
    results["versus_stock"] = {"p50_at_1": p50_ratio, "throughput_at_10": throughput_ratio}
    encoder = results["encoder"]
    lines += [
        "",
        "## Against the stock `rasa init` bot (same .venv, same PostgreSQL and Redis, one replica)",
        "",
        "| bot | p50 ms at 1 | p95 ms at 1 | msg/s at 10 | p95 ms at 10 | RSS MiB after load |",
        "|---|---|---|---|---|---|",
        f"| this assistant | {ours[1]['p50_ms']:.1f} | {ours[1]['p95_ms']:.1f} | "
        f"{ours[10]['throughput_per_s']:.1f} | {ours[10]['p95_ms']:.1f} | "
        f"{results['memory'][1]['loaded'].get('rasa-1', float('nan')):.0f} |",  # type: ignore[index]
        f"| stock rasa init | {stock_rows[1]['p50_ms']:.1f} | {stock_rows[1]['p95_ms']:.1f} | "
        f"{stock_rows[10]['throughput_per_s']:.1f} | {stock_rows[10]['p95_ms']:.1f} | "
        f"{stock['rss_mib']:.0f} |",  # type: ignore[index]
        "",
        f"p50 at one conversation: {p50_ratio:.2f}x the stock bot (target at most 1.3x); throughput at 10 "
        f"concurrent conversations: {throughput_ratio:.2f}x (target at least 0.7x).",
        "",
        f"Sentence encoder ({encoder['runtime']}), uncached, one message at a time, "  # type: ignore[index]
        f"{encoder['messages']} messages: p50 {encoder['p50_ms']:.1f} ms, "  # type: ignore[index]
        f"p95 {encoder['p95_ms']:.1f} ms, max {encoder['max_ms']:.1f} ms; "  # type: ignore[index]
        f"loaded in {encoder['load_ms']:.0f} ms.",  # type: ignore[index]
    ]
    if "train_seconds" in results:
        lines += ["", f"Training (`rasa train --force`): {results['train_seconds']:.0f} s"]
    (OUT / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
