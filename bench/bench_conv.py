#!/usr/bin/env python3
"""Convolution benchmarks (issue 12): conv2d NHWC 3x3 16x56x56x64->64 forward and backward
(dX + dW), depthwise 3x3 forward and backward, max pool 2x2 (bench_pool.py), conv1d, separable_conv2d and
conv3d (bench_conv_nd.py), and a small CNN training step
(conv32-conv64-pool-fc128-fc10, batch 64, 28x28x1), against numpy (where a reference is cheap to
write), PyTorch, TensorFlow and JAX.

As an area of bench/run.py (`python bench/run.py --only conv,depthwise,cnn,maxpool`), or on its own:
`python bench/bench_conv.py [run.py options]` runs just these cases.

Backward cases time one call computing the forward and the gradients of sum(y * G) (G a fixed
random tensor, so dL/dy = G) with respect to x and the kernel, as a training step does; every peer
does the same (torch autograd.grad, tf.GradientTape, jax.vjp).
"""
import os
import sys

import numpy as np

from keras_cpp import backend as K

from bench_core import Case, Impl, _jax_block

AREA = 'conv'
N, HW, CI, CO = 16, 56, 64, 64


# ---------------------------------------------------------------- numpy references
def np_conv_same(x, w):
    """im2col over a zero-padded input, then one GEMM (stride 1, odd kernel, channels_last)."""
    kh, kw, cin, cout = w.shape
    n, h, wd, _ = x.shape
    xp = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    cols = np.empty((n, h, wd, kh, kw, cin), x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, i, j, :] = xp[:, i:i + h, j:j + wd, :]
    return (cols.reshape(-1, kh * kw * cin) @ w.reshape(-1, cout)).reshape(n, h, wd, cout)


def np_conv_same_grads(x, w, g):
    """dX (a convolution of g with the flipped, transposed kernel) and dW (patches^T g, per sample)."""
    kh, kw = w.shape[:2]
    dx = np_conv_same(g, w[::-1, ::-1].transpose(0, 1, 3, 2))
    xp = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    dw = np.zeros(w.shape, np.float64)
    h, wd = x.shape[1:3]
    for i in range(kh):
        for j in range(kw):
            dw[i, j] = np.einsum('nhwc,nhwo->co', xp[:, i:i + h, j:j + wd, :], g, optimize=True)
    return dx, dw


def np_depthwise_same(x, w):
    kh, kw = w.shape[:2]
    h, wd = x.shape[1:3]
    xp = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    y = np.zeros(x.shape, x.dtype)
    for i in range(kh):
        for j in range(kw):
            y += xp[:, i:i + h, j:j + wd, :] * w[i, j, :, 0]
    return y


def np_depthwise_grads(x, w, g):
    kh, kw = w.shape[:2]
    h, wd = x.shape[1:3]
    dx = np_depthwise_same(g, w[::-1, ::-1])
    xp = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    dw = np.zeros(w.shape, np.float64)
    for i in range(kh):
        for j in range(kw):
            dw[i, j, :, 0] = np.einsum('nhwc,nhwc->c', xp[:, i:i + h, j:j + wd, :], g, optimize=True)
    return dx, dw


