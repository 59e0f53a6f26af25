"""Table rows: convolution and pooling (backend_api.md section 11), against reference_conv.py."""
import numpy as np

from keras_cpp import backend as K

import reference as R
from op_info import *  # noqa: F401,F403  (the table's vocabulary)
from reference_conv import geom, to_first

ROWS = []

CONV_NA = dict(NO_AXIS, broadcast='an input and kernels of their own shapes: nothing broadcasts')
CONV_DTYPES = FLOATS
CONV_TOL = {'float16': (3e-2, 3e-2), 'float32': (1e-4, 1e-4)}


def row(*args, **kwargs):
    kwargs.setdefault('na', CONV_NA)
    kwargs.setdefault('tol', CONV_TOL)
    ROWS.append(OpInfo(*args, **kwargs))


def ph(shape, dtype='float32'):
    return K.placeholder(shape=shape, dtype=dtype)


def fmt_x(x, fmt):
    """A channels_last array laid out for data_format."""
    return np.ascontiguousarray(to_first(x)) if fmt == 'channels_first' else x


def _conv_samples(cases, formats=('channels_last', 'channels_first')):
    """cases: (x shape channels_last, kernel shape, strides, padding, dilation)."""
    def make(dtype, rng):
        return [Sample(fmt_x(arr(xs, dtype, rng), f), arr(ws, dtype, rng), strides=st, padding=pad, data_format=f,
                       dilation_rate=dl) for xs, ws, st, pad, dl in cases for f in formats
                if not (pad == 'causal' and f == 'channels_first')]
    return make


def _grads(*cases):
    """cases: (kwargs, shapes...): float64 inputs of those shapes."""
    return lambda rng: [Sample(*[arr(s, 'float64', rng) for s in shapes], **kw) for kw, *shapes in cases]


# ---------------------------------------------------------------- conv1d / conv2d / conv3d
CONV1D = [((2, 9, 3), (3, 3, 4), 1, 'valid', 1), ((3, 8, 2), (2, 2, 2), 2, 'same', 1), ((1, 7, 1), (3, 1, 2), 1, 'causal', 2),
          ((2, 7, 2), (2, 2, 3), 2, 'causal', 1), ((2, 10, 2), (3, 2, 2), 1, 'same', 3), ((0, 5, 2), (2, 2, 2), 1, 'valid', 1)]
row('conv1d', R.conv1d, _conv_samples(CONV1D), CONV_DTYPES, out_dtype=keep,
    grad_samples=_grads(({'strides': 1, 'padding': 'causal', 'dilation_rate': 2}, (2, 6, 2), (2, 2, 2)),
                        ({'strides': 2, 'padding': 'same', 'data_format': 'channels_first'}, (1, 2, 7), (3, 2, 2))),
    errors=[(lambda: K.conv1d(ph((1, 5, 3)), ph((3, 3))), ValueError, 'rank 3'),
            (lambda: K.conv1d(ph((1, 1, 4)), ph((2, 1, 1)), 1, 'causal', 'channels_first'), ValueError, 'causal')],
    big=lambda rng: [Sample(arr((32, 400, 4), 'float64', rng), arr((3, 4, 8), 'float64', rng), padding='same')])

CONV2D = [((1, 5, 5, 3), (3, 3, 3, 4), (1, 1), 'valid', (1, 1)), ((3, 7, 6, 2), (2, 2, 2, 3), (2, 2), 'same', (1, 1)),
          ((2, 8, 7, 3), (3, 3, 3, 2), (1, 1), 'same', (2, 2)), ((2, 9, 8, 1), (3, 2, 1, 2), (2, 1), 'valid', (1, 1)),
          ((3, 6, 6, 4), (1, 1, 4, 5), (1, 1), 'valid', (1, 1)), ((2, 6, 5, 4), (1, 1, 4, 5), (2, 2), 'same', (1, 1)),
          ((1, 9, 9, 2), (3, 3, 2, 2), (2, 2), 'same', (2, 2)), ((3, 4, 4, 2), (4, 4, 2, 3), (1, 1), 'same', (1, 1)),
          ((0, 4, 4, 2), (3, 3, 2, 2), (1, 1), 'same', (1, 1))]


