#!/usr/bin/env python3
"""keras_cpp benchmark runner: times keras_cpp against numpy and, when importable, PyTorch,
TensorFlow and JAX, in one run, and prints a table of times and ratios.

    python bench/run.py [--quick] [--only NAME[,NAME...]] [--threads N] [--json OUT] [--skip PEER,...]

ratio = keras_cpp median time / best peer median time (< 1: keras_cpp is faster).
See bench/README.md for what each case measures.
"""
import argparse
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import peers as _peers  # noqa: E402  (no heavy imports in it at module level)

# The modules with cases, one per area; each defines CASES (builders with a .key) and AREA.
AREAS = ['bench_core', 'bench_ops', 'bench_elementwise', 'bench_gemm', 'bench_conv', 'bench_rnn']
PEER_ORDER = ['numpy', 'torch', 'tensorflow', 'jax']
BUSY_CORES = 0.2  # CPU used by other processes above which a measurement is flagged as noisy


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--quick', action='store_true', help='short time budget per measurement (whole run < ~60 s)')
    ap.add_argument('--only', default=None,
                    help='comma-separated substrings; run only cases whose key or title contains one '
                         '(e.g. sgemm, mlp, sgemm_1024, call)')
    ap.add_argument('--threads', type=int, default=None,
                    help='threads for keras_cpp and every peer (default: all usable cores)')
    ap.add_argument('--json', default=None, metavar='OUT', help='also write the results as JSON to OUT')
    ap.add_argument('--skip', default='', help='comma-separated peers to leave out: torch, tensorflow, jax')
    ap.add_argument('--wait-idle', type=float, default=0, metavar='S',
                    help='before each case wait up to S seconds for other processes to go quiet, and '
                         'measure a case again (up to 2 more times) if they were busy during it')
    ap.add_argument('--cpu-time', action='store_true',
                    help='time with the process CPU time (all threads) instead of the wall clock: on a machine '
                         'shared with busy processes it measures the work done rather than the share of a core '
                         'received (meant for --threads 1)')
    ap.add_argument('--busy-core', action='store_true',
                    help='keep one core busy with `yes` pinned to it (taskset) for the whole run, to see how '
                         'the kernels behave when a core is taken by another process')
    ap.add_argument('--isa', choices=['native', 'avx2'], default='native',
                    help='avx2: cap keras_cpp (KERAS_CPP_ISA) and every peer (PyTorch, oneDNN, MKL, OpenBLAS, '
                         'numpy, XLA) at AVX2, to compare on equal terms with a machine without AVX-512')
    ap.add_argument('--list', action='store_true', help='list the case keys and exit')
    return ap.parse_args(argv)


def _select(builders, only):
    if not only:
        return builders
    pats = [s.strip().lower() for s in only.split(',') if s.strip()]
    return [b for b in builders if any(pt in b.key.lower() for pt in pats)]


def _check(case, impl, to_numpy):
    """Compare impl's output(s) with case.ref; returns (ok, max_abs_err, message)."""
    import numpy as np
    try:
        out = to_numpy(impl.check())
    except Exception as e:  # a crash is a result too: report it, do not time it
        return False, None, 'CRASH %s: %s' % (type(e).__name__, str(e).splitlines()[0][:160] if str(e) else '')
    refs = case.ref if isinstance(case.ref, list) else [case.ref]
    outs = out if isinstance(out, list) else [out]
    if len(outs) != len(refs):
        return False, None, 'got %d outputs, expected %d' % (len(outs), len(refs))
    worst = 0.0
    msgs = []
    ok = True
    for i, (o, r) in enumerate(zip(outs, refs)):
        o = np.asarray(o)
        r = np.asarray(r)
        if o.shape != r.shape:
            ok = False
            msgs.append('output %d: shape %s, expected %s' % (i, o.shape, r.shape))
            continue
        if o.dtype != r.dtype:
            msgs.append('output %d: dtype %s (expected %s)' % (i, o.dtype, r.dtype))
        err = float(np.max(np.abs(o.astype(np.float64) - r.astype(np.float64)))) if o.size else 0.0
        if not np.isfinite(err):
            err = float('inf')
        worst = max(worst, err)
        if not np.allclose(o, r, rtol=case.rtol, atol=case.atol, equal_nan=False):
            ok = False
            msgs.append('output %d: max abs err %.3g (rtol=%g atol=%g)' % (i, err, case.rtol, case.atol))
    return ok, worst, '; '.join(msgs)


