#!/usr/bin/env python3
"""agentload's soak benchmark: whether the generator's memory grows with time, not with the
sessions and runs it has held.

Runs loadplans/soak.toml (open arrivals of 2..4-turn sessions on the embedded target) at a high
session rate for a few minutes, samples the generator's resident memory from /proc every
second (the embedded target is a child process: not counted), and prints the RSS at each
minute, the growth between the first minute and the end, that growth per session, and what a
24-hour soak at the same rate would hold if it kept growing so. The summary's counts are set
beside the target's own (`target_counters`): a soak must keep them exact.

    python3 scripts/soak.py                        # 300 sessions/s for 4 minutes
    python3 scripts/soak.py --rate 150/s --minutes 10

Build first: cargo build --release --bin agentload (`just soak` does).
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

SECRET = "soak-secret-0123456789abcdef0123456789abcdef"


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", default="300/s")
    ap.add_argument("--minutes", type=float, default=4.0)
    ap.add_argument("--binary", default=os.path.join(root, "target", "release", "agentload"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="agentload-soak-")
    # The shipped plan, its reports in the work folder.
    plan_text = open(os.path.join(root, "loadplans", "soak.toml")).read()
    plan_path = os.path.join(work, "soak.toml")
    with open(plan_path, "w") as f:
        f.write(plan_text.replace("[report]\n", f'[report]\ndir = "{work}"\n', 1))
    env = dict(os.environ, SOAK_RATE=args.rate, SOAK_DURATION=f"{int(args.minutes * 60)}s",
               AGENTLOAD_JWT_SECRET=SECRET)
    started = time.time()
    proc = subprocess.Popen([args.binary, "run", plan_path, "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "stderr"), "w"))
    samples = []
    while proc.poll() is None:
        kib = rss_kib(proc.pid)
        if kib is not None:
            samples.append((time.time() - started, kib))
        time.sleep(1.0)
    summaries = glob.glob(os.path.join(work, "*", "summary.json"))
    if not summaries:
        sys.exit(f"no summary.json in {work}: see {work}/stderr")
    s = json.load(open(summaries[0]))
    sessions = s.get("sessions") or {}
    # The arrivals start once the pool is up (a second or two in): minute 1 counts from there.
    origin = (sessions.get("arrivals") or {}).get("from_secs", 0.0)
    arrivals_end = origin + args.minutes * 60

    def rss_at(t):
        return min(samples, key=lambda p: abs(p[0] - t))[1] if samples else 0

    def started_by(t):
        return sum(p["started"] for p in sessions.get("timeline", []) if p["at_secs"] < t)

    print(f"soak: {args.rate} for {args.minutes:g} min, sessions of 2..4 turns (plan: loadplans/soak.toml)")
    for minute in range(1, int(args.minutes) + 1):
        t = origin + 60 * minute
        print(f"  minute {minute}: RSS {rss_at(t) / 1024:.1f} MB, {started_by(t):,} sessions begun")
    t1, t_end = origin + 60, arrivals_end
    grew_kib = rss_at(t_end) - rss_at(t1)
    between = started_by(t_end) - started_by(t1)
    per_session = grew_kib * 1024 / between if between else float("nan")
    per_hour_mb = grew_kib / 1024 / ((t_end - t1) / 3600) if t_end > t1 else float("nan")
    day_mb = rss_at(t1) / 1024 + per_hour_mb * 24
    print(f"  growth from minute 1 to the end: {grew_kib / 1024:+.1f} MB over {between:,} sessions "
          f"({per_session:+.1f} bytes a session, {per_hour_mb:+.1f} MB an hour)")
    print(f"  a 24-hour soak at this rate, growing so: ~{day_mb:,.0f} MB")
    runs, counters = s["runs"], s.get("target_counters") or {}
    print(f"  runs: {runs['completed']:,} completed of {runs['started']:,}; the target's: "
          f"{counters.get('runs_completed', '-'):,} completed of {counters.get('runs_started', '-'):,}"
          if counters else f"  runs: {runs['completed']:,} completed of {runs['started']:,}")
    iso = s.get("isolation") or {}
    print(f"  sessions: {sessions.get('completed', 0):,} completed, {sessions.get('dropped', 0):,} dropped; "
          f"isolation: {iso.get('users_welcomed', 0):,} users welcomed, "
          f"{'~' if iso.get('distinct_estimated') else ''}{iso.get('distinct_user_ids', 0):,} distinct ids")
    out = os.path.join(root, "reports", f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"rate": args.rate, "minutes": args.minutes, "rss_kib": samples,
                   "growth_kib": grew_kib, "sessions_between": between,
                   "bytes_per_session": per_session, "day_mb": day_mb}, f)
    print(f"  samples: {out}")


if __name__ == "__main__":
    main()
