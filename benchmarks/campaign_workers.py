"""Campaign throughput with 1 and N dialer workers on one PostgreSQL (simulated trunk).

    .venv/bin/python benchmarks/campaign_workers.py [--contacts 600] [--workers 3] [--lines 8]
    ./dev bench campaign

Each worker is a `voicebot campaign run --worker-id wI --lines L` process: L is one worker's
trunk capacity (calls at once per machine); the campaign cap is workers x L, so N workers may
carry N times the calls if the store keeps up. A fresh PostgreSQL (Debian `postgresql`, loopback)
holds the campaign; every contact gets one dial (no retries), calls last a few seconds of real
time (`--speed`). Throughput = dials / seconds from the first start to the last worker's exit.
Writes benchmarks/results/campaign_workers.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.campaign_db import PostgresServer  # noqa: E402
from tests.integration.test_campaign import ALWAYS, numbers, write_csv  # noqa: E402
from voicebot.campaign.config import CampaignConfig, RetryRule  # noqa: E402
from voicebot.campaign.contacts import import_contacts  # noqa: E402
from voicebot.campaign.store import Store  # noqa: E402

NO_RETRIES = {
    k: RetryRule(max=0)
    for k in ("no_answer", "busy", "voicemail", "failed", "interrupted", "rtp_timeout", "callback")
}


def run(
    server: PostgresServer, workers: int, lines: int, contacts: int, speed: float, work: Path
) -> dict[str, float]:
    url = server.new_database()
    store = Store(url)
    config = CampaignConfig(
        window=ALWAYS, retries=NO_RETRIES, concurrency=workers * lines, cps=200, max_attempts=1
    )
    store.create("bench", "prompts/survey_en.yaml", config)
    rows = [{"phone": p} for p in numbers(contacts, seed=workers)]
    import_contacts(store, "bench", write_csv(work / f"c{workers}.csv", rows))
    log = work / f"dials{workers}.log"
    command = [
        sys.executable,
        "-m",
        "voicebot.cli",
        "campaign",
        "--db",
        url,
        "run",
        "bench",
        "--speed",
        str(speed),
        "--dial-log",
        str(log),
        "--lines",
        str(lines),
        "--until-idle",
    ]
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [*command, "--worker-id", f"w{i}"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(workers)
    ]
    for p in procs:
        p.wait(1800)
    seconds = time.monotonic() - started
    dials = len(log.read_text().splitlines())
    store.engine.dispose()
    return {
        "workers": workers,
        "lines_per_worker": lines,
        "dials": dials,
        "seconds": round(seconds, 2),
        "dials_per_s": round(dials / seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=600)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--lines", type=int, default=8)
    parser.add_argument(
        "--speed",
        type=float,
        default=20.0,
        help="simulated calls this much faster than real (20: ~2 s a call)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="voicebot-pg-bench-") as tmp:
        root = Path(tmp)
        root.chmod(0o777)
        server = PostgresServer(root / "pg")
        server.start()
        try:
            results = [
                run(server, n, args.lines, args.contacts, args.speed, root)
                for n in (1, args.workers)
            ]
        finally:
            server.stop()
    one, many = results
    ratio = round(many["dials_per_s"] / one["dials_per_s"], 2)
    out = {
        "contacts": args.contacts,
        "speed": args.speed,
        "runs": results,
        "speedup": ratio,
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    results_dir = ROOT / "benchmarks" / "results"
    (results_dir / "campaign_workers.json").write_text(json.dumps(out, indent=1))
    md = [
        "# Campaign throughput: workers on one PostgreSQL (simulated trunk)",
        "",
        f"`python benchmarks/campaign_workers.py --contacts {args.contacts} --workers "
        f"{args.workers} --lines {args.lines} --speed {args.speed:g}`",
        "",
        "| workers | lines each | dials | seconds | dials/s |",
        "|---|---|---|---|---|",
    ]
    md += [
        f"| {r['workers']} | {r['lines_per_worker']} | {r['dials']} | {r['seconds']} | "
        f"{r['dials_per_s']} |"
        for r in results
    ]
    md += ["", f"speed-up with {args.workers} workers: **{ratio}x**", ""]
    (results_dir / "campaign_workers.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
