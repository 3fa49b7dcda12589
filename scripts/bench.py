#!/usr/bin/env python3
"""agentload's benchmark: the generator against a bare client doing the same user loop.

For each workload, one `agentload target` is started (pinned on CPU 1 when `taskset` exists and
the machine has two CPUs or more), then each generator runs against it in turn (pinned on CPU 0):
`agentload run` with a plan written here, `examples/goose_floor` (the bare loop driven by Goose
as agentload drives its users: what Goose alone costs) and `examples/bare_client` (the ceiling).
Measured from outside, the same way for all: CPU seconds and peak RSS from the kernel's rusage
of the child, the startup time as the seconds from launch to the target's first new connection
(polled every 20 ms), and the runs from the target's own `/stats`. W1 runs its generators three
rounds, interleaved (one round varies by ±10% on a shared machine); the table gives each
generator's median round. The open workloads (W5-*) run three rounds each, interleaved (ws,
wss, ws, wss...), and give their median rounds. Writes `bench.md` and `bench.json` to
`reports/bench-<timestamp>/` (or `--out`) and prints the table.

    python3 scripts/bench.py                      # W1 W2 W3 W3-tls (about 12 minutes)
    python3 scripts/bench.py --workloads W3,W3-watched   # what the guard and the exporter cost
    python3 scripts/bench.py --workloads W1       # one workload
    python3 scripts/bench.py --workloads W1 --rounds 5

Build first: cargo build --release --bin agentload --example bare_client --example goose_floor
(`just bench` does).
"""

import argparse
import json
import os
import platform
import resource
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime

SECRET = "bench-secret-0123456789abcdef0123456789abcdef"

# name: users, ramp s, hold s, think ms, event delay ms, tls
WORKLOADS = {
    "W1": (50, 2, 15, 0, 1, False),
    "W2": (1000, 10, 20, 2000, 200, False),
    "W3": (10000, 30, 20, 10000, 200, False),
    "W3-tls": (10000, 30, 20, 10000, 200, True),
    # W3 with what watches a test every second: `abort_on_fail` (the guard judges the figures
    # so far each second) and `--metrics-addr` scraped every second. agentload only: set it
    # beside W3's agentload row for what watching costs.
    "W3-watched": (10000, 30, 20, 10000, 200, False),
}
WATCHED = {"W3-watched"}
# The open model, agentload alone, what a session costs the generator (#44): name: sessions/s,
# seconds of arrivals, turns, think ms, event delay ms, pool of users, tls, TLS resumption.
# Sessions per CPU-second come from the target's own count of sessions (threads that had a run).
OPEN = {
    "W5-ws": (400, 30, 2, 500, 10, 2000, False, False),
    "W5-wss": (400, 30, 2, 500, 10, 2000, True, False),
    "W5-wss-resume": (400, 30, 2, 500, 10, 2000, True, True),
}
# Rounds per workload unless --rounds says otherwise: W1's ratio is the criterion, and it is short.
ROUNDS = {"W1": 3}
# The open workloads' rounds, interleaved (a W5 run varies by ±5%; their ratio is the figure).
OPEN_ROUNDS = 3
GENERATORS = ("agentload", "goose_floor", "bare_client")


def pinned(cpu, cmd):
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(cpu)] + cmd
    return cmd


class Target:
    def __init__(self, binary, work, port, delay_ms, tls):
        self.scheme = "https" if tls else "http"
        self.base = f"{self.scheme}://127.0.0.1:{port}"
        self.ca = os.path.join(work, "ca.pem") if tls else None
        cmd = [binary, "target", "--port", str(port), "--event-delay-ms", str(delay_ms),
               "--ignore-token-expiry"]
        if tls:
            cmd += ["--tls", "--ca-out", self.ca]
        self.log = open(os.path.join(work, "target.log"), "w")
        self.proc = subprocess.Popen(pinned(1, cmd), stdout=self.log, stderr=subprocess.STDOUT)
        self.context = None
        for _ in range(200):
            if tls and self.context is None and os.path.exists(self.ca):
                try:
                    self.context = ssl.create_default_context(cafile=self.ca)
                except ssl.SSLError:
                    pass
            try:
                self.stats()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"bench: the target did not answer on {self.base} (see {self.log.name})")

    def stats(self):
        with urllib.request.urlopen(f"{self.base}/stats", timeout=5, context=self.context) as r:
            return json.load(r)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.log.close()


