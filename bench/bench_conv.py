#!/usr/bin/env python3
"""conv2d benchmark: keras_cpp K.conv2d (forward, and forward+backward through K.gradients)
against numpy (im2col + one matmul, forward only, when not too slow) and PyTorch
(torch.nn.functional.conv2d on a channels_last tensor) when importable. Prints median times and
ratios (keras_cpp / peer; < 1 means keras_cpp is faster).

    python bench/bench_conv.py [--batch 32] [--size 32] [--cin 64] [--cout 64] [--repeat 7] [--threads N]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'python'))


def median_time(fn, repeat, warmup=2):
    """Median seconds per call over `repeat` timed calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def numpy_conv2d_same(x, w):
    """im2col over a zero-padded input, then one GEMM (stride 1, odd kernel)."""
    kh, kw, cin, cout = w.shape
    n, h, wd, _ = x.shape
    xp = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    cols = np.empty((n, h, wd, kh, kw, cin), x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, i, j, :] = xp[:, i:i + h, j:j + wd, :]
    return (cols.reshape(-1, kh * kw * cin) @ w.reshape(-1, cout)).reshape(n, h, wd, cout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--size', type=int, default=32)
    ap.add_argument('--cin', type=int, default=64)
    ap.add_argument('--cout', type=int, default=64)
    ap.add_argument('--k', type=int, default=3)
    ap.add_argument('--repeat', type=int, default=7)
    ap.add_argument('--threads', type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        os.environ['OMP_NUM_THREADS'] = str(args.threads)
    from keras_cpp import backend as K

    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, args.size, args.size, args.cin)).astype('float32')
    w = (rng.standard_normal((args.k, args.k, args.cin, args.cout)) * 0.1).astype('float32')
    print('conv2d %dx%dx%dx%d -> %d channels, %dx%d same, float32' % (x.shape + (args.cout, args.k, args.k)))

    xp = K.placeholder(shape=x.shape, dtype='float32')
    wv = K.variable(w)
    y = K.conv2d(xp, wv, padding='same')
    fwd = K.function([xp], [y])
    loss = K.sum(K.square(y))
    gx, gw = K.gradients(loss, [xp, wv])
    bwd = K.function([xp], [loss, gx, gw])
    rows = [('keras_cpp', 'forward', median_time(lambda: fwd([x]), args.repeat)),
            ('keras_cpp', 'fwd+bwd', median_time(lambda: bwd([x]), args.repeat))]

    ref = numpy_conv2d_same(x, w)
    np.testing.assert_allclose(fwd([x])[0], ref, rtol=1e-3, atol=1e-3)
    flops = 2.0 * x.size // args.cin * args.cout * args.k * args.k * args.cin
    if flops < 5e10:
        rows.append(('numpy', 'forward', median_time(lambda: numpy_conv2d_same(x, w), max(3, args.repeat // 2))))

    try:
        import torch
        import torch.nn.functional as F
        if args.threads:
            torch.set_num_threads(args.threads)
        tx = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
        tw = torch.from_numpy(w).permute(3, 2, 0, 1).contiguous()  # (out, in, kh, kw)
        with torch.no_grad():
            got = F.conv2d(tx, tw, padding=args.k // 2).permute(0, 2, 3, 1).numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-3)

        def torch_fwd():
            with torch.no_grad():
                F.conv2d(tx, tw, padding=args.k // 2)

        txg = tx.clone().requires_grad_(True)
        twg = tw.clone().requires_grad_(True)

        def torch_bwd():
            out = F.conv2d(txg, twg, padding=args.k // 2)
            torch.autograd.grad((out * out).sum(), [txg, twg])

        rows.append(('torch', 'forward', median_time(torch_fwd, args.repeat)))
        rows.append(('torch', 'fwd+bwd', median_time(torch_bwd, args.repeat)))
    except ImportError:
        print('(torch not importable: skipped)')

    ours = {m: t for impl, m, t in rows if impl == 'keras_cpp'}
    print('%-10s %-8s %10s %8s %10s' % ('impl', 'mode', 'median ms', 'GFLOP/s', 'ratio'))
    for impl, mode, t in rows:
        f = flops * (3 if mode == 'fwd+bwd' else 1)
        ratio = '' if impl == 'keras_cpp' else '%.2f' % (ours[mode] / t)
        print('%-10s %-8s %10.2f %8.1f %10s' % (impl, mode, t * 1e3, f / t / 1e9, ratio))


if __name__ == '__main__':
    main()
