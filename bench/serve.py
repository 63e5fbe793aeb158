"""Request latency of `rag serve`: p50 and p95 of warm requests to /v1/ask and /v1/chat/completions.

    python bench/serve.py                       # index corpus/ into WORKDIR (incremental), serve it, time it
    python bench/serve.py --home ~/.rag --n 50  # an existing RAG_HOME; 50 requests per route

It starts `rag serve` as a subprocess on a free loopback port, sends two warm-up requests per route,
then N requests one after another per route, and prints a table in milliseconds: wall time as the
client sees it (HTTP and JSON included) beside the server's own `timings_ms.total`, and the server's
resident memory after the run.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
QUESTION = "Is Article 26 of the CoE Convention binding?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    at = share * (len(ordered) - 1)
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def timed(client: Any, path: str, body: dict[str, Any]) -> tuple[float, float]:
    t0 = time.perf_counter()
    response = client.post(path, json=body)
    wall = (time.perf_counter() - t0) * 1000
    response.raise_for_status()
    data = response.json()
    server = (data.get("rag") or data)["timings_ms"]["total"]
    return wall, float(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="an indexed RAG_HOME (default: index corpus/ into --workdir)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "rag-bench-serve")
    parser.add_argument("--n", type=int, default=20, help="timed requests per route")
    args = parser.parse_args()

    import httpx

    env = {**os.environ, "PYTHONPATH": str(REPO), "RAG_CORPUS": str(REPO / "corpus")}
    env.pop("RAG_SERVE_TOKEN", None)
    rag = str(Path(sys.executable).with_name("rag"))
    if args.home is None:
        env["RAG_HOME"] = str(args.workdir)
        subprocess.run([rag, "ingest"], env=env, check=True, stdout=subprocess.DEVNULL)
    else:
        env["RAG_HOME"] = str(args.home)
    port = free_port()
    proc = subprocess.Popen([rag, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    routes = {
        "/v1/ask": {"question": QUESTION},
        "/v1/chat/completions": {"model": "rag-nonpunishment", "messages": [{"role": "user", "content": QUESTION}]},
    }
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            started = time.perf_counter()
            while True:
                if proc.poll() is not None:
                    raise SystemExit("rag serve exited; run it by hand to see why")
                try:
                    client.get("/v1/models")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            ready = time.perf_counter() - started
            rows = []
            for path, body in routes.items():
                for _ in range(2):
                    timed(client, path, body)
                samples = [timed(client, path, body) for _ in range(args.n)]
                wall = [w for w, _ in samples]
                server = [s for _, s in samples]
                rows.append((path, percentile(wall, 0.5), percentile(wall, 0.95), statistics.median(server)))
            memory = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"rag serve: ready {ready:.1f} s after start; {args.n} warm requests per route, one at a time; {QUESTION!r}")
    print(f"{'route':<22} {'p50 ms':>8} {'p95 ms':>8} {'server p50 ms':>14}")
    for path, p50, p95, server_p50 in rows:
        print(f"{path:<22} {p50:>8.1f} {p95:>8.1f} {server_p50:>14.1f}")
    print(f"server resident memory after the run: {memory:.0f} MB")


if __name__ == "__main__":
    main()