def plan_head(name, target, think, target_lines=""):
    """What every benchmark plan starts with: the target, minted tokens, the think time."""
    ws = target.base.replace("http", "ws", 1) + "/ws"
    ca = f'ca_file = "{target.ca}"\n' if target.ca else ""
    return f"""name = "{name}"
[target]
base_url = "{target.base}"
ws_url = "{ws}"
{ca}{target_lines}[auth]
mode = "mint"
secret_env = "AGENTLOAD_JWT_SECRET"
lifetime = "60m"
[scenario]
think_time = "{think}ms"
run_timeout = "60s"
"""


def plan_text(target, users, ramp, hold, think, report_dir, watched=False):
    return plan_head("bench", target, think) + f"""[[stages]]
users = {users}
duration = "{ramp}s"
[[stages]]
users = {users}
duration = "{hold}s"
[sampler]
enabled = false
[report]
dir = "{report_dir}"
""" + ("""[sla]
error_rate = "5%"
abort_on_fail = true
abort_grace = "5s"
""" if watched else "")


def open_plan_text(target, spec, report_dir):
    rate, secs, turns, think, _delay, pool, _tls, resume = spec
    tls = f"tls_resumption = {'true' if resume else 'false'}\n" if target.ca else ""
    return plan_head("bench-open", target, think, tls) + f"""[workload]
model = "open"
max_sessions = {pool}
drain = "20s"
[session]
turns = {turns}
[[arrivals]]
rate = "{rate}/s"
duration = "{secs}s"
[sampler]
enabled = false
[report]
dir = "{report_dir}"
"""


def measured_apart(cmd, gen_dir, scrape_port=None):
    """`cmd` measured from a fresh helper process (ru_maxrss of RUSAGE_CHILDREN is the largest
    child so far: a helper of its own makes the figure this generator's)."""
    helper = [sys.executable, __file__, "--measure-one", json.dumps(cmd), gen_dir,
              str(scrape_port or 0)]
    subprocess.run(helper, check=False)
    with open(os.path.join(gen_dir, "measure.json")) as f:
        return json.load(f)


def latest_summary(report_dir):
    """The summary.json of the newest run in `report_dir` (each run writes its own
    `<name>-<timestamp>/` there), or None."""
    runs = sorted(os.listdir(report_dir)) if os.path.isdir(report_dir) else []
    summary = os.path.join(report_dir, runs[-1], "summary.json") if runs else ""
    if not os.path.exists(summary):
        return None
    with open(summary) as f:
        return json.load(f)


def run_open(binaries, target, spec, work, round_no):
    """One open-model run of agentload: sessions per CPU-second (the target's count), the
    first turn's P95, peak RSS."""
    gen_dir = os.path.join(work, f"agentload-{round_no}")
    os.makedirs(gen_dir)
    report_dir = os.path.join(gen_dir, "report")
    plan = os.path.join(gen_dir, "plan.toml")
    with open(plan, "w") as f:
        f.write(open_plan_text(target, spec, report_dir))
    row = measured_apart([binaries["agentload"], "run", plan], gen_dir)
    s = latest_summary(report_dir)
    if s:
        sessions = s.get("sessions") or {}
        row["first_turn_p95_ms"] = (sessions.get("first_turn") or {}).get("p95_ms")
        row["failures"] = s["runs"]["failed"] + s["connections"]["failed"]
        row["sessions_completed"] = sessions.get("completed")
    row["sessions_per_cpu_sec"] = round(row["target_sessions"] / row["cpu_secs"]) \
        if row["cpu_secs"] > 0 else None
    return row