def main(argv=None):
    args = parse_args(argv)
    cores = _peers.usable_cores()
    nthreads = args.threads or cores
    _peers.configure_threads(nthreads)  # before numpy / keras_cpp / peers are imported
    isa_env = _peers.limit_isa(args.isa)

    import importlib
    import numpy as np
    import timing

    try:  # an installed keras_cpp, or the dev build in python/ of this checkout
        import keras_cpp  # noqa: F401
    except ImportError:
        sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'python'))

    modules = [importlib.import_module(m) for m in AREAS]
    builders = [b for m in modules for b in m.CASES]
    if args.list:
        for b in builders:
            print(b.key)
        return 0
    builders = _select(builders, args.only)
    if not builders:
        print('no case matches --only %r; cases: %s' % (args.only, ', '.join(b.key for b in
                                                                           [b for m in modules for b in m.CASES])))
        return 2

    t_start = time.perf_counter()
    skip = {s.strip().lower() for s in args.skip.split(',') if s.strip()}
    t0 = time.perf_counter()
    import keras_cpp
    from keras_cpp import backend as K  # noqa: F401
    p = _peers.load_peers(nthreads, skip)
    t_imports = time.perf_counter() - t0

    prof = timing.PROFILES['quick' if args.quick else 'full']
    if args.cpu_time:
        timing.CLOCK = time.process_time
    env = {
        'python': _peers.python_info(),
        'platform': platform.platform(),
        'cpu': _cpu_name(),
        'usable_cores': cores,
        'threads': nthreads,
        'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS'),
        'OPENBLAS_NUM_THREADS': os.environ.get('OPENBLAS_NUM_THREADS'),
        'keras_cpp': getattr(keras_cpp, '__version__', '?'),
        'numpy': np.__version__,
        'peers': p.info,
        'mode': 'quick' if args.quick else 'full',
        'clock': 'process CPU time' if args.cpu_time else 'wall (perf_counter)',
        'isa_cap': args.isa,
    }
    print('keras_cpp bench (%s mode, clock: %s)' % (env['mode'], env['clock']))
    print('  cpu: %s, usable cores: %d' % (env['cpu'], cores))
    print('  threads: %d  (OMP_NUM_THREADS=%s, OPENBLAS_NUM_THREADS=%s%s)' % (
        nthreads, env['OMP_NUM_THREADS'], env['OPENBLAS_NUM_THREADS'],
        ', pinned to %d cores' % nthreads if nthreads < cores else ''))
    print('  keras_cpp %s, numpy %s, python %s' % (env['keras_cpp'], np.__version__, env['python']))
    for name in ('torch', 'tensorflow', 'jax'):
        print('  %-10s %s' % (name + ':', p.info.get(name)))
    if isa_env:
        torch_cap = p.torch.backends.cpu.get_cpu_capability() if p.torch is not None else None
        print('  --isa %s: every library capped at %s (%s); PyTorch reports capability %s' % (
            args.isa, args.isa.upper(), ' '.join('%s=%s' % kv for kv in sorted(isa_env.items())), torch_cap))
    load = _loadavg()
    env['loadavg_start'] = load
    mon = _CpuMonitor()
    time.sleep(0.5)
    other = mon.foreign_cores()
    env['other_processes_cores_start'] = other
    if load is not None:
        print('  load average (1 min) before the run: %.2f; CPU used by other processes now: %s cores%s' % (
            load, '?' if other is None else '%.2f' % other,
            '  WARNING: the machine is busy; timings will be noisy' if other and other > 0.2 else ''))
    print('  keras_cpp from %s; elementwise kernels: %s' % (os.path.dirname(keras_cpp.__file__), _kernel_isa()))
    env['kernels'] = _kernel_info(nthreads)
    if env['kernels']:
        ki = env['kernels']
        print('  keras_cpp GEMM/conv kernels: %s (AVX-512 %s; KERAS_CPP_ISA=avx2 forces AVX2), L1 %dK L2 %dK, '
              'micro-tile %dx%d, kc %d nc %d' % (ki['isa'], 'available' if ki['avx512_available'] else 'not available',
                                                ki['l1'] // 1024, ki['l2'] // 1024, ki['mr'], ki['nr'], ki['kc'], ki['nc']))
        print('  FMA peak probe (float32, one core): %s; GEMM %% of peak below = GFLOP/s / (%d x the %s peak)' % (
            ', '.join('%s %.0f GFLOP/s' % (k, v) for k, v in ki['peaks'].items() if v), nthreads, ki['isa']))
    _PROBE.update(_bandwidth_probe())
    env['bandwidth_probe_gbps'] = dict(_PROBE)
    print('  memory bandwidth probe (numpy, 1 thread, 3 x 64 MiB): stream-add %.1f GB/s, copy %.1f GB/s '
          '(GB/s of a case = bytes it must read + write / median time)' % (_PROBE['add'], _PROBE['copy']))
    busy = _start_busy_core(cores) if args.busy_core else None
    if busy:
        print('  --busy-core: `yes` pinned to cpu %d (pid %d) for the whole run' % (busy[1], busy[0].pid))
        env['busy_core'] = busy[1]
    print('  imports: %.1f s; timing: warm up, then median/min of repeats (time.perf_counter)' % t_imports)
    print()

    rng = np.random.default_rng(0)
    records = []
    problems = []
    for b in builders:
        attempt = 0
        while True:
            attempt += 1
            if args.wait_idle:
                waited = _wait_idle(mon, args.wait_idle)
                if waited is not None and waited > 2.5:
                    print('  (waited %.0f s for other processes to go quiet)' % waited)
            rec, case_problems = _run_case(b, p, rng, prof, mon)
            oc = rec.get('other_processes_cores')
            if args.wait_idle and oc is not None and oc > BUSY_CORES and attempt < 3:
                print('%s: other processes used %.2f cores; measuring again' % (rec['title'], oc))
                continue
            break
        rec['attempts'] = attempt
        problems.extend(case_problems)
        records.append(rec)
        if 'error' not in rec:
            _print_case(rec)

    print()
    _print_summary(records, p)
    if problems:
        print()
        print('PROBLEMS:')
        for m in problems:
            print('  - ' + m)
    if busy:
        busy[0].kill()
        busy[0].wait()
    total = time.perf_counter() - t_start
    env['loadavg_end'] = _loadavg()
    print()
    if env['loadavg_end'] is not None:
        print('load average (1 min) after the run: %.2f (includes this run)' % env['loadavg_end'])
    print('total bench time: %.1f s' % total)
    if args.json:
        with open(args.json, 'w') as fh:
            json.dump({'env': env, 'cases': records, 'problems': problems, 'total_s': total}, fh, indent=1)
        print('wrote %s' % args.json)
    return 0


def _run_case(b, p, rng, prof, mon):
    """Build one case, check every implementation against the reference, time those that ran."""
    import timing
    problems = []
    tb = time.perf_counter()
    try:
        case = b(p, rng)
    except Exception as e:
        msg = '%s: building the case failed: %s: %s' % (b.key, type(e).__name__, e)
        print('  ' + msg)
        return {'case': b.key, 'title': b.key, 'results': {}, 'error': msg}, [msg]
    rec = {'case': case.key, 'title': case.title, 'flops': case.flops, 'nbytes': getattr(case, 'nbytes', None),
           'results': {}, 'note': case.note, 'peak': _PEAK.get('gflops')}
    mon.start()
    for impl in case.impls:
        ok, err, msg = _check(case, impl, _peers.to_numpy)
        r = {'check_ok': ok, 'max_abs_err': err, 'check_msg': msg}
        if not ok:
            label = 'keras_cpp' if impl.name == 'keras_cpp' else 'peer %s' % impl.name
            problems.append('%s / %s: %s mismatch vs numpy reference: %s' % (case.key, impl.name, label, msg))
        if msg.startswith('CRASH'):
            rec['results'][impl.name] = r
            continue
        try:
            res = timing.measure(impl.fn, **prof)
            r.update(median_s=res.median, min_s=res.min, repeat=res.repeat, number=res.number,
                     times_s=res.times)
            if case.flops:
                r['gflops_median'] = case.flops / res.median / 1e9
                r['gflops_best'] = case.flops / res.min / 1e9
            if rec['nbytes']:
                r['gbps_median'] = rec['nbytes'] / res.median / 1e9
        except Exception as e:
            r['error'] = '%s: %s' % (type(e).__name__, e)
            problems.append('%s / %s: timing raised %s' % (case.key, impl.name, r['error']))
        rec['results'][impl.name] = r
    _ratio(rec)
    rec['wall_s'] = time.perf_counter() - tb
    rec['other_processes_cores'] = mon.foreign_cores()
    if rec['other_processes_cores'] and rec['other_processes_cores'] > BUSY_CORES:
        problems.append('%s: other processes used %.2f cores during the case; its timings are noisy'
                        % (case.key, rec['other_processes_cores']))
    return rec, problems


def _wait_idle(mon, max_s):
    """Wait until other processes use < BUSY_CORES for 2 s in a row (at most max_s); seconds waited."""
    t0 = time.perf_counter()
    quiet = 0
    while time.perf_counter() - t0 < max_s:
        mon.start()
        time.sleep(0.5)
        oc = mon.foreign_cores()
        if oc is None:
            return None
        quiet = quiet + 1 if oc < BUSY_CORES else 0
        if quiet >= 4:
            break
    return time.perf_counter() - t0


def _ratio(rec):
    res = rec['results']
    kc = res.get('keras_cpp', {}).get('median_s')
    peers = [(n, r['median_s']) for n, r in res.items() if n != 'keras_cpp' and 'median_s' in r]
    if peers:
        best = min(peers, key=lambda t: t[1])
        rec['best_peer'] = best[0]
        rec['best_peer_s'] = best[1]
        rec['ratio'] = kc / best[1] if kc else None
    else:
        rec['best_peer'] = rec['best_peer_s'] = rec['ratio'] = None


def _print_case(rec):
    import timing
    oc = rec.get('other_processes_cores')
    print('%s%s' % (rec['title'], '   [other processes: %.2f cores]' % oc if oc is not None else ''))
    for name in ['keras_cpp'] + PEER_ORDER:
        r = rec['results'].get(name)
        if r is None:
            continue
        if 'median_s' not in r:
            print('  %-11s %s' % (name, r.get('check_msg') or r.get('error')))
            continue
        kc = rec['results'].get('keras_cpp', {}).get('median_s')
        extra = ''
        if rec.get('flops'):
            extra = '  %7.1f GFLOP/s (best %.1f)' % (r['gflops_median'], r['gflops_best'])
            if rec.get('peak'):
                extra += ' %3.0f%% of peak' % (100.0 * r['gflops_median'] / rec['peak'])
        if rec.get('nbytes'):
            extra += '  %6.1f GB/s' % r['gbps_median']
            if _PROBE.get('add'):
                extra += ' (%3.0f%% of probe)' % (100.0 * r['gbps_median'] / _PROBE['add'])
        rel = '' if name == 'keras_cpp' or not kc else '  kc/this %.2f' % (kc / r['median_s'])
        chk = 'ok' if r['check_ok'] else 'MISMATCH'
        print('  %-11s median %10s  min %10s  (%2dx%-5d) check %-8s%s%s' % (
            name, timing.fmt_time(r['median_s']), timing.fmt_time(r['min_s']), r['repeat'], r['number'],
            chk, extra, rel))


def _print_summary(records, p):
    import timing
    cols = ['keras_cpp', 'numpy'] + [n for n in ('torch', 'tensorflow', 'jax') if getattr(p, {'torch': 'torch', 'tensorflow': 'tf', 'jax': 'jax'}[n])]
    head = ['case'] + cols + ['best peer', 'ratio']
    rows = []
    for rec in records:
        row = [rec['title']]
        for c in cols:
            r = rec['results'].get(c)
            if r is None:
                row.append('-')
            elif 'median_s' not in r:
                row.append('CRASH' if (r.get('check_msg') or '').startswith('CRASH') else 'error')
            else:
                s = timing.fmt_time(r['median_s'])
                if rec.get('flops'):
                    s += ' (%.0f GF/s%s)' % (r['gflops_median'], ', %.0f%%' % (100.0 * r['gflops_median'] / rec['peak'])
                                             if rec.get('peak') and c == 'keras_cpp' else '')
                if rec.get('nbytes') and c == 'keras_cpp':
                    s += ' (%.1f GB/s)' % r['gbps_median']
                if not r['check_ok']:
                    s += ' !'
                row.append(s)
        row.append(rec.get('best_peer') or '-')
        row.append('%.2f' % rec['ratio'] if rec.get('ratio') else '-')
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = '  '.join('%-*s' % (w, h) for w, h in zip(widths, head))
    print('SUMMARY (median times; ratio = keras_cpp / best peer, < 1 means keras_cpp is faster; '
          '"!" = output mismatch)')
    print(line)
    print('-' * len(line))
    for row in rows:
        print('  '.join(('%-*s' if i == 0 else '%*s') % (w, x) for i, (w, x) in enumerate(zip(widths, row))))


class _CpuMonitor(object):
    """CPU time used by other processes while a case ran, in cores (from /proc/stat minus our own
    process time): a direct noise indicator, unlike the lagging load average."""

    def __init__(self):
        try:
            self.hz = os.sysconf('SC_CLK_TCK')
        except (ValueError, OSError, AttributeError):
            self.hz = 100
        self.start()

    @staticmethod
    def _busy():
        try:
            with open('/proc/stat') as fh:
                f = [int(v) for v in fh.readline().split()[1:]]
            return sum(f[:8]) - f[3] - f[4]  # all but idle and iowait (guest is counted in user)
        except (OSError, ValueError, IndexError):
            return None

    def start(self):
        self.t0, self.b0, self.p0 = time.perf_counter(), self._busy(), time.process_time()

    def foreign_cores(self):
        b = self._busy()
        if b is None or self.b0 is None:
            return None
        wall = time.perf_counter() - self.t0
        own = time.process_time() - self.p0
        return max(0.0, ((b - self.b0) / float(self.hz) - own) / max(wall, 1e-6))


_PEAK = {}  # the FMA peak of the threads in use (GFLOP/s), for 'percent of peak'


def _kernel_info(nthreads):
    """keras_cpp's kernel ISA, blocking and the FMA peak of one core for each ISA (probe, ~0.6 s)."""
    try:
        from keras_cpp import _core
        ki = dict(_core._kernel_info())
        ki['peaks'] = {isa: _core._fma_peak(isa, 0.3) for isa in ('avx512', 'avx2')}
    except (ImportError, AttributeError):
        return None
    _PEAK['gflops'] = ki['peaks'].get(ki['isa'], 0) * nthreads or None
    return ki


def _start_busy_core(cores):
    """`yes > /dev/null` pinned to the machine's last cpu (with --threads 2 on 2 cores: one of ours;
    with --threads 1: the one we are not pinned to); (process, cpu) or None."""
    import subprocess
    try:
        cpu = (os.cpu_count() or cores) - 1
        proc = subprocess.Popen(['taskset', '-c', str(cpu), 'yes'], stdout=subprocess.DEVNULL)
        time.sleep(0.2)
        return proc, cpu
    except (OSError, ValueError):
        print('  --busy-core: could not start `taskset -c N yes`; running without it')
        return None


_PROBE = {}


def _bandwidth_probe():
    """Memory bandwidth one thread reaches on arrays far past the caches: numpy's add into a
    preallocated output (2 reads + 1 write) and copyto (1 read + 1 write); best of 5."""
    import numpy as np
    n = 16 << 20
    a, b, c = np.ones(n, np.float32), np.ones(n, np.float32), np.empty(n, np.float32)
    out = {}
    for name, fn, streams in (('add', lambda: np.add(a, b, out=c), 3), ('copy', lambda: np.copyto(c, a), 2)):
        fn()
        best = min(_timed(fn) for _ in range(5))
        out[name] = streams * a.nbytes / best / 1e9
    return out


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _kernel_isa():
    """The elementwise/reduction table keras_cpp picks (kernels/ew.cpp): AVX-512 when the CPU
    has avx512f, unless KERAS_CPP_ISA=avx2."""
    try:
        with open('/proc/cpuinfo') as fh:
            flags = next((ln for ln in fh if ln.startswith('flags')), '')
    except OSError:
        return '?'
    has512 = ' avx512f' in flags
    forced = os.environ.get('KERAS_CPP_ISA')
    isa = 'avx2' if forced == 'avx2' or not has512 else 'avx512'
    return '%s (CPU %s AVX-512F%s)' % (isa, 'has' if has512 else 'lacks', ', KERAS_CPP_ISA=%s' % forced if forced else '')


def _loadavg():
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _cpu_name():
    try:
        with open('/proc/cpuinfo') as fh:
            for ln in fh:
                if ln.startswith('model name'):
                    return ln.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or '?'


if __name__ == '__main__':
    sys.exit(main())
