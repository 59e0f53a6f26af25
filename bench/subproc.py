"""Helpers of the benchmark scripts that run each framework in a subprocess of one run
(keras_bench.py, bench_sparse.py, bench_optimizers.py): spawn a worker and read its JSON line,
time a callable, read the load average."""
import json
import os
import subprocess
import time


def spawn(python, script, worker, args, threads, env=None):
    """Run `python script --worker NAME --threads N args...`; (its last JSON line, None) or (None, why)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), **(env or {}))
    cmd = [python, os.path.abspath(script), '--worker', worker, '--threads', str(threads)] + list(args)
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    for line in reversed(out.stdout.splitlines()):
        if line.startswith('{'):
            return json.loads(line), None
    return None, (out.stderr.strip().splitlines() or ['no output'])[-1]


def timed(fn, repeat, warmup=3):
    """{'median', 'min'} seconds per call over `repeat` timed calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    ts.sort()
    return {'median': ts[len(ts) // 2] if len(ts) % 2 else 0.5 * (ts[len(ts) // 2 - 1] + ts[len(ts) // 2]),
            'min': ts[0]}


def load_average():
    """The 1, 5 and 15 minute load averages as printed by uptime."""
    with open('/proc/loadavg') as f:
        return ' '.join(f.read().split()[:3])


def use_checkout(root):
    """Put this checkout's python/ first on sys.path when it holds a built extension, so the code
    next to the script is what gets measured (an installed keras_cpp may be another version)."""
    import glob
    import sys
    here = os.path.join(root, 'python')
    if glob.glob(os.path.join(here, 'keras_cpp', '_core*')) and here not in sys.path:
        sys.path.insert(0, here)


def import_keras_cpp_backend(root):
    """keras_cpp.backend, from this checkout when it has a build (see use_checkout)."""
    use_checkout(root)
    from keras_cpp import backend
    return backend