def run_open_rounds(binaries, names, port, rounds):
    """The open workloads `names`, each against a target of its own (all up at once, idle but
    for the one measured), one after the other round by round: ws, wss, ws, wss... so a ratio
    between them is not a drift of the machine between two blocks of runs. A row per workload:
    its median round, with every round's figure."""
    targets, measured = {}, {name: [] for name in names}
    try:
        for i, name in enumerate(names):
            spec = OPEN[name]
            work = tempfile.mkdtemp(prefix=f"agentload-bench-{name}-")
            targets[name] = (Target(binaries["agentload"], work, port + i, spec[4], spec[6]), work)
            with open(os.path.join(work, "target.json"), "w") as f:
                json.dump({"base": targets[name][0].base, "ca": targets[name][0].ca}, f)
        for n in range(1, rounds + 1):
            for name in names:
                target, work = targets[name]
                print(f"bench: {name} agentload ({OPEN[name][0]} sessions/s, round {n}/{rounds})"
                      "...", file=sys.stderr, flush=True)
                measured[name].append(run_open(binaries, target, OPEN[name], work, n))
    finally:
        for target, _ in targets.values():
            target.stop()
    rows = []
    for name in names:
        row = median_round(measured[name], "sessions_per_cpu_sec")
        row.update(workload=name, rounds=[r["sessions_per_cpu_sec"] for r in measured[name]])
        rows.append(row)
    return rows


