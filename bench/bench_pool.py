"""Max pooling 2x2 stride 2 on x (16, 56, 56, 64) channels_last: forward, and one call computing the
forward and d/dx of sum(pool(x) * G) (G fixed), against numpy (forward only), PyTorch, TensorFlow
and JAX. Collected by bench_conv.py (`python bench/run.py --only pool`).
"""
import numpy as np

from keras_cpp import backend as K

from bench_core import Case, Impl, _jax_block

N, HW, C = 16, 56, 64


def np_maxpool(x):
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def np_maxpool_grad(x, g):
    """dL/dx: g routed to the max of each window (random normal input: no ties)."""
    n, h, w, c = x.shape
    win = x.reshape(n, h // 2, 2, w // 2, 2, c)
    mask = win == win.max(axis=(2, 4), keepdims=True)
    return (mask * g[:, :, None, :, None, :]).reshape(x.shape)


def _pool_case(backward):
    key = 'maxpool_bwd' if backward else 'maxpool_fwd'

    def build(p, rng):
        x = rng.standard_normal((N, HW, HW, C), dtype=np.float32)
        G = rng.standard_normal((N, HW // 2, HW // 2, C), dtype=np.float32)
        ref = np_maxpool_grad(x, G) if backward else np_maxpool(x)
        xp = K.placeholder(shape=(None, HW, HW, C))
        y = K.pool2d(xp, (2, 2), (2, 2))
        if backward:
            f = K.function([xp], K.gradients(K.sum(y * K.constant(G)), [xp]))
        else:
            f = K.function([xp], [y])
        impls = [Impl('keras_cpp', lambda: f([x])[0])]
        if not backward:
            impls.append(Impl('numpy', lambda: np_maxpool(x)))
        if p.torch:
            T, F = p.torch, p.torch.nn.functional
            tx = T.from_numpy(x).permute(0, 3, 1, 2).contiguous(memory_format=T.channels_last)
            tg = T.from_numpy(G).permute(0, 3, 1, 2).contiguous(memory_format=T.channels_last)
            if backward:
                txg = tx.clone().requires_grad_(True)

                def t_run():
                    return T.autograd.grad((F.max_pool2d(txg, 2, 2) * tg).sum(), [txg])[0]
            else:
                def t_run():
                    with T.no_grad():
                        return F.max_pool2d(tx, 2, 2)
            impls.append(Impl('torch', t_run, lambda: t_run().permute(0, 2, 3, 1).numpy()))
        if p.tf:
            tf = p.tf
            cx, cg = tf.constant(x), tf.constant(G)
            if backward:
                @tf.function
                def tf_run(a, g_):
                    with tf.GradientTape() as tape:
                        tape.watch(a)
                        loss = tf.reduce_sum(tf.nn.max_pool2d(a, 2, 2, 'VALID') * g_)
                    return tape.gradient(loss, a)
                impls.append(Impl('tensorflow', lambda: tf_run(cx, cg)))
            else:
                tf_f = tf.function(lambda a: tf.nn.max_pool2d(a, 2, 2, 'VALID'))
                impls.append(Impl('tensorflow', lambda: tf_f(cx)))
        if p.jax:
            jax = p.jax
            jx, jg = jax.device_put(x), jax.device_put(G)

            def j_pool(a):
                return jax.lax.reduce_window(a, -np.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), 'VALID')
            if backward:
                jf = _jax_block(jax.jit(lambda a, g_: jax.vjp(j_pool, a)[1](g_)[0]))
                impls.append(Impl('jax', lambda: jf(jx, jg)))
            else:
                jf = _jax_block(jax.jit(j_pool))
                impls.append(Impl('jax', lambda: jf(jx)))
        title = 'max pool 2x2/2 %dx%dx%dx%d %s' % (N, HW, HW, C, 'fwd+dX' if backward else 'forward')
        return Case(key, title, impls, ref, rtol=1e-5, atol=1e-6)
    build.key = key
    return build


CASES = [_pool_case(False), _pool_case(True)]
