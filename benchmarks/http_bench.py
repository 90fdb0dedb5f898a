"""The request path under load (`make bench`, `make bench-peer`): wrk against `sp-services serve`
in its own process, one worker, rate limits off, on the demo data.

For each operation: requests/s, p50 and p99 at 1 and 16 connections, next to the same server's
floor (`/healthz`: no token, no database) measured in the same run, and the ratios the targets
are stated in (docs/architecture.md, README "Performance"). With ``--peer``, Stoplight Prism
mocking the same model (`spec/services.json`, stateless canned answers) is loaded the same way
and our/Prism ratios are printed. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PRISM_DIR = ROOT / ".cache" / "prism"
PRISM_VERSION = "5.16.0"
US = "ATVPDKIKX0DER"


@dataclass(frozen=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}) before answering {url}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer from {url}")


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, connections: int, seconds: int, headers: dict[str, str]) -> Load:
    """One wrk run: requests/s, p50 and p99 (ms). Non-2xx answers count as errors and abort."""
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError(f"wrk saw error answers for {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    return Load(rps, p50, p99)


def serve_demo(
    database_url: str | None, data: Path
) -> tuple[subprocess.Popen[bytes], str, dict[str, str], dict[str, str]]:
    """The demo loaded into a fresh database and served; returns (process, base URL, auth header, paths)."""
    env = {**os.environ, "SP_SERVICES_DATA_DIR": str(data), "SP_SERVICES_RATE_LIMIT": "off"}
    if database_url:
        sys.path.insert(0, str(ROOT))
        from tests.support import postgres_database

        # A database of its own, made afresh: the figures are of the demo and nothing else.
        env["SP_SERVICES_DATABASE_URL"] = postgres_database(database_url, f"sp_services_bench_{os.getpid()}")
    cli = str(BIN / "sp-services")
    subprocess.run([cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    demo = json.loads(subprocess.run([cli, "demo", "--json"], env=env, check=True, capture_output=True).stdout)
    port = free_port()
    process = subprocess.Popen(
        [cli, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    wait_up(f"{base}/healthz", process)
    token = httpx.post(
        f"{base}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": demo["refresh_token"],
            "client_id": demo["client_id"],
            "client_secret": demo["client_secret"],
        },
    ).json()["access_token"]
    job = demo["job_ids"]["NOT_SERVICED"][0]
    paths = {
        "job": f"/service/v1/serviceJobs/{job}",
        "list": f"/service/v1/serviceJobs?marketplaceIds={US}&createdAfter=2000-01-01T00:00:00Z&pageSize=20",
        "slots": f"/service/v1/appointmentSlots?marketplaceIds={US}&asin={demo['asin']}&storeId={demo['store_id']}",
    }
    return process, base, {"x-amz-access-token": token}, paths


OPERATIONS = (
    ("floor", "GET /healthz"),
    ("job", "getServiceJobByServiceJobId"),
    ("list", "getServiceJobs (page of 20)"),
    ("slots", "getAppointmentSlots (default window)"),
)
# Targets (issue #12), as shares of the floor's throughput at 16 connections.
FLOOR_SHARE = {"job": 0.50, "list": 0.25, "slots": 0.25}


def measure(
    targets: dict[str, tuple[str, dict[str, str], dict[str, str]]], seconds: int, rounds: int
) -> dict[str, dict[tuple[str, int], Load]]:
    """Every (target, operation, connections) in ``rounds`` interleaved rounds, each round walking
    all of them in turn: a slow minute on a shared machine then weighs on every figure alike, and
    the ratios stay fair. The median run of each. ``targets``: name -> (base, headers, paths)."""
    runs: dict[str, dict[tuple[str, int], list[Load]]] = {name: {} for name in targets}
    for base, headers, paths in targets.values():
        for path in paths.values():
            wrk(base + path, 4, 1, headers)  # warm up
    for _ in range(rounds):
        for key, _label in OPERATIONS:
            for connections in (1, 16):
                for name, (base, headers, paths) in targets.items():
                    if key in paths:
                        load = wrk(base + paths[key], connections, seconds, headers)
                        runs[name].setdefault((key, connections), []).append(load)
    return {
        name: {k: sorted(v, key=lambda r: r.rps)[len(v) // 2] for k, v in found.items()} for name, found in runs.items()
    }


def report(title: str, results: dict[tuple[str, int], Load]) -> None:
    print(f"\n{title}")
    head = f"{'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99/p50':>8} {'vs floor':>9} {'16/1':>6}"
    print(f"  {'operation':40} {'c':>3} {head}")
    floor = results[("floor", 16)].rps
    for key, name in OPERATIONS:
        for c in (1, 16):
            r = results[(key, c)]
            share = f"{r.rps / results[('floor', c)].rps:8.0%}"
            flat = f"{results[(key, 16)].rps / results[(key, 1)].rps:5.0%}" if c == 16 else ""
            figures = f"{r.rps:9.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {r.p99_ms / r.p50_ms:8.1f} {share:>9} {flat:>6}"
            print(f"  {name:40} {c:>3} {figures}")
    print("  targets (16 connections):")
    for key, share in FLOOR_SHARE.items():
        r16, r1 = results[(key, 16)], results[(key, 1)]
        checks = [
            (f"{r16.rps / floor:.0%} of floor >= {share:.0%}", r16.rps >= share * floor),
            (f"16 conn {r16.rps / r1.rps:.0%} of 1 conn >= 90%", r16.rps >= 0.9 * r1.rps),
            (f"p99 {r16.p99_ms / r16.p50_ms:.1f}x p50 <= 4x", r16.p99_ms <= 4 * r16.p50_ms),
        ]
        verdicts = "; ".join(f"{text} {'met' if ok else 'MISSED'}" for text, ok in checks)
        print(f"    {dict(OPERATIONS)[key]:40} {verdicts}")


def ensure_prism() -> Path:
    """Prism from the npm registry, installed once into .cache/prism."""
    binary = PRISM_DIR / "node_modules" / ".bin" / "prism"
    if not binary.exists():
        PRISM_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(PRISM_DIR),
                f"@stoplight/prism-cli@{PRISM_VERSION}",
            ],
            check=True,
        )
    return binary


def start_prism() -> tuple[subprocess.Popen[bytes], str]:
    """Prism mocking spec/services.json on a free port; (process, base URL)."""
    port = free_port()
    process = subprocess.Popen(
        [str(ensure_prism()), "mock", "-h", "127.0.0.1", "-p", str(port), str(ROOT / "spec" / "services.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, f"http://127.0.0.1:{port}"


def report_peer(ours: dict[tuple[str, int], Load], theirs: dict[tuple[str, int], Load]) -> None:
    print(
        f"\nPeer: Stoplight Prism {PRISM_VERSION} mocking spec/services.json (stateless, canned answers),"
        " same machine, same run, interleaved"
    )
    print(f"  {'operation':40} {'c':>3} {'Prism req/s':>12} {'ours req/s':>11} {'ours/Prism':>11}   target")
    for key, target in (("job", 1.5), ("list", 1.0)):
        for c in (1, 16):
            mine, prism = ours[(key, c)].rps, theirs[(key, c)].rps
            verdict = f">= {target:.1f}x {'met' if mine >= target * prism else 'MISSED'}" if c == 16 else ""
            print(f"  {dict(OPERATIONS)[key]:40} {c:>3} {prism:12.0f} {mine:11.0f} {mine / prism:10.1f}x   {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median run is reported")
    parser.add_argument("--database-url", help="PostgreSQL instead of the embedded SQLite")
    parser.add_argument("--peer", action="store_true", help="also load Prism mocking the same model, interleaved")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (make bench installs it: apt-get install -y wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        process, base, headers, paths = serve_demo(args.database_url, Path(tmp))
        targets = {"ours": (base, headers, {"floor": "/healthz", **paths})}
        prism = None
        try:
            if args.peer:
                prism, prism_base = start_prism()
                peer_paths = {key: paths[key] for key in ("job", "list")}
                wait_up(prism_base + peer_paths["job"], prism)
                targets["prism"] = (prism_base, {}, peer_paths)
            results = measure(targets, args.seconds, args.rounds)
        finally:
            for running in (process, prism):
                if running is not None:
                    running.terminate()
                    running.wait(timeout=20)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    runs = f"median of {args.rounds} interleaved {args.seconds} s runs"
    title = f"HTTP, one worker, {backend}, demo data, wrk -t1, {runs}"
    report(title, results["ours"])
    if args.peer:
        report_peer(results["ours"], results["prism"])


if __name__ == "__main__":
    main()
