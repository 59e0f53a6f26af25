"""dot(sparse, dense) on a 10000 x 50000 CSR matrix with 0.1% density (500k entries) times a dense
(50000, 64) float32 matrix: keras_cpp against scipy.sparse and torch.sparse (CSR and COO), each
in its own subprocess of this one run so that its peak memory is its own. Also the forward and
backward pass (gradient w.r.t. the dense operand).

  python bench/bench_sparse.py [--threads 2] [--repeat 20] [--cols 64]

Reported per implementation: median and min seconds per call, and the peak resident memory its
calls (warm-up included) added above what was resident once the inputs were built (VmHWM after
resetting it, minus VmRSS then). The forward + backward case is measured after the forward one, in
the same process, so memory kept from the forward calls does not show again. A dense copy
of the sparse matrix would take 2000 MB. keras_cpp: a compiled K.function fed the scipy CSR matrix
(its arrays are borrowed, never densified), the dense operand a K.variable. ratio = keras_cpp
median / best peer median (< 1 = keras_cpp faster). The machine's load is printed before and after.
"""
import argparse
import json
import os
import sys

import subproc

ROWS, COLS, DENSITY = 10000, 50000, 0.001
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _mem_kb(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return -1


def _reset_peak():
    try:  # Linux >= 4.0: writing 5 resets VmHWM to the current RSS
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def _data(n_cols):
    """The CSR matrix (50 random columns per row, duplicates merged), W and dY. Built row-wise:
    scipy.sparse.random would sample from all 5e8 positions and take 4 GB doing it."""
    import numpy as np
    import scipy.sparse as sp
    rng = np.random.RandomState(0)
    per_row = int(COLS * DENSITY)
    cols = np.sort(rng.randint(0, COLS, size=(ROWS, per_row)), axis=1).ravel()
    indptr = np.arange(0, ROWS * per_row + 1, per_row)
    m = sp.csr_matrix((rng.rand(ROWS * per_row).astype('float32'), cols.astype('int32'), indptr.astype('int32')),
                      shape=(ROWS, COLS))
    m.sum_duplicates()
    w = np.random.RandomState(1).randn(COLS, n_cols).astype('float32')
    g = np.random.RandomState(2).randn(ROWS, n_cols).astype('float32')  # d loss / d output
    return m, w, g


def _measure(fn, repeat):
    """Timings, and the peak resident memory the calls (warm-up included) added above what was
    resident once the inputs were built: VmHWM (reset first) minus that VmRSS."""
    rss = _mem_kb('VmRSS')
    exact = _reset_peak()
    res = subproc.timed(fn, repeat)
    res.update(peak_mb=(_mem_kb('VmHWM') - rss) / 1024.0, peak_exact=exact)
    return res


def worker(name, repeat, n_cols, threads):
    import numpy as np
    m, w, g = _data(n_cols)
    ref = m @ w
    res = {'nnz': int(m.nnz)}
    if name == 'keras_cpp':
        K = subproc.import_keras_cpp_backend(ROOT)
        res['keras_cpp'] = os.path.dirname(sys.modules['keras_cpp'].__file__)
        p = K.placeholder(shape=(None, COLS), sparse=True)
        wv = K.variable(w)
        y = K.dot(p, wv)
        fwd = K.function([p], [y])
        gw = K.gradients(K.sum(y * K.constant(g)), [wv])[0]
        both = K.function([p], [y, gw])
        res['check'] = float(np.max(np.abs(fwd([m])[0] - ref)))
        res['fwd'] = _measure(lambda: fwd([m]), repeat)
        res['fwd_bwd'] = _measure(lambda: both([m]), repeat)
    elif name == 'scipy':
        import scipy
        res['version'] = scipy.__version__
        res['check'] = 0.0
        res['fwd'] = _measure(lambda: m @ w, repeat)
        res['fwd_bwd'] = _measure(lambda: (m @ w, m.T @ g), repeat)  # the gradient by hand
    else:
        import torch
        torch.set_num_threads(threads)
        res['version'] = torch.__version__
        if name == 'torch_csr':
            s = torch.sparse_csr_tensor(torch.from_numpy(m.indptr.astype('int64')), torch.from_numpy(m.indices.astype('int64')),
                                        torch.from_numpy(m.data), size=m.shape)
        else:
            c = m.tocoo()
            s = torch.sparse_coo_tensor(torch.from_numpy(np.vstack([c.row, c.col]).astype('int64')), torch.from_numpy(c.data),
                                        size=m.shape).coalesce()
        tw, tg = torch.from_numpy(w), torch.from_numpy(g)
        with torch.no_grad():
            res['check'] = float((torch.sparse.mm(s, tw) - torch.from_numpy(ref)).abs().max())
        res['fwd'] = _measure(lambda: torch.sparse.mm(s, tw).numpy(), repeat)
        tw_g = tw.clone().requires_grad_(True)

        def fwd_bwd():
            tw_g.grad = None
            y = torch.sparse.mm(s, tw_g)
            y.backward(tg)
            return y.detach().numpy(), tw_g.grad.numpy()

        res['fwd_bwd'] = _measure(fwd_bwd, repeat)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--worker')
    ap.add_argument('--threads', type=int, default=os.cpu_count() or 1)
    ap.add_argument('--repeat', type=int, default=20)
    ap.add_argument('--cols', type=int, default=64)
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(worker(a.worker, a.repeat, a.cols, a.threads)))
        return
    print('dot(sparse %dx%d, density %g (50 random columns a row, duplicates merged), CSR float32) @ dense (%d, %d) '
          'float32; threads=%d, repeat=%d' % (ROWS, COLS, DENSITY, COLS, a.cols, a.threads, a.repeat))
    print('load average before: %s   (%d CPUs)' % (subproc.load_average(), os.cpu_count() or 0))
    print('a dense copy of the sparse matrix would take %.0f MB\n' % (ROWS * COLS * 4 / 2 ** 20))
    results = {}
    for name in ('keras_cpp', 'scipy', 'torch_csr', 'torch_coo'):
        res, err = subproc.spawn(sys.executable, __file__, name, ['--repeat', str(a.repeat), '--cols', str(a.cols)], a.threads,
                                 env={'OPENBLAS_NUM_THREADS': str(a.threads)})
        results[name] = res
        if res is None:
            print('%-10s skipped (%s)' % (name, err))
    nnz = next((r['nnz'] for r in results.values() if r), None)
    print('nnz = %s; keras_cpp from %s' % (nnz, (results.get('keras_cpp') or {}).get('keras_cpp')))
    for case, title in (('fwd', 'forward  y = S @ W'), ('fwd_bwd', 'forward + dW = S^T @ dY')):
        print('%s' % title)
        kc = (results.get('keras_cpp') or {}).get(case)
        for name, res in results.items():
            if not res:
                continue
            r = res[case]
            ratio = ('  kc/this %.2f' % (kc['median'] / r['median'])) if kc and name != 'keras_cpp' else ''
            print('  %-10s median %8.2f ms  min %8.2f ms  peak +%7.1f MB%s%s  max|err| %.1e%s'
                  % (name, r['median'] * 1e3, r['min'] * 1e3, r['peak_mb'], '' if r['peak_exact'] else ' (VmHWM not reset)',
                     '', res.get('check', 0.0), ratio))
        peers = [(n, r[case]['median']) for n, r in results.items() if n != 'keras_cpp' and r]
        if kc and peers:
            best = min(peers, key=lambda kv: kv[1])
            print('  ratio = keras_cpp / best peer (%s) = %.2f' % (best[0], kc['median'] / best[1]))
    print('\nload average after: %s' % subproc.load_average())


if __name__ == '__main__':
    main()
