"""The op table at parallel sizes: each row's `big` samples (large enough that parallel_for splits
the work) run at 1, 2, 3 and 8 threads (keras_cpp.set_num_threads) in a child process, so that a
crash or a hang in one kernel is reported against that row and thread count instead of killing
the test run.

In the child, every big sample is checked: the float32 forward against the numpy reference, the
float64 gradient along a random direction against the central difference (gradcheck.py), and for
random rows the distribution plus a digest of the numbers (the same at every thread count). Whether
the work really split is read from the pool threads' run time (/proc/self/task/*/schedstat): an idle
worker sleeps, so a worker that ran during the call was handed chunks.

Run as a script: python parallel_sweep.py OUT.jsonl 1,2,3,8 [row@threads,... to skip]."""
import hashlib
import json
import os
import subprocess
import sys
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
THREADS = (1, 2, 3, 8)
CHILD_TIMEOUT = 600  # seconds for one thread count's whole sweep; the row then running is a hang


# ---------------------------------------------------------------- in the child
CAN_PROBE = os.path.isfile('/proc/self/schedstat')  # Linux: per-thread run times in /proc


def worker_times():
    """{thread id: nanoseconds on a CPU} for the process's threads but the main one."""
    me = str(os.getpid())
    out = {}
    for tid in os.listdir('/proc/self/task'):
        if tid == me:
            continue
        try:
            with open('/proc/self/task/%s/schedstat' % tid) as f:
                out[tid] = int(f.read().split()[0])
        except OSError:
            pass
    return out


def settled_worker_times():
    """Worker run times once no worker is still finishing an earlier job."""
    if not CAN_PROBE:
        return {}
    t = worker_times()
    for _ in range(50):
        time.sleep(0.002)
        u = worker_times()
        if u == t:
            return u
        t = u
    return t


def workers_ran_since(before):
    """True when a pool worker ran since `before` (waits a little for a descheduled one); None
    where run times cannot be read."""
    if not CAN_PROBE:
        return None
    for _ in range(100):
        now = worker_times()
        if any(now[t] > before.get(t, 0) for t in now):
            return True
        time.sleep(0.002)
    return False


def _digest(v):
    return hashlib.sha1(np.ascontiguousarray(v).tobytes()).hexdigest()


def check_row(op, rng, probe=True):
    """Check every big sample of a row at the current thread count; returns a result record.
    probe: find out whether the work split (pointless with one thread: there is no pool)."""
    from keras_cpp import backend as K
    import gradcheck
    import test_ops
    splits, digests = [], []
    for k, sample in enumerate(op.big(rng)):
        f32 = sample.cast_floats('float32')
        before = settled_worker_times() if probe else None
        if op.kind == 'random':
            v = test_ops.run(op, f32, 'feed')[0][0]
            args, kwargs = f32.bind(test_ops.R, values=lambda a: a)
            op.ref(v, *args, **kwargs)
            digests.append(_digest(v))
        elif op.kind == 'update':
            v = K.variable(f32.args[0])
            out = K.eval(op.op(v, *f32.args[1:], **f32.kwargs))
            exp = np.asarray(test_ops._ref(op, f32), 'float64')
            np.testing.assert_allclose(np.asarray(out, 'float64'), exp, *test_ops.BIG_TOL['float32'])
        else:
            outs, syms = test_ops.run(op, f32, 'feed')
            test_ops.check(op, f32, 'float32', outs, syms, 'big', tol=test_ops.BIG_TOL)
        split = workers_ran_since(before) if probe else False
        if op.differentiable and op.kind == 'pure' and 'nograd' not in sample.tags:
            before = settled_worker_times() if probe else None
            f64 = sample.cast_floats('float64')
            gradcheck.check_directional(lambda *phs: op.op(*f64.bind(K, phs)[0], **f64.bind(K, phs)[1]),
                                        f64.arrays(), wrt=op.grad_wrt, seed=k, err_msg='%s %s' % (op.name, sample))
            split = split or (workers_ran_since(before) if probe else False)
        splits.append(split)
    return {'op': op.name, 'ok': True, 'splits': splits, 'digests': digests}


