"""Elementwise, reduction and data-movement benchmarks (issue 12): one pass each over tensors
larger than the caches, with the bytes moved given so the runner prints GB/s next to the
memory-bandwidth probe. Same conventions as bench_core.py: a compiled K.function called with
numpy arrays against numpy and the available peers (each on its own tensor type)."""
import numpy as np

from keras_cpp import backend as K

from bench_core import Case, Impl, _jax_block

AREA = 'elementwise'
ROWS, COLS = 4096, 1024  # 16 MiB of float32: past the L2 and most of the L3 of a small machine


def _impls(p, kc, np_fn, torch_fn=None, tf_fn=None, jax_fn=None, args=()):
    impls = [Impl('keras_cpp', kc), Impl('numpy', lambda: np_fn(*args))]
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


# ---------------------------------------------------------------- elementwise, one pass each
UNARY = {
    # name: (keras_cpp, numpy, torch, tf, jax, float64 reference, input range)
    'relu': (K.relu, lambda v: np.maximum(v, 0), lambda t, v: t.relu(v), lambda tf, v: tf.nn.relu(v),
             lambda jax, v: jax.nn.relu(v), lambda v: np.maximum(v, 0), 3.0),
    'exp': (K.exp, np.exp, lambda t, v: t.exp(v), lambda tf, v: tf.exp(v), lambda jax, v: jax.numpy.exp(v), np.exp, 3.0),
    'tanh': (K.tanh, np.tanh, lambda t, v: t.tanh(v), lambda tf, v: tf.tanh(v), lambda jax, v: jax.numpy.tanh(v), np.tanh, 3.0),
    'sigmoid': (K.sigmoid, lambda v: 1 / (1 + np.exp(-v)), lambda t, v: t.sigmoid(v), lambda tf, v: tf.sigmoid(v),
                lambda jax, v: jax.nn.sigmoid(v), lambda v: 1 / (1 + np.exp(-v)), 3.0),
    'log': (lambda v: K.log(v), np.log, lambda t, v: t.log(v), lambda tf, v: tf.math.log(v), lambda jax, v: jax.numpy.log(v),
            np.log, None),
}


def _unary(name):
    kf, npf, tf_t, tf_tf, tf_j, ref_f, scale = UNARY[name]

    def build(p, rng):
        x = rng.standard_normal((ROWS, COLS), dtype=np.float32) * np.float32(scale) if scale else \
            rng.random((ROWS, COLS), dtype=np.float32) + np.float32(0.01)
        ref = ref_f(x.astype(np.float64)).astype(np.float32)
        px = K.placeholder(shape=(None, COLS))
        f = K.function([px], [kf(px)])
        impls = _impls(p, lambda: f([x])[0], npf, tf_t, tf_tf, tf_j, args=(x,))
        return Case('ew_' + name, '%s %dx%d' % (name, ROWS, COLS), impls, ref, rtol=2e-6, atol=1e-6,
                    nbytes=2 * x.nbytes)
    build.key = 'ew_' + name
    return build


BINARY = {
    'add': (lambda a, b: a + b, lambda a, b: a + b),
    'multiply_row': (lambda a, b: a * b, lambda a, b: a * b),  # b is one row, broadcast
    'maximum': (lambda a, b: K.maximum(a, b), np.maximum),
}


def _binary(name):
    kf, npf = BINARY[name]

    def build(p, rng):
        a = rng.standard_normal((ROWS, COLS), dtype=np.float32)
        b = rng.standard_normal((COLS,) if name.endswith('_row') else (ROWS, COLS), dtype=np.float32)
        ref = npf(a, b)
        pa, pb = K.placeholder(shape=(None, COLS)), K.placeholder(shape=b.shape)
        f = K.function([pa, pb], [kf(pa, pb)])
        tnp = {'add': lambda t, x, y: x + y, 'multiply_row': lambda t, x, y: x * y, 'maximum': lambda t, x, y: t.maximum(x, y)}[name]
        ttf = {'add': lambda tf, x, y: x + y, 'multiply_row': lambda tf, x, y: x * y, 'maximum': lambda tf, x, y: tf.maximum(x, y)}[name]
        tjx = {'add': lambda j, x, y: x + y, 'multiply_row': lambda j, x, y: x * y, 'maximum': lambda j, x, y: j.numpy.maximum(x, y)}[name]
        impls = _impls(p, lambda: f([a, b])[0], npf, tnp, ttf, tjx, args=(a, b))
        return Case('ew_' + name, '%s %dx%d%s' % (name, ROWS, COLS, ' * row' if name.endswith('_row') else ''),
                    impls, ref, rtol=1e-6, atol=1e-6, nbytes=a.nbytes + b.nbytes + a.nbytes)
    build.key = 'ew_' + name
    return build