def _conv2d_errors():
    x = ph((1, 5, 5, 3))
    return [(lambda: K.conv2d(x, ph((3, 3, 4, 2))), ValueError, r'\(3, 3, 4, 2\).*\(1, 5, 5, 3\).*channels_last'),
            (lambda: K.conv2d(x, ph((3, 3, 3, 2)), data_format='channels_first'), ValueError, 'channels_first'),
            (lambda: K.conv2d(x, ph((3, 3, 3, 2)), padding='causal'), ValueError, 'causal'),
            (lambda: K.conv2d(x, ph((3, 3, 3, 2)), padding='SAME'), ValueError, 'SAME'),
            (lambda: K.conv2d(x, ph((3, 3, 3, 2)), data_format='channels_middle'), ValueError, 'channels_middle'),
            (lambda: K.conv2d(ph((1, 2, 2, 3)), ph((3, 3, 3, 2))), ValueError, 'smaller'),
            (lambda: K.conv2d(x, ph((3, 3, 3, 2)), strides=(1, 1, 1)), ValueError, 'strides'),
            (lambda: K.conv2d(ph((1, 5, 5, 3), 'int32'), ph((3, 3, 3, 2), 'int32')), TypeError)]


row('conv2d', R.conv2d, _conv_samples(CONV2D), CONV_DTYPES, out_dtype=keep, errors=_conv2d_errors(),
    grad_samples=_grads(({'strides': (2, 2), 'padding': 'same'}, (2, 5, 4, 2), (2, 3, 2, 2)),
                        ({'padding': 'valid', 'data_format': 'channels_first', 'dilation_rate': (2, 1)}, (1, 2, 6, 4),
                         (2, 2, 2, 3)),
                        ({}, (2, 3, 3, 2), (1, 1, 2, 3))),
    big=lambda rng: [Sample(arr((16, 28, 28, 4), 'float64', rng), arr((3, 3, 4, 8), 'float64', rng), padding='same'),
                     Sample(arr((16, 4, 28, 28), 'float64', rng), arr((3, 3, 4, 8), 'float64', rng), strides=(2, 2),
                            data_format='channels_first')])

CONV3D = [((2, 4, 5, 4, 2), (2, 3, 2, 2, 3), (1, 2, 1), 'same', (1, 1, 1)),
          ((1, 5, 5, 5, 1), (3, 3, 3, 1, 2), (1, 1, 1), 'valid', (1, 1, 2)),
          ((0, 3, 3, 3, 1), (2, 2, 2, 1, 1), (1, 1, 1), 'valid', (1, 1, 1))]
row('conv3d', R.conv3d, _conv_samples(CONV3D), CONV_DTYPES, out_dtype=keep,
    grad_samples=_grads(({'strides': (1, 2, 1), 'padding': 'same'}, (1, 3, 4, 3, 1), (2, 2, 2, 1, 2))),
    errors=[(lambda: K.conv3d(ph((1, 5, 5, 3)), ph((3, 3, 3, 3, 2))), ValueError, 'rank 5')],
    big=lambda rng: [Sample(arr((4, 12, 12, 12, 3), 'float64', rng), arr((3, 3, 3, 3, 4), 'float64', rng), padding='same')])


# ---------------------------------------------------------------- transposed convolutions
TRANSPOSE = [((6, 5), (3, 3, 2, 3), (2, 2), 'same', (1, 1)), ((7, 8), (3, 2, 2, 3), (2, 2), 'valid', (1, 1)),
             ((5, 5), (2, 2, 1, 2), (1, 1), 'same', (1, 1)), ((8, 7), (4, 3, 3, 2), (3, 2), 'valid', (1, 1)),
             ((7, 7), (3, 3, 2, 2), (1, 1), 'same', (2, 2)), ((9, 8), (3, 2, 2, 1), (1, 1), 'valid', (2, 2))]


def _transpose_sample(rng, dtype, n, osp, ws, st, pad, dl, fmt, **kw):
    ins = [geom(o, k, s, d, pad)[0] for o, k, s, d in zip(osp, ws, st, dl)]
    x = arr((n,) + tuple(ins) + (ws[-1],), dtype, rng)
    oshape = (n,) + tuple(osp) + (ws[-2],) if fmt == 'channels_last' else (n, ws[-2]) + tuple(osp)
    return Sample(fmt_x(x, fmt), arr(ws, dtype, rng), oshape, st, pad, fmt, **kw)


