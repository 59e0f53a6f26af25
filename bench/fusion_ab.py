"""Elementwise fusion A/B: each case built twice in one process, once with the plan's fusion
(cpp/exec/fuse.cpp) and once with KERAS_CPP_FUSION=0 (set while the function is built and first
called, so loop bodies compiled at the first call follow it too), timed alternately, with torch's
time beside them. Prints the machine's load with every case.

  python bench/fusion_ab.py [--threads N] [--busy-core] [--only relu,lstm] [--quick] [--cpu-time]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers as _peers  # noqa: E402


def _chain_cases():
    import numpy as np
    from keras_cpp import backend as K
    from bench_core import Case, Impl
    R, C = 2048, 1024

    def make(key, title, kfn, tfn, nin):
        def build(p, rng):
            xs = [rng.standard_normal((R, C), dtype=np.float32) for _ in range(nin)]
            phs = [K.placeholder(shape=(None, C)) for _ in range(nin)]
            f = K.function(phs, [kfn(*phs)])
            impls = [Impl('keras_cpp', lambda: f(xs)[0])]
            if p.torch:
                ts = [p.torch.from_numpy(x) for x in xs]
                impls.append(Impl('torch', lambda: tfn(p.torch, *ts)))
            return Case(key, title, impls, None)
        build.key = key
        return build

    return [
        make('chain_gate', 'sigmoid(x)*tanh(y)+0.5*x %dx%d' % (R, C), lambda x, y: K.sigmoid(x) * K.tanh(y) + 0.5 * x,
             lambda T, x, y: T.sigmoid(x) * T.tanh(y) + 0.5 * x, 2),
        make('chain_hard_sigmoid', 'hard_sigmoid(x) %dx%d (4 ops)' % (R, C), K.hard_sigmoid,
             lambda T, x: T.clamp(0.2 * x + 0.5, 0, 1), 1),
        make('chain_elu', 'elu(x) %dx%d (where/expm1)' % (R, C), K.elu, lambda T, x: T.nn.functional.elu(x), 1),
        make('chain_relu_grad', 'd/dx sum(relu(x*y)) %dx%d' % (R, C),
             lambda x, y: K.gradients(K.sum(K.relu(x * y)), [x])[0],
             lambda T, x, y: (x * y > 0).to(x.dtype) * y, 2),
    ]


def _builders(only):
    import bench_core
    import bench_rnn
    wanted = ['relu_axb', 'mlp_step']
    out = [b for b in bench_core.CASES if b.key in wanted] + _chain_cases()
    out += [b for b in bench_rnn.CASES if b.key in ('lstm_fwd', 'lstm_step', 'gru_step')]
    if only:
        pats = only.lower().split(',')
        out = [b for b in out if any(s in b.key for s in pats)]
    return out


def _build(builder, p, fused):
    import numpy as np
    os.environ['KERAS_CPP_FUSION'] = '1' if fused else '0'
    try:
        case = builder(p, np.random.default_rng(0))
        impl = {i.name: i for i in case.impls}
        out = impl['keras_cpp'].check()  # the first call compiles loop bodies under this setting
        return case, impl, out
    finally:
        del os.environ['KERAS_CPP_FUSION']


def _same(a, b):
    import numpy as np
    a = a if isinstance(a, list) else [a]
    b = b if isinstance(b, list) else [b]
    return all(np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True) for x, y in zip(a, b))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--threads', type=int, default=None)
    ap.add_argument('--busy-core', action='store_true')
    ap.add_argument('--only', default=None)
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--cpu-time', action='store_true', help='process CPU time instead of wall time (a loaded machine)')
    ap.add_argument('--rounds', type=int, default=2, help='alternating fused/unfused measurements per case')
    args = ap.parse_args()
    n = args.threads or _peers.usable_cores()
    _peers.configure_threads(n)
    import timing
    import run as _run
    if args.cpu_time:
        timing.CLOCK = time.process_time
    p = _peers.load_peers(n, skip=('tensorflow', 'jax'))
    prof = dict(timing.PROFILES['quick' if args.quick else 'full'])
    busy = _run._start_busy_core(_peers.usable_cores()) if args.busy_core else None
    print('threads=%d busy_core=%s clock=%s load(1m)=%.2f' % (n, busy[1] if busy else None,
                                                              'cpu' if args.cpu_time else 'wall', os.getloadavg()[0]))
    print('%-20s %12s %12s %8s %12s %6s %s' % ('case', 'fused ms', 'unfused ms', 'ratio', 'torch ms', 'bits', 'load'))
    try:
        for b in _builders(args.only):
            ca, ia, oa = _build(b, p, True)
            cb, ib, ob = _build(b, p, False)
            tf_, tu, tt = [], [], []
            for _ in range(args.rounds):  # alternate, so drifting load hits both
                tf_.append(timing.measure(ia['keras_cpp'].fn, **prof).median)
                tu.append(timing.measure(ib['keras_cpp'].fn, **prof).median)
            if 'torch' in ia:
                tt.append(timing.measure(ia['torch'].fn, **prof).median)
            f, u = min(tf_), min(tu)
            print('%-20s %12.3f %12.3f %8.2f %12s %6s %.2f' % (
                b.key, f * 1e3, u * 1e3, f / u, '%.3f' % (tt[0] * 1e3) if tt else '-', 'same' if _same(oa, ob) else 'DIFF',
                os.getloadavg()[0]))
            sys.stdout.flush()
    finally:
        if busy:
            busy[0].kill()


if __name__ == '__main__':
    main()
