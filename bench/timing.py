"""Timing helpers shared by the bench modules.

Method: warm up (at least `warmup` calls and ~10% of the budget), pick an inner loop count
`number` so one repeat lasts about `target_s`, then run `repeat` repeats within the budget and keep
the per-call time of each.  Reported: median and min over the repeats (time.perf_counter).
"""
import statistics
import time

# The clock: wall time, or with run.py --cpu-time the process's CPU time (all its threads), which
# a machine shared with other busy processes disturbs far less at one thread.
CLOCK = time.perf_counter

# Time budget per (case, implementation), by mode.
PROFILES = {
    'full': dict(budget_s=1.5, target_s=0.05, min_repeat=7, max_repeat=50, warmup=3),
    'quick': dict(budget_s=0.25, target_s=0.02, min_repeat=3, max_repeat=15, warmup=2),
}


class Result(object):
    def __init__(self, times, number):
        self.times = sorted(times)  # seconds per call, one per repeat
        self.number = number

    @property
    def median(self):
        return statistics.median(self.times)

    @property
    def min(self):
        return self.times[0]

    @property
    def repeat(self):
        return len(self.times)


def measure(fn, budget_s, target_s, min_repeat, max_repeat, warmup):
    """Time fn() (no arguments); returns a Result with per-call seconds."""
    pc = CLOCK
    t0 = pc()
    n = 0
    while n < warmup or (pc() - t0 < 0.1 * budget_s and n < 1000):
        fn()
        n += 1
    # estimate one call from a short timed batch
    k = 1
    while True:
        t = pc()
        for _ in range(k):
            fn()
        est = (pc() - t) / k
        if est * k >= min(0.01, target_s) or k >= 1 << 16:
            break
        k *= 4
    est = max(est, 1e-9)
    number = max(1, int(target_s / est))
    repeat = int(budget_s / (number * est))
    repeat = max(min_repeat, min(max_repeat, repeat))
    times = []
    rng = range(number)
    for _ in range(repeat):
        t = pc()
        for _ in rng:
            fn()
        times.append((pc() - t) / number)
    return Result(times, number)


def fmt_time(s):
    """Human time: ns/us/ms/s with 3 significant-ish digits."""
    if s is None:
        return '-'
    if s < 1e-6:
        return '%.0f ns' % (s * 1e9)
    if s < 1e-3:
        return '%.2f us' % (s * 1e6) if s < 1e-5 else '%.1f us' % (s * 1e6)
    if s < 1:
        return '%.3f ms' % (s * 1e3) if s < 1e-2 else '%.2f ms' % (s * 1e3)
    return '%.3f s' % s