def _transpose_samples(dtype, rng):
    out = [_transpose_sample(rng, dtype, 2, *case, fmt, dilation_rate=case[-1]) for case in TRANSPOSE
           for fmt in ('channels_last', 'channels_first')]
    return out + [_transpose_sample(rng, dtype, 0, (6, 5), (3, 3, 2, 3), (2, 2), 'same', (1, 1), 'channels_last')]


def _transpose_errors():
    x, w = ph((1, 3, 3, 2)), ph((3, 3, 4, 2))
    return [(lambda: K.conv2d_transpose(x, w, (1, 9, 6, 4), (2, 2), 'same'), ValueError, 'inconsistent'),
            (lambda: K.conv2d_transpose(x, w, (1, 6, 6, 3), (2, 2), 'same'), ValueError, 'channels'),
            (lambda: K.conv2d_transpose(x, ph((3, 3, 4, 5)), (1, 6, 6, 4), (2, 2), 'same'), ValueError, r'\(3, 3, 4, 5\)'),
            (lambda: K.conv2d_transpose(x, w, (1, 5, 5, 4), (1, 1), 'same', dilation_rate=(2, 1)), ValueError, 'dilation')]


row('conv2d_transpose', R.conv2d_transpose, _transpose_samples, CONV_DTYPES, out_dtype=keep, permutable=False,
    grad_samples=lambda rng: [_transpose_sample(rng, 'float64', 2, (5, 6), (3, 2, 2, 3), (2, 2), 'same', (1, 1),
                                                'channels_last'),
                              _transpose_sample(rng, 'float64', 1, (7, 6), (3, 3, 2, 2), (1, 1), 'valid', (1, 1),
                                                'channels_first')],
    errors=_transpose_errors(),
    big=lambda rng: [_transpose_sample(rng, 'float64', 8, (28, 28), (3, 3, 4, 8), (2, 2), 'same', (1, 1), 'channels_last')])


def _transpose3_samples(dtype, rng):
    return [_transpose_sample(rng, dtype, 2, (5, 4, 8), (2, 3, 2, 2, 3), (2, 2, 2), 'same', (1, 1, 1), f)
            for f in ('channels_last', 'channels_first')] + [
        _transpose_sample(rng, dtype, 1, (4, 3, 3), (2, 1, 2, 1, 2), (1, 1, 1), 'valid', (1, 1, 1), 'channels_last')]


row('conv3d_transpose', R.conv3d_transpose, _transpose3_samples, CONV_DTYPES, out_dtype=keep, permutable=False,
    grad_samples=lambda rng: [_transpose_sample(rng, 'float64', 1, (4, 3, 4), (2, 2, 2, 2, 1), (2, 1, 2), 'same',
                                                (1, 1, 1), 'channels_last')],
    errors=[(lambda: K.conv3d_transpose(ph((1, 3, 3, 2)), ph((3, 3, 4, 2)), (1, 6, 6, 4)), ValueError, 'rank 5')],
    na=dict(CONV_NA, empty="a zero batch is the conv2d_transpose row's (the same kernels)"),
    big=lambda rng: [_transpose_sample(rng, 'float64', 2, (12, 12, 12), (3, 3, 3, 2, 4), (2, 2, 2), 'same', (1, 1, 1),
                                       'channels_last')])


# ---------------------------------------------------------------- depthwise / separable
DEPTHWISE = [((2, 6, 5, 3), (3, 3, 3, 2), (1, 1), 'same', (1, 1)), ((1, 7, 7, 2), (2, 2, 2, 1), (2, 2), 'same', (1, 1)),
             ((3, 8, 6, 4), (3, 2, 4, 3), (1, 2), 'valid', (1, 1)), ((1, 9, 9, 2), (3, 3, 2, 2), (1, 1), 'valid', (2, 2)),
             ((0, 4, 4, 2), (2, 2, 2, 1), (1, 1), 'valid', (1, 1))]
