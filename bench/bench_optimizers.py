"""One Adam step over the parameters of the 784-512-512-10 MLP (669,706 float32 values in six
tensors), gradients given: K.optimizers.Adam (one fused C++ op per parameter) against Keras
2.3.1's own keras.optimizers.Adam on keras_cpp (its chain of ~15 elementwise ops per parameter)
and torch.optim.Adam (fused=True, foreach=True, and the plain for-loop). Each runs in a
subprocess of this one run (Keras 2.3.1 needs its numpy<2 virtualenv).

  python bench/bench_optimizers.py [--keras-python /work/venvs/keras/bin/python] [--threads 2]
                                   [--repeat 50]

keras_cpp steps are one call of a compiled K.function([], [], updates=opt.get_updates(...)) whose
gradients are fixed variables (get_gradients replaced), so only the update is timed; torch steps
are opt.step() with .grad set once. Checked: after 5 steps, K.optimizers.Adam and Keras's Adam
give the same parameters (max |difference| printed; torch's Adam puts epsilon elsewhere, so its
difference is shown for information only). ratio = K.optimizers median / best other median.
"""
import argparse
import json
import os
import sys

import subproc

SIZES = (784, 512, 512, 10)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _arrays():
    import numpy as np
    rng = np.random.RandomState(0)
    shapes = []
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        shapes += [(a, b), (b,)]
    params = [(rng.randn(*s) * 0.05).astype('float32') for s in shapes]
    grads = [(rng.randn(*s) * 0.01).astype('float32') for s in shapes]
    return params, grads


def _k_step(K, opt_cls):
    """A compiled update step of optimizer class opt_cls on fresh variables, gradients fixed."""
    params, grads = _arrays()
    ps = [K.variable(p) for p in params]
    gs = [K.variable(g) for g in grads]
    opt = opt_cls(lr=0.001)
    opt.get_gradients = lambda loss, p: gs
    f = K.function([], [], updates=opt.get_updates(loss=None, params=ps))
    return (lambda: f([])), ps


def worker_keras(repeat, which):
    os.environ.setdefault('KERAS_BACKEND', 'keras_cpp.backend')
    subproc.use_checkout(ROOT)
    import keras  # first: Keras 2.3.1 on Python 3.11 needs the compatibility names keras_cpp installs then
    import numpy as np
    from keras import backend as K
    import keras_cpp.backend as KC
    res = {}
    ref = None
    for name, cls in (('K.optimizers.Adam', KC.optimizers.Adam), ('keras.optimizers.Adam', keras.optimizers.Adam)):
        if which and name not in which:
            continue
        step, ps = _k_step(K, cls)
        for _ in range(5):
            step()
        vals = [K.get_value(p) for p in ps]
        if ref is None:
            ref = vals
        res[name] = subproc.timed(step, repeat)
        res[name]['diff'] = float(max(np.max(np.abs(a - b)) for a, b in zip(vals, ref)))
        res[name]['after5'] = [v.ravel()[:3].tolist() for v in vals]
    return res


def worker_torch(repeat, threads):
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    params, grads = _arrays()
    res = {}
    for name, kw in (('torch Adam(fused)', {'fused': True}), ('torch Adam(foreach)', {'foreach': True}),
                     ('torch Adam(for-loop)', {'foreach': False})):
        ps = [torch.nn.Parameter(torch.from_numpy(p.copy())) for p in params]
        for p, g in zip(ps, grads):
            p.grad = torch.from_numpy(g.copy())
        try:
            opt = torch.optim.Adam(ps, lr=0.001, eps=1e-7, **kw)
        except (RuntimeError, TypeError, ValueError) as e:
            res[name] = {'error': str(e)}
            continue
        for _ in range(5):
            opt.step()
        after5 = [p.detach().numpy().copy() for p in ps]
        res[name] = subproc.timed(opt.step, repeat)
        res[name]['after5_full'] = None
        res[name]['after5'] = [v.ravel()[:3].tolist() for v in after5]
        res[name]['version'] = torch.__version__
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--worker')
    ap.add_argument('--keras-python', default='/work/venvs/keras/bin/python')
    ap.add_argument('--threads', type=int, default=os.cpu_count() or 1)
    ap.add_argument('--repeat', type=int, default=50)
    a = ap.parse_args()
    if a.worker:
        res = worker_keras(a.repeat, None) if a.worker == 'keras' else worker_torch(a.repeat, a.threads)
        print(json.dumps(res))
        return
    n = sum(x * y + y for x, y in zip(SIZES[:-1], SIZES[1:]))
    print('Adam step over the MLP %s parameters (%d float32 values, 6 tensors); threads=%d, repeat=%d'
          % ('-'.join(map(str, SIZES)), n, a.threads, a.repeat))
    print('load average before: %s   (%d CPUs)' % (subproc.load_average(), os.cpu_count() or 0))
    results = {}
    for worker, py in (('keras', a.keras_python), ('torch', sys.executable)):
        res, err = subproc.spawn(py, __file__, worker, ['--repeat', str(a.repeat)], a.threads)
        if res is None:
            print('%-8s skipped (%s)' % (worker, err))
            continue
        results.update(res)
    kc = results.get('K.optimizers.Adam')
    ref = kc['after5'] if kc else None
    for name, r in results.items():
        if 'error' in r:
            print('  %-24s unavailable: %s' % (name, r['error']))
            continue
        ratio = '  K.optimizers/this %.2f' % (kc['median'] / r['median']) if kc and r is not kc else ''
        diff = ''
        if 'diff' in r:
            diff = '  max|p - K.optimizers p| after 5 steps %.1e' % r['diff']
        elif ref:
            import numpy as np
            diff = '  (first values after 5 steps differ from K.optimizers by %.1e)' % max(
                float(np.max(np.abs(np.array(x) - np.array(y)))) for x, y in zip(r['after5'], ref))
        print('  %-24s median %8.1f us  min %8.1f us%s%s' % (name, r['median'] * 1e6, r['min'] * 1e6, ratio, diff))
    others = [(k, v['median']) for k, v in results.items() if v is not kc and 'median' in v]
    if kc and others:
        best = min(others, key=lambda kv: kv[1])
        print('ratio = K.optimizers.Adam / best other (%s) = %.2f' % (best[0], kc['median'] / best[1]))
    print('load average after: %s' % subproc.load_average())


if __name__ == '__main__':
    main()