def child_main(out_path, threads, skip):
    """Check every row at each thread count (set_num_threads, or OMP_NUM_THREADS for one count);
    one JSON line when a (row, threads) unit starts and one with its result."""
    import faulthandler
    faulthandler.enable()  # a crash prints the Python stack: the parent reports it with the row
    faulthandler.dump_traceback_later(CHILD_TIMEOUT - 20, exit=True)  # and so does a hang
    sys.path.insert(0, HERE)
    import keras_cpp
    from keras_cpp import _core
    _core._set_parallel_backoff(False)  # on a loaded machine a late worker would make big samples serial
    from op_info import rng_for
    from op_table import OPS
    with open(out_path, 'a') as out:
        for n in threads:
            if hasattr(keras_cpp, 'set_num_threads'):
                keras_cpp.set_num_threads(n)
            for op in OPS:
                unit = '%s@%d' % (op.name, n)
                if op.big is None or unit in skip:
                    continue
                out.write(json.dumps({'unit': unit, 'start': True}) + '\n')
                out.flush()
                try:
                    rec = check_row(op, rng_for(op.name, 'big'), probe=n > 1)
                except Exception:  # a failed check is a result, not a reason to stop the sweep
                    rec = {'op': op.name, 'ok': False, 'error': traceback.format_exc(limit=6)}
                rec['unit'] = unit
                out.write(json.dumps(rec) + '\n')
                out.flush()


# ---------------------------------------------------------------- in the test process
def _read(path):
    started, done = [], {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                if rec.get('start'):
                    started.append(rec['unit'])
                else:
                    done[rec['unit']] = rec
    return started, done


def _run_child(threads, env, path, skip):
    """Run the child until it finishes; returns (exit status, stderr)."""
    try:
        p = subprocess.run([sys.executable, os.path.abspath(__file__), path, ','.join(map(str, threads)),
                            ','.join(sorted(skip))], env=env, cwd=os.path.dirname(path), timeout=CHILD_TIMEOUT,
                           capture_output=True, text=True)
        return p.returncode, p.stderr
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors='replace') if isinstance(e.stderr, bytes) else (e.stderr or '')
        return 'timeout after %ds' % CHILD_TIMEOUT, err


def run_sweep(workdir, threads=THREADS):
    """{'row@threads': record}. One child runs every thread count through set_num_threads (a child
    per count, by OMP_NUM_THREADS, where the build lacks it). A unit that crashed or hung the child
    gets an error record and the child is restarted without it."""
    import keras_cpp
    root = os.path.dirname(os.path.dirname(os.path.abspath(keras_cpp.__file__)))
    groups = [list(threads)] if hasattr(keras_cpp, 'set_num_threads') else [[n] for n in threads]
    results = {}
    for group in groups:
        env = dict(os.environ, OMP_NUM_THREADS=str(group[0]),
                   PYTHONPATH=os.pathsep.join([root, HERE] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
        path = os.path.join(workdir, 'sweep-%s.jsonl' % '-'.join(map(str, group)))
        crashed = {}
        while True:
            rc, err = _run_child(group, env, path, set(_read(path)[1]) | set(crashed))
            started, done = _read(path)
            lost = [u for u in started if u not in done and u not in crashed]
            if rc == 0 and not lost:
                break
            if not lost:  # the child failed outside any unit: nothing to attribute it to
                raise RuntimeError('parallel sweep child (threads %s) failed: %s\n%s' % (group, rc, err[-3000:]))
            for u in lost:
                crashed[u] = {'unit': u, 'ok': False, 'error': 'the child process died (exit %s) in %s:\n%s'
                              % (rc, u, err[-3000:])}
        results.update(done)
        results.update(crashed)
    return results


if __name__ == '__main__':
    child_main(sys.argv[1], [int(n) for n in sys.argv[2].split(',')],
               set(filter(None, sys.argv[3].split(','))) if len(sys.argv) > 3 else set())