row('depthwise_conv2d', R.depthwise_conv2d, _conv_samples(DEPTHWISE), CONV_DTYPES, out_dtype=keep,
    grad_samples=_grads(({'strides': (2, 1), 'padding': 'same'}, (2, 5, 4, 3), (2, 3, 3, 2))),
    errors=[(lambda: K.depthwise_conv2d(ph((1, 5, 5, 3)), ph((3, 3, 2, 2))), ValueError, r'\(3, 3, 2, 2\)')],
    big=lambda rng: [Sample(arr((16, 28, 28, 4), 'float64', rng), arr((3, 3, 4, 2), 'float64', rng), padding='same')])


def _sep2_samples(dtype, rng):
    out = []
    for xs, ks, st, pad, dl in DEPTHWISE:
        for f in ('channels_last', 'channels_first'):
            out.append(Sample(fmt_x(arr(xs, dtype, rng), f), arr(ks, dtype, rng), arr((1, 1, ks[2] * ks[3], 3), dtype, rng),
                              st, pad, f, dl))
    return out


row('separable_conv2d', R.separable_conv2d, _sep2_samples, CONV_DTYPES, out_dtype=keep,
    grad_samples=lambda rng: [Sample(arr((1, 2, 4, 4), 'float64', rng), arr((2, 2, 2, 2), 'float64', rng),
                                     arr((1, 1, 4, 3), 'float64', rng), (1, 1), 'valid', 'channels_first')],
    errors=[(lambda: K.separable_conv2d(ph((1, 5, 5, 3)), ph((3, 3, 3, 2)), ph((1, 1, 5, 4))), ValueError, 'pointwise')],
    big=lambda rng: [Sample(arr((16, 28, 28, 4), 'float64', rng), arr((3, 3, 4, 2), 'float64', rng),
                            arr((1, 1, 8, 8), 'float64', rng), padding='same')])


def _sep1_samples(dtype, rng):
    out = []
    for xs, ks, st, pad, dl in [((2, 9, 3), (3, 3, 2), 1, 'same', 1), ((1, 10, 2), (2, 2, 1), 2, 'valid', 1),
                                ((2, 9, 2), (3, 2, 2), 1, 'valid', 2), ((0, 5, 2), (2, 2, 1), 1, 'same', 1)]:
        for f in ('channels_last', 'channels_first'):
            out.append(Sample(fmt_x(arr(xs, dtype, rng), f), arr(ks, dtype, rng), arr((1, ks[1] * ks[2], 4), dtype, rng),
                              st, pad, f, dl))
    return out


row('separable_conv1d', R.separable_conv1d, _sep1_samples, CONV_DTYPES, out_dtype=keep,
    grad_samples=lambda rng: [Sample(arr((2, 7, 2), 'float64', rng), arr((3, 2, 1), 'float64', rng),
                                     arr((1, 2, 2), 'float64', rng), 2, 'same')],
    errors=[(lambda: K.separable_conv1d(ph((1, 5, 3)), ph((3, 3, 2)), ph((1, 5, 4))), ValueError, 'pointwise')],
    big=lambda rng: [Sample(arr((32, 400, 4), 'float64', rng), arr((3, 4, 2), 'float64', rng),
                            arr((1, 8, 8), 'float64', rng), padding='same')])


# ---------------------------------------------------------------- pooling
POOL2D = [((2, 5, 6, 3), (2, 2), (2, 2), 'same'), ((1, 7, 7, 2), (3, 3), (1, 1), 'same'), ((3, 6, 7, 1), (2, 3), (2, 1), 'valid'),
          ((2, 4, 4, 2), (3, 3), (3, 3), 'same'), ((1, 5, 5, 20), (2, 2), (1, 1), 'valid'), ((0, 4, 4, 2), (2, 2), (2, 2), 'valid')]


def _pool_samples(cases):
    def make(dtype, rng):
        return [Sample(fmt_x(arr(xs, dtype, rng), f), ps, st, pad, f, mode) for xs, ps, st, pad in cases
                for f in ('channels_last', 'channels_first') for mode in ('max', 'avg')]
    return make


def _pool_errors():
    x = ph((1, 4, 4, 2))
    return [(lambda: K.pool2d(x, (2, 2), pool_mode='median'), ValueError, 'median'),
            (lambda: K.pool2d(x, (2, 2), padding='twice'), ValueError, 'twice'),
            (lambda: K.pool2d(x, (2, 2), data_format='channels_middle'), ValueError, 'channels_middle')]