# ---------------------------------------------------------------- reductions
def _reduction(key, title, k_fn, np_fn, t_fn, tf_fn, j_fn):
    def build(p, rng):
        x = rng.standard_normal((ROWS, COLS), dtype=np.float32)
        ref = np_fn(x.astype(np.float64)).astype(np.float32)
        px = K.placeholder(shape=(None, COLS))
        f = K.function([px], [k_fn(px)])
        impls = _impls(p, lambda: f([x])[0], np_fn, t_fn, tf_fn, j_fn, args=(x,))
        return Case(key, title, impls, ref, rtol=1e-4, atol=1e-4, nbytes=x.nbytes)
    build.key = key
    return build


case_mean_all = _reduction('mean_all', 'mean (all axes) %dx%d' % (ROWS, COLS), lambda v: K.mean(v), lambda v: np.mean(v),
                           lambda t, v: v.mean(), lambda tf, v: tf.reduce_mean(v), lambda j, v: j.numpy.mean(v))
case_mean_rows = _reduction('mean_axis0', 'mean(axis=0) %dx%d' % (ROWS, COLS), lambda v: K.mean(v, axis=0),
                            lambda v: np.mean(v, axis=0), lambda t, v: v.mean(0), lambda tf, v: tf.reduce_mean(v, axis=0),
                            lambda j, v: j.numpy.mean(v, axis=0))
case_max_last = _reduction('max_last', 'max(axis=-1) %dx%d' % (ROWS, COLS), lambda v: K.max(v, axis=-1),
                           lambda v: np.max(v, axis=-1), lambda t, v: v.amax(-1), lambda tf, v: tf.reduce_max(v, axis=-1),
                           lambda j, v: j.numpy.max(v, axis=-1))


# ---------------------------------------------------------------- data movement
def _movement(key, title, shape, k_fn, np_fn, t_fn, tf_fn, j_fn, dtype=np.float32, in_place_ok=False):
    def build(p, rng):
        x = rng.standard_normal(shape).astype(dtype)
        ref = np_fn(x)
        px = K.placeholder(shape=shape, dtype=np.dtype(dtype).name)
        f = K.function([px], [k_fn(px)])
        impls = _impls(p, lambda: f([x])[0], np_fn, t_fn, tf_fn, j_fn, args=(x,))
        return Case(key, title, impls, ref, rtol=0, atol=0, nbytes=x.nbytes + ref.nbytes)
    build.key = key
    return build


case_permute = _movement(
    'permute_nhwc_nchw', 'permute_dimensions (16,56,56,64) -> (0,3,1,2)', (16, 56, 56, 64),
    lambda v: K.permute_dimensions(v, (0, 3, 1, 2)), lambda v: np.ascontiguousarray(v.transpose(0, 3, 1, 2)),
    lambda t, v: v.permute(0, 3, 1, 2).contiguous(), lambda tf, v: tf.transpose(v, (0, 3, 1, 2)),
    lambda j, v: j.numpy.transpose(v, (0, 3, 1, 2)))
case_tile = _movement(
    'tile', 'tile (512,512) x (4,2)', (512, 512), lambda v: K.tile(v, (4, 2)), lambda v: np.tile(v, (4, 2)),
    lambda t, v: v.tile((4, 2)), lambda tf, v: tf.tile(v, (4, 2)), lambda j, v: j.numpy.tile(v, (4, 2)))
case_pad = _movement(
    'pad', 'spatial_2d_padding (16,56,56,64) by 1', (16, 56, 56, 64),
    lambda v: K.spatial_2d_padding(v, ((1, 1), (1, 1)), 'channels_last'),
    lambda v: np.pad(v, ((0, 0), (1, 1), (1, 1), (0, 0))),
    lambda t, v: t.nn.functional.pad(v, (0, 0, 1, 1, 1, 1)), lambda tf, v: tf.pad(v, ((0, 0), (1, 1), (1, 1), (0, 0))),
    lambda j, v: j.numpy.pad(v, ((0, 0), (1, 1), (1, 1), (0, 0))))
case_resize = _movement(
    'resize_nearest', 'resize_images nearest x2 (16,28,28,64)', (16, 28, 28, 64),
    lambda v: K.resize_images(v, 2, 2, 'channels_last'), lambda v: v.repeat(2, axis=1).repeat(2, axis=2),
    lambda t, v: v.repeat_interleave(2, 1).repeat_interleave(2, 2),
    lambda tf, v: tf.repeat(tf.repeat(v, 2, axis=1), 2, axis=2),
    lambda j, v: j.numpy.repeat(j.numpy.repeat(v, 2, axis=1), 2, axis=2))
case_reverse = _movement(
    'reverse', 'reverse axis 1 of %dx%d' % (ROWS, COLS), (ROWS, COLS), lambda v: K.reverse(v, 1),
    lambda v: np.ascontiguousarray(v[:, ::-1]), lambda t, v: t.flip(v, (1,)), lambda tf, v: tf.reverse(v, [1]),
    lambda j, v: j.numpy.flip(v, 1))

CASES = ([_unary(n) for n in UNARY] + [_binary(n) for n in BINARY] +
         [case_mean_all, case_mean_rows, case_max_last, case_permute, case_tile, case_pad, case_resize, case_reverse])
