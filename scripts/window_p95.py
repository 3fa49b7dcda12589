#!/usr/bin/env python3
"""What a hold of T seconds reads of a run-time P95 near the knee, against the long run: a
discrete-event simulation of the few-runs-a-second open plan of
tests/suite/measuring/few.rs (a queue of 4 slots, runs of 0.6 s, sessions of 2..4 turns,
pauses lognormal with a median of 2 s and a P95 of 6 s, Poisson arrivals).

    window_p95.py curve 1.7 1.8 1.9      # the long-run P95 at each rate
    window_p95.py windows 1.9 60         # 60-s windows at 1.9/s: what they read

A window's P95 is its runs' (those that ended in it); what it carried is its runs begun over
its length and the mean turns. The long run's P95 is set by congested episodes a window of a
few minutes mostly misses, so the search credits a pass under what its hold carried
(`MIXTURE_SIGMAS`). Pure Python, seeded: the same figures each run."""

import heapq
import math
import random
import sys
from collections import deque

SLOTS, SERVICE, SLA = 4, 0.605, 2.0
TURNS = (2, 4)
THINK_MU = math.log(2.0)
THINK_SIGMA = (math.log(6.0) - THINK_MU) / 1.6449


def simulate(rate: float, secs: float, seed: int, warm: float = 200.0):
    """The runs (begun, ended) of a long run at `rate` sessions per second, after `warm`."""
    rng = random.Random(seed)
    events, order = [], 0

    def push(at, kind, data=None):
        nonlocal order
        order += 1
        heapq.heappush(events, (at, order, kind, data))

    push(rng.expovariate(rate), "arrival")
    busy, waiting, runs = 0, deque(), []
    while events:
        now, _, kind, data = heapq.heappop(events)
        if now > secs:
            break
        if kind == "arrival":
            push(now + rng.expovariate(rate), "arrival")
            push(now, "turn", rng.randint(*TURNS))
        elif kind == "turn":
            if busy < SLOTS:
                busy += 1
                push(now + SERVICE, "done", (now, data - 1))
            else:
                waiting.append((now, data - 1))
        else:
            begun, left = data
            if begun > warm:
                runs.append((begun, now))
            if waiting:
                push(now + SERVICE, "done", waiting.popleft())
            else:
                busy -= 1
            if left > 0:
                pause = math.exp(THINK_MU + THINK_SIGMA * rng.gauss(0.0, 1.0))
                push(now + pause, "turn", left)
    return runs


def p95(times):
    times = sorted(times)
    return times[max(0, math.ceil(0.95 * len(times)) - 1)]


def windows(rate: float, length: float):
    runs = simulate(rate, 40000.0, 7)
    ended, begun = {}, {}
    for b, e in runs:
        ended.setdefault(int(e // length), []).append(e - b)
        begun[int(b // length)] = begun.get(int(b // length), 0) + 1
    turns = (TURNS[0] + TURNS[1]) / 2.0
    rows = sorted(
        (begun[w] / length / turns, p95(times))
        for w, times in ended.items()
        if w in begun and len(times) >= 20
    )
    read = sorted(p for _, p in rows)
    carrying = sorted(p for c, p in rows if abs(c / rate - 1.0) < 0.03)
    under = sum(1 for p in read if p < SLA) / len(read)
    print(
        f"{rate}/s, {length:.0f}-s windows: long-run P95 {p95([e - b for b, e in runs]):.3f} s; "
        f"{len(read)} windows, median P95 {read[len(read) // 2]:.3f} s, "
        f"{100 * under:.0f}% under {SLA} s; the {len(carrying)} carrying the rate ±3%: "
        f"median {carrying[len(carrying) // 2]:.3f} s"
    )


def main() -> int:
    if len(sys.argv) >= 3 and sys.argv[1] == "curve":
        for rate in map(float, sys.argv[2:]):
            runs = simulate(rate, 30000.0, 1)
            print(f"{rate}/s: long-run P95 {p95([e - b for b, e in runs]):.3f} s")
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "windows":
        windows(float(sys.argv[2]), float(sys.argv[3]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