row('pool2d', R.pool2d, _pool_samples(POOL2D), CONV_DTYPES, out_dtype=keep, errors=_pool_errors(),
    grad_samples=lambda rng: [Sample(distinct((2, 5, 4, 2), 'float64', rng), (2, 2), (2, 1), 'same', pool_mode='max'),
                              Sample(arr((1, 2, 5, 5), 'float64', rng), (3, 2), (2, 2), 'same', 'channels_first', 'avg')],
    big=lambda rng: [Sample(arr((16, 28, 28, 8), 'float64', rng), (2, 2), (2, 2), pool_mode='max'),
                     Sample(arr((16, 8, 28, 28), 'float64', rng), (3, 3), (1, 1), 'same', 'channels_first', 'avg')])
POOL3D = [((2, 5, 4, 6, 3), (2, 2, 2), (2, 2, 2), 'same'), ((2, 5, 4, 6, 3), (3, 2, 3), (1, 2, 2), 'valid'),
          ((1, 2, 2, 2, 1), (1, 1, 1), (1, 1, 1), 'valid')]
row('pool3d', R.pool3d, _pool_samples(POOL3D), CONV_DTYPES, out_dtype=keep,
    grad_samples=lambda rng: [Sample(distinct((1, 3, 4, 3, 2), 'float64', rng), (2, 2, 2), (1, 2, 1), 'valid')],
    errors=[(lambda: K.pool3d(ph((1, 4, 4, 2)), (2, 2, 2)), ValueError, 'rank 5')],
    na=dict(CONV_NA, empty="a zero batch is the pool2d row's (one pooling kernel)"),
    big=lambda rng: [Sample(arr((4, 12, 12, 12, 4), 'float64', rng), (2, 2, 2), (2, 2, 2), pool_mode='avg')])


# ---------------------------------------------------------------- unshared (local) convolutions
def _local1_samples(dtype, rng):
    out = []
    for f in ('channels_last', 'channels_first'):
        out.append(Sample(fmt_x(arr((3, 9, 2), dtype, rng), f), arr((4, 3 * 2, 5), dtype, rng), (3,), (2,), f))
        out.append(Sample(fmt_x(arr((1, 4, 1), dtype, rng), f), arr((3, 2, 1), dtype, rng), (2,), (1,), f))
    return out


row('local_conv1d', R.local_conv1d, _local1_samples, CONV_DTYPES, out_dtype=keep, permutable=False,
    grad_samples=lambda rng: [Sample(arr((2, 4, 2), 'float64', rng), arr((3, 4, 2), 'float64', rng), (2,), (1,))],
    errors=[(lambda: K.local_conv1d(ph((2, 9, 2)), ph((4, 5, 3)), (3,), (2,)), ValueError)],
    na=dict(CONV_NA, empty="the kernel holds one matrix per output position: a zero batch is the conv rows'"),
    big=lambda rng: [Sample(arr((64, 40, 4), 'float64', rng), arr((38, 12, 8), 'float64', rng), (3,), (1,))])


def _local2_samples(dtype, rng):
    out = []
    for f in ('channels_last', 'channels_first'):
        out.append(Sample(fmt_x(arr((2, 6, 7, 3), dtype, rng), f), arr((2 * 3, 3 * 2 * 3, 4), dtype, rng), (3, 2), (2, 2),
                          (2, 3), f))
        out.append(Sample(fmt_x(arr((1, 2, 2, 1), dtype, rng), f), arr((1, 4, 1), dtype, rng), (2, 2), (1, 1), (1, 1), f))
    return out


row('local_conv2d', R.local_conv2d, _local2_samples, CONV_DTYPES, out_dtype=keep, permutable=False,
    grad_samples=lambda rng: [Sample(arr((2, 2, 3, 4), 'float64', rng), arr((4, 8, 2), 'float64', rng), (2, 2), (1, 2),
                                     (2, 2), 'channels_first')],
    errors=[(lambda: K.local_conv2d(ph((2, 6, 7, 3)), ph((6, 5, 4)), (3, 2), (2, 2), (2, 3)), ValueError)],
    na=dict(CONV_NA, empty="the kernel holds one matrix per output position: a zero batch is the conv rows'"),
    big=lambda rng: [Sample(arr((32, 12, 12, 3), 'float64', rng), arr((100, 27, 4), 'float64', rng), (3, 3), (1, 1),
                            (10, 10))])
