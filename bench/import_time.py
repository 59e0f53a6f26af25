"""Import cost of keras_cpp.backend against numpy's: median over fresh interpreters.

    python bench/import_time.py [--runs 15] [--python PY] [--budget-ms 10]

Numbers, each the median of --runs fresh processes, run interleaved so that machine load
hits both alike:
- process: wall time of `python -c "import keras_cpp.backend"` minus that of `python -c "import
  numpy"` (keras_cpp imports numpy itself, so this is what it adds to a program);
- process CPU: the same difference in CPU time (user + system) of the child, which a busy machine
  inflates less than wall time;
- in-process: time of `import keras_cpp.backend` right after `import numpy` in one interpreter;
- -X importtime: the cumulative import time of everything imported after numpy (its minimum
  over the runs is the most load-proof number here); the best case (minima) is printed too.
The children may write bytecode (an installed wheel has it; PYTHONDONTWRITEBYTECODE is dropped)
and get a private KERAS_HOME; one warm-up run of each comes first. Each child also reports the
modules keras_cpp added: keras2_compat and `platform` must not be among them. Exit status 1 when
the process median (wall, or CPU with --cpu) exceeds the budget or a forbidden module was imported.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

PROBE = r'''
import sys, time, json
t0 = time.perf_counter()
import numpy
t1 = time.perf_counter()
before = set(sys.modules)
import keras_cpp.backend
t2 = time.perf_counter()
print(json.dumps({"numpy_ms": (t1 - t0) * 1e3, "keras_cpp_ms": (t2 - t1) * 1e3,
                  "added": sorted(set(sys.modules) - before), "file": keras_cpp.__file__}))
'''
FORBIDDEN = ('keras_cpp.keras2_compat', 'platform')


def _importtime_ms(python, env):
    """Cumulative -X importtime of everything imported after numpy (top-level entries only)."""
    out = subprocess.run([python, '-X', 'importtime', '-c', 'import numpy; import keras_cpp.backend'],
                         env=env, check=True, capture_output=True, text=True).stderr.splitlines()
    rows = [l.split('|') for l in out if l.startswith('import time:') and l.count('|') == 2]
    names = [r[2].rstrip() for r in rows]
    after = names.index(' numpy') + 1  # top-level names have exactly one leading space
    return sum(int(r[1]) for r, n in zip(rows[after:], names[after:]) if not n.startswith('  ')) / 1e3


def _env(keras_home):
    env = dict(os.environ)
    env.pop('PYTHONDONTWRITEBYTECODE', None)
    env['KERAS_HOME'] = keras_home
    env.pop('KERAS_BACKEND', None)
    return env


def _cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(python, code, env):
    """(wall ms, CPU ms) of one fresh `python -c code`."""
    c, t = _cpu_s(), time.perf_counter()
    subprocess.run([python, '-c', code], env=env, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1e3, (_cpu_s() - c) * 1e3


def measure(python, runs):
    with tempfile.TemporaryDirectory(prefix='keras_cpp_import_') as home:
        env = _env(home)
        for code in ('import numpy', 'import keras_cpp.backend'):  # warm-up: bytecode, keras.json
            _run(python, code, env)
        numpy_runs, kc_runs, inproc, probes, itime = [], [], [], [], []
        for _ in range(runs):
            itime.append(_importtime_ms(python, env))
            numpy_runs.append(_run(python, 'import numpy', env))
            kc_runs.append(_run(python, 'import keras_cpp.backend', env))
            out = subprocess.run([python, '-c', PROBE], env=env, check=True, capture_output=True, text=True)
            probe = json.loads(out.stdout.strip().splitlines()[-1])
            inproc.append(probe['keras_cpp_ms'])
            probes.append(probe)
    return {
        'numpy_process_ms': statistics.median(n[0] for n in numpy_runs),
        'keras_cpp_process_ms': statistics.median(k[0] for k in kc_runs),
        'process_delta_ms': statistics.median(k[0] - n[0] for k, n in zip(kc_runs, numpy_runs)),
        'numpy_cpu_ms': statistics.median(n[1] for n in numpy_runs),
        'keras_cpp_cpu_ms': statistics.median(k[1] for k in kc_runs),
        'cpu_delta_ms': statistics.median(k[1] - n[1] for k, n in zip(kc_runs, numpy_runs)),
        # Minima: what a quiet machine gives; shown beside the medians when the load is high.
        'min_delta_ms': min(k[0] for k in kc_runs) - min(n[0] for n in numpy_runs),
        'min_cpu_delta_ms': min(k[1] for k in kc_runs) - min(n[1] for n in numpy_runs),
        'min_in_process_ms': min(inproc),
        'importtime_ms': statistics.median(itime),
        'min_importtime_ms': min(itime),
        'in_process_ms': statistics.median(inproc),
        'numpy_in_process_ms': statistics.median(p['numpy_ms'] for p in probes),
        'added_modules': probes[-1]['added'],
        'file': probes[-1]['file'],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--runs', type=int, default=15)
    ap.add_argument('--python', default=sys.executable)
    ap.add_argument('--budget-ms', type=float, default=10.0)
    ap.add_argument('--cpu', action='store_true', help='judge the CPU-time difference (busy machine)')
    args = ap.parse_args()
    load = os.getloadavg()
    r = measure(args.python, args.runs)
    print('python: %s   keras_cpp: %s' % (args.python, r['file']))
    print('load average: %.2f %.2f %.2f   runs: %d (medians)' % (load + (args.runs,)))
    print('%-44s %8s %8s' % ('', 'wall', 'CPU'))
    print('%-44s %8.1f %8.1f ms' % ('python -c "import numpy"', r['numpy_process_ms'], r['numpy_cpu_ms']))
    print('%-44s %8.1f %8.1f ms' % ('python -c "import keras_cpp.backend"', r['keras_cpp_process_ms'],
                                    r['keras_cpp_cpu_ms']))
    print('%-44s %8.1f %8.1f ms   (budget %.0f ms, judged on %s)'
          % ('difference (median of per-run pairs)', r['process_delta_ms'], r['cpu_delta_ms'],
             args.budget_ms, 'CPU' if args.cpu else 'wall'))
    print('%-44s %8.1f ms   (numpy itself: %.1f ms)' % ('import keras_cpp.backend after numpy, in-process',
                                                       r['in_process_ms'], r['numpy_in_process_ms']))
    print('%-44s %8.1f %8.1f ms   (in-process: %.1f ms)' % ('best case: min(keras_cpp) - min(numpy)',
                                                             r['min_delta_ms'], r['min_cpu_delta_ms'],
                                                             r['min_in_process_ms']))
    print('%-44s %8.1f ms   (min %.1f ms)' % ('-X importtime of what keras_cpp adds (cumulative)',
                                                r['importtime_ms'], r['min_importtime_ms']))
    print('modules keras_cpp.backend adds: %d; %s' % (len(r['added_modules']), ' '.join(r['added_modules'])))
    bad = [m for m in FORBIDDEN if m in r['added_modules']]
    delta = r['cpu_delta_ms'] if args.cpu else r['process_delta_ms']
    ok = delta <= args.budget_ms and not bad
    if bad:
        print('FAIL: imported %s' % ', '.join(bad))
    print('PASS' if ok else 'FAIL')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