def tls_floor(path):
    """What TLS costs one W5 session with no socket under it (examples/tls_floor), or None."""
    if not os.access(path, os.X_OK):
        print(f"bench: {path} missing (cargo build --release --example tls_floor): "
              "no floor for wss", file=sys.stderr)
        return None
    out = subprocess.run(["taskset", "-c", "0", path] if shutil.which("taskset") else [path],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def floor_line(f, ws_us):
    """The most wss could reach beside a ws session costing `ws_us` µs of generator CPU."""
    best = lambda extra: 100 * ws_us / (ws_us + extra)
    return (f"- TLS for one W5 session with no socket under it (examples/tls_floor, client side): "
            f"{f['session_us']:.0f} µs (X25519 {f['x25519_us']:.0f} µs, the P-256 "
            f"CertificateVerify {f['p256_verify_us']:.0f} µs, rustls's own work "
            f"{f['rustls_us']:.0f} µs). Beside W5-ws's {ws_us:.0f} µs a session, wss can reach "
            f"at most {best(f['session_us']):.0f}% with rustls as it is "
            f"({best(f['crypto_us']):.0f}% if only the public-key cryptography were left)")


def open_table(rows):
    lines = ["| workload | sessions (target) | failures | CPU s | sessions/CPU-s | each round | "
             "first-turn P95 ms | peak RSS MB |", "|" + "---|" * 8]
    for r in rows:
        rounds = ", ".join(f"{x or 0:,}" for x in r["rounds"])
        p95 = r.get("first_turn_p95_ms")
        lines.append(
            f"| {r['workload']} | {r['target_sessions']:,} | {r.get('failures', '?')} "
            f"| {r['cpu_secs']:.2f} | {r['sessions_per_cpu_sec'] or 0:,} | {rounds} "
            f"| {'-' if p95 is None else round(p95)} | {r['peak_rss_kib'] / 1024:.0f} |")
    return "\n".join(lines)


def scrape_every_second(port, stop):
    """Scrapes `--metrics-addr` as a Prometheus would, once a second, until `stop` is set."""
    scrapes = 0
    while not stop.wait(1.0):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                r.read()
                scrapes += 1
        except OSError:
            pass
    return scrapes


def measure(target, cmd, cwd, scrape_port=None):
    """Runs one generator; its rusage, startup time and the target's counts over its run."""
    import threading
    stop = threading.Event()
    scraped = []
    if scrape_port:
        scraper = threading.Thread(
            target=lambda: scraped.append(scrape_every_second(scrape_port, stop)), daemon=True)
        scraper.start()
    before = target.stats()
    out = open(os.path.join(cwd, "generator.out"), "w")
    launched = time.monotonic()
    proc = subprocess.Popen(pinned(0, cmd), cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    startup = None
    while proc.poll() is None:
        if startup is None:
            try:
                if target.stats()["connections_total"] > before["connections_total"]:
                    startup = time.monotonic() - launched
            except OSError:
                pass
        time.sleep(0.02 if startup is None else 0.5)
    # Popen reaped the child; its rusage is in RUSAGE_CHILDREN (one generator at a time).
    wall = time.monotonic() - launched
    stop.set()
    if scrape_port:
        scraper.join()
    out.close()
    time.sleep(1)
    after = target.stats()
    return {
        "exit_code": proc.returncode,
        "wall_secs": round(wall, 1),
        "startup_secs": None if startup is None else round(startup, 2),
        "target_runs_started": after["runs_started"] - before["runs_started"],
        "target_runs_completed": after["runs_completed"] - before["runs_completed"],
        "target_sessions": after.get("sessions", 0) - before.get("sessions", 0),
        "output": os.path.join(cwd, "generator.out"),
        "scrapes": scraped[0] if scraped else None,
    }


def children_usage():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime, u.ru_maxrss


def run_generator(name, binaries, target, spec, work, round_no, watched=False):
    users, ramp, hold, think, _delay, _tls = spec
    scrape_port = None
    gen_dir = os.path.join(work, f"{name}-{round_no}")
    os.makedirs(gen_dir)
    if name == "agentload":
        report_dir = os.path.join(gen_dir, "report")
        plan = os.path.join(gen_dir, "plan.toml")
        with open(plan, "w") as f:
            f.write(plan_text(target, users, ramp, hold, think, report_dir, watched))
        cmd = [binaries["agentload"], "run", plan]
        if watched:
            scrape_port = 9464 + round_no
            cmd += ["--metrics-addr", f"127.0.0.1:{scrape_port}"]
    else:
        ws = target.base.replace("http", "ws", 1) + "/ws"
        cmd = [binaries[name], "--url", ws, "--users", str(users), "--ramp-secs",
               str(ramp), "--hold-secs", str(hold), "--think-ms", str(think),
               "--report-dir", gen_dir]
        if target.ca:
            cmd += ["--ca-file", target.ca]
    row = measured_apart(cmd, gen_dir, scrape_port)
    row.update(generator=name, users=users)
    if name == "agentload":
        s = latest_summary(os.path.join(gen_dir, "report"))
        if s:
            row["counted_completed"] = s["runs"]["completed"]
            row["failures"] = s["runs"]["failed"] + s["connections"]["failed"]
    else:
        with open(row["output"]) as f:
            last = [line for line in f if line.startswith("{")]
        if last:
            b = json.loads(last[-1])
            row["counted_completed"] = b["completed"]
            row["failures"] = b["failed"]
    row["runs_per_cpu_sec"] = round(row["target_runs_completed"] / row["cpu_secs"]) \
        if row["cpu_secs"] > 0 else None
    row["rss_kib_per_user"] = round(row["peak_rss_kib"] / users, 1)
    row["counts_match"] = (row.get("counted_completed") == row["target_runs_completed"]
                           and row["target_runs_started"] == row["target_runs_completed"])
    return row


def measure_one(cmd_json, gen_dir, scrape_port):
    """Helper process: starts the target-facing generator and reports its own child's usage."""
    cmd = json.loads(cmd_json)
    with open(os.path.join(os.path.dirname(gen_dir), "target.json")) as f:
        t = json.load(f)
    target = Target.__new__(Target)
    target.base, target.ca = t["base"], t["ca"]
    target.context = ssl.create_default_context(cafile=target.ca) if target.ca else None
    row = measure(target, cmd, gen_dir, int(scrape_port) or None)
    cpu, rss = children_usage()
    row.update(cpu_secs=round(cpu, 2), peak_rss_kib=rss)
    with open(os.path.join(gen_dir, "measure.json"), "w") as f:
        json.dump(row, f)


def table(rows):
    head = ("| workload | generator | users | runs (target) | failures | CPU s | runs/CPU-s | "
            "runs/CPU-s, each round | peak RSS MB | RSS KiB/user | startup s | wall s | "
            "counts = target |")
    lines = [head, "|" + "---|" * 13]
    for r in rows:
        rounds = ", ".join(f"{x or 0:,}" for x in r["rounds_runs_per_cpu_sec"])
        lines.append(
            f"| {r['workload']} | {r['generator']} | {r['users']:,} | {r['target_runs_completed']:,}"
            f" | {r.get('failures', '?')} | {r['cpu_secs']:.2f} | {r['runs_per_cpu_sec'] or 0:,}"
            f" | {rounds} | {r['peak_rss_kib'] / 1024:.0f} | {r['rss_kib_per_user']:.1f}"
            f" | {r['startup_secs']} | {r['wall_secs']} | {'yes' if r['counts_match'] else 'NO'} |")
    return "\n".join(lines)


def median_round(rounds, figure):
    """A copy of the round with the median `figure` (the lower middle one of an even count)."""
    ordered = sorted(rounds, key=lambda r: r[figure] or 0)
    return dict(ordered[(len(ordered) - 1) // 2])


def median_row(rounds):
    """The round with the median runs per CPU-second; it carries every round's figure and
    whether every round's counts matched the target."""
    row = median_round(rounds, "runs_per_cpu_sec")
    row["rounds_runs_per_cpu_sec"] = [r["runs_per_cpu_sec"] for r in rounds]
    row["counts_match"] = all(r["counts_match"] for r in rounds)
    row["failures"] = max((r.get("failures", 0) or 0) for r in rounds)
    return row


def ratio(rows, name, a, b):
    """`a`'s runs per CPU-second ÷ `b`'s in workload `name`."""
    by = {r["generator"]: r["runs_per_cpu_sec"] for r in rows if r["workload"] == name}
    if by.get(a) and by.get(b):
        return round(by[a] / by[b], 2)
    return None


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--measure-one":
        measure_one(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workloads", default="W1,W2,W3,W3-tls")
    p.add_argument("--rounds", type=int, default=None,
                   help="rounds per workload (default: 3 for W1 and for the open workloads, "
                        "interleaved; 1 for the others)")
    p.add_argument("--out", default=None)
    p.add_argument("--bin", default="target/release/agentload")
    p.add_argument("--bare", default="target/release/examples/bare_client")
    p.add_argument("--floor", default="target/release/examples/goose_floor")
    p.add_argument("--tls-floor", default="target/release/examples/tls_floor")
    p.add_argument("--port", type=int, default=9931)
    args = p.parse_args()
    names = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in names if w not in WORKLOADS and w not in OPEN]
    if unknown:
        known = ", ".join(list(WORKLOADS) + list(OPEN))
        raise SystemExit(f"bench: unknown workload {unknown[0]} (known: {known})")
    binaries = {"agentload": os.path.abspath(args.bin), "bare_client": os.path.abspath(args.bare),
                "goose_floor": os.path.abspath(args.floor)}
    # The open workloads run agentload alone: the other generators are needed for W1-W3 only.
    needed = binaries if any(n in WORKLOADS for n in names) else {"agentload": args.bin}
    for path in needed.values():
        if not os.access(path, os.X_OK):
            raise SystemExit(f"bench: {path} missing; run: cargo build --release --bin "
                             "agentload --example bare_client --example goose_floor")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.environ["AGENTLOAD_JWT_SECRET"] = SECRET
    out = args.out or os.path.join("reports", "bench-" + datetime.now().strftime("%Y%m%d-%H%M%S"))
    os.makedirs(out, exist_ok=True)
    rows = []
    opened = [n for n in names if n in OPEN]
    open_rows = run_open_rounds(binaries, opened, args.port + len(names), args.rounds or
                                OPEN_ROUNDS) if opened else []
    for i, name in enumerate(names):
        if name in OPEN:
            continue
        spec = WORKLOADS[name]
        rounds = args.rounds or ROUNDS.get(name, 1)
        work = tempfile.mkdtemp(prefix=f"agentload-bench-{name}-")
        target = Target(binaries["agentload"], work, args.port + i, spec[4], spec[5])
        with open(os.path.join(work, "target.json"), "w") as f:
            json.dump({"base": target.base, "ca": target.ca}, f)
        generators = ("agentload",) if name in WATCHED else GENERATORS
        measured = {gen: [] for gen in generators}
        try:
            for n in range(1, rounds + 1):
                for gen in generators:
                    print(f"bench: {name} {gen} ({spec[0]:,} users, round {n}/{rounds})...",
                          file=sys.stderr, flush=True)
                    row = run_generator(gen, binaries, target, spec, work, n, name in WATCHED)
                    row.update(workload=name, tls=spec[5])
                    measured[gen].append(row)
        finally:
            target.stop()
        rows += [median_row(measured[gen]) for gen in generators]
    closed = [n for n in names if n in WORKLOADS]
    ratios = {n: ratio(rows, n, "agentload", "bare_client") for n in closed}
    floors = {n: ratio(rows, n, "goose_floor", "bare_client") for n in closed}
    over_floor = {n: ratio(rows, n, "agentload", "goose_floor") for n in closed}
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}"
    each = lambda d: ", ".join(f"{n} {r}×" for n, r in d.items() if r is not None)
    md = [f"# agentload benchmark, {datetime.now().isoformat(timespec='seconds')}", "",
          f"Machine: {machine}. Target on CPU 1, each generator on CPU 0 (taskset: "
          f"{'yes' if shutil.which('taskset') else 'no'}).", "",
          "Workloads: " + "; ".join([
              f"{n} = {WORKLOADS[n][0]:,} users, ramp {WORKLOADS[n][1]} s, hold {WORKLOADS[n][2]} s,"
              f" think {WORKLOADS[n][3]} ms, event delay {WORKLOADS[n][4]} ms"
              f"{', TLS' if WORKLOADS[n][5] else ''}" for n in closed] + [
              f"{n} = {OPEN[n][0]} sessions/s for {OPEN[n][1]} s, {OPEN[n][2]} turns, think "
              f"{OPEN[n][3]} ms, event delay {OPEN[n][4]} ms, pool {OPEN[n][5]:,}"
              f"{', wss' if OPEN[n][6] else ', ws'}{', TLS resumption' if OPEN[n][7] else ''}"
              for n in names if n in OPEN]), "",
          table(rows) if rows else "", ""]
    floor = None
    if open_rows:
        by = {r["workload"]: r["sessions_per_cpu_sec"] for r in open_rows}
        md += [open_table(open_rows), ""]
        for tls in ("W5-wss", "W5-wss-resume"):
            if by.get(tls) and by.get("W5-ws"):
                md += [f"- {tls} ÷ W5-ws, sessions per CPU-second: "
                       f"{100 * by[tls] / by['W5-ws']:.0f}%", ""]
        floor = tls_floor(args.tls_floor) if by.get("W5-wss") and by.get("W5-ws") else None
        if floor:
            md += [floor_line(floor, 1e6 / by["W5-ws"]), ""]
    md += [] if not rows else [
          "Runs per CPU-second (median rounds):", "",
          f"- agentload ÷ the bare client: {each(ratios)}",
          f"- goose_floor ÷ the bare client (what Goose alone leaves): {each(floors)}",
          f"- agentload ÷ goose_floor (what agentload's own work costs): {each(over_floor)}", ""]
    watched = {r["workload"]: r for r in rows if r["workload"] in WATCHED}
    plain = {r["workload"]: r for r in rows if r["generator"] == "agentload"}
    for name, r in watched.items():
        base = plain.get(name.split("-")[0])
        if base:
            md += [f"- {name}: agentload with the guard judging every second and a scrape every "
                   f"second ({r.get('scrapes')} scrapes): {r['cpu_secs']:.2f} CPU s against "
                   f"{base['cpu_secs']:.2f} unwatched ({r['cpu_secs'] - base['cpu_secs']:+.2f} s)", ""]
    with open(os.path.join(out, "bench.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(out, "bench.json"), "w") as f:
        json.dump({"machine": machine, "workloads": {n: WORKLOADS.get(n) or OPEN[n] for n in names},
                   "rows": rows, "ratios": ratios, "goose_floor_ratios": floors,
                   "agentload_over_floor": over_floor, "open_rows": open_rows,
                   "tls_floor": floor}, f, indent=2)
    print("\n".join(md))
    print(f"written: {out}/bench.md, {out}/bench.json")


if __name__ == "__main__":
    main()
