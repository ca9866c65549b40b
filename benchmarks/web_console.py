"""Operator console benchmark: (1) a 100,000-row CSV upload through the HTTP API (time, and the
server's peak memory against the file's size), (2) the wallboard in headless Chromium while
16 calls are in progress on the persona trunk (event-to-screen lag: from the moment the server
saw a call start or end to the moment the page showed it).

    python benchmarks/web_console.py        # both: benchmarks/results/web_console.{json,md}
    python benchmarks/web_console.py --rows 20000 --calls 4 --seconds 30    # a quick look

The server runs as its own process (`voicebot serve`) on 127.0.0.1; its peak RSS is VmHWM."""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.web.browser import chromium  # noqa: E402
from voicebot.metrics.stats import summarize  # noqa: E402
from voicebot.sim.baresip import free_port  # noqa: E402

PERSONAS = [
    "cooperative",
    "refuses",
    "wrong_person",
    "asks_for_person",
    "talks_over",
    "noisy_line",
    "silent",
    "answering_machine",
]
AREAS = [201, 212, 305, 312, 415, 503, 617, 702, 713, 818, 917, 206]


def cli(db: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "voicebot.cli", *args[:1], "--db", db, *args[1:]],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    return done.stdout.strip()


class Server:
    """`voicebot serve` in a subprocess, with an operator token."""

    def __init__(self, work: Path) -> None:
        self.db = f"sqlite:///{work / 'console.db'}"
        cli(self.db, "users", "add", "bench", "--role", "operator", "--no-password")
        self.token = cli(self.db, "tokens", "create", "bench").splitlines()[-1]
        self.port = free_port(socket.SOCK_STREAM)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voicebot.cli",
                "serve",
                "--db",
                self.db,
                "--port",
                str(self.port),
                "--out",
                str(work / "out"),
                "--scripts",
                str(ROOT / "prompts"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(
            base_url=self.url, timeout=600, headers={"Authorization": f"Bearer {self.token}"}
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                self.http.get("/api/me").raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def rss_mb(self, field: str = "VmHWM") -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        return 0.0

    def campaign(self, name: str, concurrency: int) -> None:
        window = {
            "start": "00:00",
            "end": "23:59:59",
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        }
        self.http.post(
            "/api/campaigns",
            json={
                "name": name,
                "script": "survey_en.yaml",
                "config": {
                    "window": window,
                    "max_attempts": 1,
                    "concurrency": concurrency,
                    "cps": 20,
                },
            },
        ).raise_for_status()

    def close(self) -> None:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def upload(server: Server, work: Path, rows: int) -> dict[str, Any]:
    path = work / "big.csv"
    rng = random.Random(0)
    bad = 0
    with path.open("w") as f:
        f.write("phone,name,segment,notes\n")
        for i in range(rows):
            if i % 100 == 7:
                f.write(f"not-a-number-{i},Bad Row,x,\n")
                bad += 1
                continue
            area, line = AREAS[i // 10000 % len(AREAS)], i % 10000
            f.write(
                f"+1 {area} 555 {line:04d},Person {i},seg{rng.randint(1, 5)},"
                f"{'note ' * rng.randint(1, 8)}\n"
            )
    server.campaign("big", 4)
    before = server.rss_mb("VmRSS")
    started = time.perf_counter()
    with path.open("rb") as f:
        r = server.http.post("/api/campaigns/big/contacts", files={"file": ("big.csv", f)})
    seconds = time.perf_counter() - started
    r.raise_for_status()
    body = r.json()
    return {
        "rows": rows,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "seconds": round(seconds, 1),
        "rows_per_s": round(rows / seconds),
        "imported": body["imported"],
        "rejected": body["rejected_count"],
        "bad_rows": bad,
        "server_rss_before_mb": round(before, 1),
        "server_peak_rss_mb": round(server.rss_mb(), 1),
    }


def wallboard(server: Server, trunk: str, calls: int, seconds: float) -> dict[str, Any]:
    server.campaign("live", calls)
    contacts = "phone,name,persona\n" + "".join(
        f"+1 646 555 {1000 + i:04d},Caller {i},{PERSONAS[i % len(PERSONAS)]}\n"
        for i in range(calls * 3)
    )
    server.http.post(
        "/api/campaigns/live/contacts", files={"file": ("live.csv", contacts.encode())}
    ).raise_for_status()
    driver = chromium()
    try:
        driver.get(f"{server.url}/login")  # the page needs a session: log in with a token user
        driver.add_cookie({"name": "vb_session", "value": _session(server)})
        driver.get(f"{server.url}/campaigns/live")
        server.http.post("/api/campaigns/live/start", json={"trunk": trunk}).raise_for_status()
        peak, samples, started = 0, [], time.monotonic()
        while time.monotonic() - started < seconds:
            status = server.http.get("/api/campaigns/live").json()
            shown = int(driver.find_element("css selector", '[data-k="in_progress"]').text)
            peak = max(peak, shown)
            samples.append(
                {
                    "t": round(time.monotonic() - started, 1),
                    "in_progress": status["in_progress"],
                    "shown": shown,
                }
            )
            time.sleep(1.0)
        lags = driver.execute_script("return window.voicebotLags || []")
        server.http.post("/api/campaigns/live/stop")
    finally:
        driver.quit()
    lag = summarize([x * 1000 for x in lags])
    return {
        "trunk": trunk,
        "calls_cap": calls,
        "seconds": seconds,
        "peak_in_progress_on_screen": peak,
        "updates": len(lags),
        "lag_ms": {
            "p50": round(lag.p50),
            "p95": round(lag.p95),
            "max": round(max(lags, default=0) * 1000),
            "n": lag.n,
        },
        "timeline": samples[:: max(1, len(samples) // 20)],
    }


def _session(server: Server) -> str:
    """A browser session for the benchmark user (written straight to the store)."""
    from voicebot.campaign.store import Store
    from voicebot.web.auth import add_user, login

    store = Store(server.db)
    add_user(store, "bench-browser", "operator", "bench-password-1")
    found = login(store, "bench-browser", "bench-password-1")
    assert found is not None
    return found[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--trunk", choices=["personas", "simulated"], default="personas")
    parser.add_argument("--skip", choices=["upload", "wallboard"])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()
    result: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    }
    with tempfile.TemporaryDirectory(prefix="voicebot-web-bench-") as tmp:
        server = Server(Path(tmp))
        try:
            if args.skip != "upload":
                result["upload"] = upload(server, Path(tmp), args.rows)
                print(json.dumps(result["upload"]))
            if args.skip != "wallboard":
                result["wallboard"] = wallboard(server, args.trunk, args.calls, args.seconds)
                print(json.dumps({k: v for k, v in result["wallboard"].items() if k != "timeline"}))
        finally:
            server.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "web_console.json").write_text(json.dumps(result, indent=1))
    lines = [
        "# Operator console benchmark",
        "",
        f"`python benchmarks/web_console.py {' '.join(sys.argv[1:])}` on {result['machine']}.",
        "",
    ]
    if up := result.get("upload"):
        lines += [
            f"- Upload: {up['rows']} rows ({up['file_mb']} MB, {up['bad_rows']} bad) in "
            f"{up['seconds']} s ({up['rows_per_s']} rows/s): {up['imported']} imported, "
            f"{up['rejected']} rejected; server peak RSS {up['server_peak_rss_mb']} MB "
            f"(before: {up['server_rss_before_mb']} MB)."
        ]
    if wb := result.get("wallboard"):
        lag = wb["lag_ms"]
        lines += [
            f"- Wallboard ({wb['trunk']} trunk, cap {wb['calls_cap']}, {wb['seconds']:.0f} s):"
            f" peak {wb['peak_in_progress_on_screen']} calls in progress on screen; "
            f"event-to-screen lag p50 {lag['p50']} ms, p95 {lag['p95']} ms, max "
            f"{lag['max']} ms over {lag['n']} updates."
        ]
    (out / "web_console.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