# ---------------------------------------------------------------- conv2d / depthwise cases
def _conv_case(depthwise, backward):
    key = ('depthwise' if depthwise else 'conv2d') + ('_bwd' if backward else '_fwd')

    def build(p, rng):
        x = rng.standard_normal((N, HW, HW, CI), dtype=np.float32)
        w = (rng.standard_normal((3, 3, CI, 1 if depthwise else CO)) * 0.1).astype(np.float32)
        G = rng.standard_normal((N, HW, HW, CI if depthwise else CO), dtype=np.float32)
        x64, w64, g64 = x.astype(np.float64), w.astype(np.float64), G.astype(np.float64)
        if backward:
            ref = [a.astype(np.float32) for a in (np_depthwise_grads if depthwise else np_conv_same_grads)(x64, w64, g64)]
        else:
            ref = (np_depthwise_same if depthwise else np_conv_same)(x64, w64).astype(np.float32)
        xp, wv = K.placeholder(shape=(None, HW, HW, CI)), K.variable(w)
        y = K.depthwise_conv2d(xp, wv, padding='same') if depthwise else K.conv2d(xp, wv, padding='same')
        if backward:
            gx, gw = K.gradients(K.sum(y * K.constant(G)), [xp, wv])
            f = K.function([xp], [gx, gw])
            impls = [Impl('keras_cpp', lambda: f([x]))]
        else:
            f = K.function([xp], [y])
            impls = [Impl('keras_cpp', lambda: f([x])[0])]
            impls.append(Impl('numpy', lambda: (np_depthwise_same if depthwise else np_conv_same)(x, w)))
        groups = CI if depthwise else 1
        if p.torch:
            T, F = p.torch, p.torch.nn.functional
            tx = T.from_numpy(x).permute(0, 3, 1, 2).contiguous(memory_format=T.channels_last)
            tw = T.from_numpy(w).permute(3, 2, 0, 1).contiguous() if not depthwise else T.from_numpy(w).permute(2, 3, 0, 1).contiguous()
            tg = T.from_numpy(G).permute(0, 3, 1, 2).contiguous(memory_format=T.channels_last)
            if backward:
                txg, twg = tx.clone().requires_grad_(True), tw.clone().requires_grad_(True)

                def t_bwd():
                    gx_, gw_ = T.autograd.grad((F.conv2d(txg, twg, padding=1, groups=groups) * tg).sum(), [txg, twg])
                    return gx_, gw_

                def t_check():
                    gx_, gw_ = t_bwd()
                    gwn = gw_.permute(2, 3, 1, 0).numpy() if not depthwise else gw_.permute(2, 3, 0, 1).numpy()
                    return [gx_.permute(0, 2, 3, 1).numpy(), gwn]
                impls.append(Impl('torch', t_bwd, t_check))
            else:
                def t_fwd():
                    with T.no_grad():
                        return F.conv2d(tx, tw, padding=1, groups=groups)
                impls.append(Impl('torch', t_fwd, lambda: t_fwd().permute(0, 2, 3, 1).numpy()))
        if p.tf:
            tf = p.tf
            cx, cw, cg = tf.constant(x), tf.constant(w), tf.constant(G)

            def tf_conv(a, b):
                return tf.nn.depthwise_conv2d(a, b, [1, 1, 1, 1], 'SAME') if depthwise else tf.nn.conv2d(a, b, 1, 'SAME')
            if backward:
                @tf.function
                def tf_bwd(a, b, g_):
                    with tf.GradientTape() as tape:
                        tape.watch([a, b])
                        loss = tf.reduce_sum(tf_conv(a, b) * g_)
                    return tape.gradient(loss, [a, b])
                impls.append(Impl('tensorflow', lambda: tf_bwd(cx, cw, cg)))
            else:
                tf_f = tf.function(tf_conv)
                impls.append(Impl('tensorflow', lambda: tf_f(cx, cw)))
        if p.jax:
            jax, jnp = p.jax, p.jnp
            jx, jw, jg = jax.device_put(x), jax.device_put(w.reshape(3, 3, 1, CI) if depthwise else w), jax.device_put(G)

            def j_conv(a, b):
                return jax.lax.conv_general_dilated(a, b, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'),
                                                    feature_group_count=groups)
            if backward:
                jf = jax.jit(lambda a, b, g_: jax.vjp(j_conv, a, b)[1](g_))

                def j_bwd():
                    r = jf(jx, jw, jg)
                    r[0].block_until_ready()
                    return r
                impls.append(Impl('jax', j_bwd, lambda: [np.asarray(j_bwd()[0]), np.asarray(j_bwd()[1]).reshape(w.shape)]))
            else:
                jfwd = _jax_block(jax.jit(j_conv))
                impls.append(Impl('jax', lambda: jfwd(jx, jw)))
        flops = 2.0 * N * HW * HW * CI * 9 * (1 if depthwise else CO) * (3 if backward else 1)
        title = '%s 3x3 %dx%dx%dx%d%s %s' % ('depthwise' if depthwise else 'conv2d', N, HW, HW, CI,
                                             '' if depthwise else '->%d' % CO, 'fwd+dX+dW' if backward else 'forward')
        # dW sums N*H*W = 50176 products of N(0,1) values (|dW| ~ 200): float32 accumulation (and
        # Winograd's transforms) leave errors ~1e-2 there, ~1e-7 of the terms' total magnitude.
        return Case(key, title, impls, ref, flops=flops, rtol=1e-3, atol=5e-2 if backward else 1e-3)
    build.key = key
    return build


CASES = [_conv_case(False, False), _conv_case(False, True), _conv_case(True, False), _conv_case(True, True)]

try:  # the CNN training step lives next door (bench_cnn.py) to keep files small
    from bench_cnn import case_cnn_step
    CASES.append(case_cnn_step)
except ImportError:  # pragma: no cover
    pass
from bench_pool import CASES as _POOL_CASES  # noqa: E402  (max pool forward/backward, bench_pool.py)
CASES += _POOL_CASES
from bench_conv_nd import CASES as _ND_CASES  # noqa: E402  (conv1d, separable_conv2d, conv3d: bench_conv_nd.py)
CASES += _ND_CASES


if __name__ == '__main__':
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import run
    argv = sys.argv[1:]
    if '--only' not in argv:
        argv = ['--only', 'conv2d,depthwise,cnn,maxpool,conv1d,separable,conv3d'] + argv
    sys.exit(run.main(argv))
