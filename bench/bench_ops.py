"""Op-surface benchmarks (issue 4): logsumexp, crossentropy from logits, concatenate, transpose,
gather, and a dropout + batch_normalization chain. Same conventions as bench_core.py: each case
times a compiled K.function called with numpy arrays against numpy and the available peers."""
import numpy as np

from keras_cpp import backend as K

from bench_core import Case, Impl, _jax_block

AREA = 'ops'


def _peer_impls(p, np_fn, torch_fn=None, tf_fn=None, jax_fn=None, args=()):
    impls = [Impl('numpy', lambda: np_fn(*args))]
    if p.torch and torch_fn:
        targs = [p.torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
        impls.append(Impl('torch', lambda: torch_fn(p.torch, *targs)))
    if p.tf and tf_fn:
        tf = p.tf
        cargs = [tf.constant(a) if isinstance(a, np.ndarray) else a for a in args]
        tf_f = tf.function(lambda *v: tf_fn(tf, *v))
        impls.append(Impl('tensorflow', lambda: tf_f(*cargs)))
    if p.jax and jax_fn:
        jargs = [p.jax.device_put(a) if isinstance(a, np.ndarray) else a for a in args]
        jax_f = _jax_block(p.jax.jit(lambda *v: jax_fn(p.jax, *v)))
        impls.append(Impl('jax', lambda: jax_f(*jargs)))
    return impls


def case_logsumexp(p, rng):
    x = rng.standard_normal((256, 1000), dtype=np.float32) * 3

    def np_lse(v):
        m = v.max(axis=-1, keepdims=True)
        return (np.log(np.exp(v - m).sum(axis=-1, keepdims=True)) + m)[:, 0]

    ref = np_lse(x.astype(np.float64)).astype(np.float32)
    px = K.placeholder(shape=(None, 1000))
    f = K.function([px], [K.logsumexp(px, axis=-1)])
    impls = [Impl('keras_cpp', lambda: f([x])[0])] + _peer_impls(
        p, np_lse, lambda t, v: t.logsumexp(v, dim=-1), lambda tf, v: tf.reduce_logsumexp(v, axis=-1),
        lambda jax, v: jax.scipy.special.logsumexp(v, axis=-1), args=(x,))
    return Case('logsumexp', 'logsumexp 256x1000 axis -1', impls, ref, rtol=1e-4, atol=1e-5)


case_logsumexp.key = 'logsumexp'


def case_xent_logits(p, rng):
    z = rng.standard_normal((256, 1000), dtype=np.float32) * 3
    t = np.eye(1000, dtype=np.float32)[rng.integers(0, 1000, 256)]

    def np_xent(zz, tt):
        m = zz.max(axis=-1, keepdims=True)
        lsm = zz - m - np.log(np.exp(zz - m).sum(axis=-1, keepdims=True))
        return -(tt * lsm).sum(axis=-1)

    ref = np_xent(z.astype(np.float64), t).astype(np.float32)
    pz, pt = K.placeholder(shape=(None, 1000)), K.placeholder(shape=(None, 1000))
    f = K.function([pt, pz], [K.categorical_crossentropy(pt, pz, from_logits=True)])
    impls = [Impl('keras_cpp', lambda: f([t, z])[0])] + _peer_impls(
        p, np_xent,
        lambda th, zz, tt: -(tt * th.log_softmax(zz, dim=-1)).sum(-1),
        lambda tf, zz, tt: tf.nn.softmax_cross_entropy_with_logits(labels=tt, logits=zz),
        lambda jax, zz, tt: -(tt * jax.nn.log_softmax(zz, axis=-1)).sum(-1), args=(z, t))
    return Case('xent_logits', 'categorical xent from logits 256x1000', impls, ref, rtol=1e-4, atol=1e-4)


case_xent_logits.key = 'xent_logits'


def case_concatenate(p, rng):
    xs = [rng.standard_normal((1024, 256), dtype=np.float32) for _ in range(3)]
    ref = np.concatenate(xs, axis=-1)
    ps = [K.placeholder(shape=(None, 256)) for _ in range(3)]
    f = K.function(ps, [K.concatenate(ps, axis=-1)])
    impls = [Impl('keras_cpp', lambda: f(xs)[0])] + _peer_impls(
        p, lambda a, b, c: np.concatenate([a, b, c], axis=-1), lambda th, a, b, c: th.cat([a, b, c], dim=-1),
        lambda tf, a, b, c: tf.concat([a, b, c], axis=-1), lambda jax, a, b, c: jax.numpy.concatenate([a, b, c], axis=-1),
        args=tuple(xs))
    return Case('concatenate', 'concatenate 3x(1024,256) axis -1', impls, ref, nbytes=2 * ref.nbytes)


case_concatenate.key = 'concatenate'


def case_transpose(p, rng):
    x = rng.standard_normal((1024, 1024), dtype=np.float32)
    ref = np.ascontiguousarray(x.T)
    px = K.placeholder(shape=(None, None))
    f = K.function([px], [K.transpose(px) * 1.0])  # materialized: a view would cost nothing
    impls = [Impl('keras_cpp', lambda: f([x])[0])] + _peer_impls(
        p, lambda a: np.ascontiguousarray(a.T), lambda th, a: a.t().contiguous(),
        lambda tf, a: tf.transpose(a), lambda jax, a: a.T, args=(x,))
    return Case('transpose', 'transpose 1024x1024 (materialized)', impls, ref, nbytes=2 * ref.nbytes)


case_transpose.key = 'transpose'


def case_gather(p, rng):
    table = rng.standard_normal((50000, 128), dtype=np.float32)
    idx = rng.integers(0, 50000, 4096).astype(np.int32)
    ref = table[idx]
    pt, pi = K.placeholder(shape=(None, 128)), K.placeholder(shape=(None,), dtype='int32')
    f = K.function([pt, pi], [K.gather(pt, pi)])
    impls = [Impl('keras_cpp', lambda: f([table, idx])[0])] + _peer_impls(
        p, lambda a, i: a[i], lambda th, a, i: a[i.long()], lambda tf, a, i: tf.gather(a, i),
        lambda jax, a, i: a[i], args=(table, idx))
    return Case('gather', 'gather 4096 rows of (50000,128)', impls, ref, nbytes=2 * ref.nbytes)


case_gather.key = 'gather'


def case_dropout_bn(p, rng):
    """dropout (level 0 so every library gives the same numbers) then batch normalization."""
    x = rng.standard_normal((256, 1024), dtype=np.float32)
    mean = rng.standard_normal(1024).astype(np.float32)
    var = rng.random(1024).astype(np.float32) + 0.5
    beta = rng.standard_normal(1024).astype(np.float32)
    gamma = rng.standard_normal(1024).astype(np.float32)

    def np_chain(v, m, s, b, g):
        return (v - m) / np.sqrt(s + 1e-3) * g + b

    ref = np_chain(x.astype(np.float64), mean, var, beta, gamma).astype(np.float32)
    px = K.placeholder(shape=(None, 1024))
    cs = [K.constant(a) for a in (mean, var, beta, gamma)]
    f = K.function([px], [K.batch_normalization(K.dropout(px, 0.0), cs[0], cs[1], cs[2], cs[3], epsilon=1e-3)])
    impls = [Impl('keras_cpp', lambda: f([x])[0])] + _peer_impls(
        p, np_chain,
        lambda th, v, m, s, b, g: th.nn.functional.batch_norm(th.nn.functional.dropout(v, 0.0), m, s, g, b, False, 0.0, 1e-3),
        lambda tf, v, m, s, b, g: tf.nn.batch_normalization(tf.nn.dropout(v, rate=0.0), m, s, b, g, 1e-3),
        lambda jax, v, m, s, b, g: (v - m) / jax.numpy.sqrt(s + 1e-3) * g + b,
        args=(x, mean, var, beta, gamma))
    return Case('dropout_bn', 'dropout(0) + batch_normalization 256x1024', impls, ref, rtol=1e-4, atol=1e-4)


case_dropout_bn.key = 'dropout_bn'

CASES = [case_logsumexp, case_xent_logits, case_concatenate, case_transpose, case_gather, case_dropout_bn]
