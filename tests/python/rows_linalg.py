"""Table rows: linear algebra and shape ops."""
import numpy as np

from keras_cpp import backend as K

import reference as R
from op_info import *  # noqa: F401,F403  (the table's vocabulary)

ROWS = []


def row(*args, **kwargs):
    ROWS.append(OpInfo(*args, **kwargs))


# linear algebra
def _dot_samples(dtype, rng):
    pairs = [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (4, 3, 5)), ((2, 3, 4), (5, 4, 6)),
             ((3, 2, 3), (3, 4)), ((4, 2), (5, 2, 3)), ((0, 3), (3, 2)), ((2, 0), (0, 3)), ((1, 1), (1, 1))]
    return [Sample(arr(a, dtype, rng), arr(b, dtype, rng)) for a, b in pairs]


row('dot', R.dot, _dot_samples, NUMERIC, tol={'float16': (3e-2, 3e-2)},
    grad_samples=lambda rng: [Sample(arr(a, 'float64', rng), arr(b, 'float64', rng))
                              for a, b in [((2, 3), (3, 4)), ((2, 3), (4, 3, 2)), ((2, 3, 4), (4, 2))]],
    errors=[(lambda: K.dot(c(np.zeros((2, 3))), c(np.zeros((4, 2)))), ValueError)], out_dtype=keep,
    na=dict(NO_AXIS, broadcast='contracts x\'s last axis with y\'s second-to-last: no broadcasting'),
    big=lambda rng: [Sample(arr((160, 128), 'float64', rng), arr((128, 128), 'float64', rng)),
                     Sample(arr((4, 40, 128), 'float64', rng), arr((128, 128), 'float64', rng))])


def _matmul_samples(dtype, rng):
    pairs = [((2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (3, 4)), ((2, 1, 2, 3), (4, 3, 2)),
             ((0, 2, 3), (3, 1)), ((1, 1), (1, 1))]
    return [Sample(arr(a, dtype, rng), arr(b, dtype, rng)).tag(*(['broadcast'] if len(a) != len(b) else []))
            for a, b in pairs]


row('matmul', R.matmul, _matmul_samples, NUMERIC, tol={'float16': (3e-2, 3e-2)},
    grad_samples=lambda rng: [Sample(arr(a, 'float64', rng), arr(b, 'float64', rng))
                              for a, b in [((2, 3), (3, 4)), ((2, 2, 3), (3, 2)), ((2, 2, 3), (2, 3, 2))]],
    errors=[(lambda: K.matmul(c(np.zeros((2, 3))), c(np.zeros((4, 2)))), ValueError)], out_dtype=keep, na=NO_AXIS,
    big=lambda rng: [Sample(arr((160, 128), 'float64', rng), arr((128, 128), 'float64', rng)),
                     Sample(arr((160, 8, 16), 'float64', rng), arr((160, 16, 8), 'float64', rng))])

BATCH_DOT_CASES = [((4, 2, 3), (4, 5, 3), (2, 2)), ((4, 2, 3), (4, 3), (2, 1)), ((4, 2), (4, 2, 3), (1, 1)),
                   ((3, 5), (3, 5), 1), ((3, 3, 4, 5), (3, 2, 3, 4), (2, 3)), ((3, 3, 4, 5), (3, 2, 4), 2),
                   ((3, 3, 4), (3, 2, 3, 4), (2, 3)), ((3, 4, 3), (3, 3, 5), (2, 1)), ((3, 4), (3, 3, 4), (1, 2)),
                   ((3, 4), (3, 4), None), ((3, 3, 4), (3, 4, 5), None), ((2, 5, 1), (2, 3, 5), (1, 2)),
                   ((3, 3, 4), (3, 5, 4), (-1, -1)), ((0, 2, 3), (0, 3, 2), (2, 1))]


def _bd_samples(dtype, rng):
    return [Sample(arr(a, dtype, rng), arr(b, dtype, rng), axes=ax) for a, b, ax in BATCH_DOT_CASES]


row('batch_dot', R.batch_dot, _bd_samples, FLOATS + ('int32', 'int64'), tol={'float16': (3e-2, 3e-2)},
    grad_samples=lambda rng: [Sample(arr(a, 'float64', rng), arr(b, 'float64', rng), axes=ax)
                              for a, b, ax in BATCH_DOT_CASES[:5] + BATCH_DOT_CASES[9:11]],
    errors=[(lambda: K.batch_dot(c(np.zeros((2, 3))), c(np.zeros((2, 3))), axes=0), ValueError),
            (lambda: K.batch_dot(c(np.zeros((3,))), c(np.zeros((3, 3)))), ValueError),
            (lambda: K.batch_dot(c(np.zeros((2, 3))), c(np.zeros((4, 3)))), ValueError),
            (lambda: K.batch_dot(c(np.zeros((2, 3, 4))), c(np.zeros((2, 5, 4))), axes=(2, 1)), ValueError),
            (lambda: K.batch_dot(c(np.zeros((2, 3, 4))), c(np.zeros((2, 4, 4))), axes=[[1], [2]]), ValueError)],
    out_dtype=keep, na={'broadcast': 'the batch dims must be equal: batch_dot does not broadcast'},
    big=lambda rng: [Sample(arr((160, 8, 16), 'float64', rng), arr((160, 8, 16), 'float64', rng), axes=(2, 2)),
                     Sample(arr((2, 160, 128), 'float64', rng), arr((2, 128, 128), 'float64', rng), axes=(2, 1))])
row('transpose', R.transpose, unary_samples(shapes=[(), (3,), (2, 3), (2, 3, 4), (0, 2), (1, 1)]), ALL,
    grad_samples=lambda rng: [Sample(arr((2, 3, 4), 'float64', rng))],
    errors=[(lambda: K.transpose('x'), (TypeError, ValueError))], out_dtype=keep, na=dict(ONE_INPUT, **NO_AXIS),
    big=lambda rng: [Sample(arr((256, 300), 'float64', rng)), Sample(arr((30, 40, 64), 'float64', rng))])


# shape ops
def _reshape_samples(dtype, rng):
    x = arr((2, 3, 4), dtype, rng)
    return [Sample(x, (6, 4)), Sample(x, (-1,)), Sample(x, (4, -1, 2)), Sample(x, [24, 1]),
            Sample(arr((0, 3), dtype, rng), (3, 0)), Sample(arr((), dtype, rng), (1, 1)),
            Sample(arr((1, 4), dtype, rng), (2, 2))]


row('reshape', R.reshape, _reshape_samples, ALL,
    grad_samples=lambda rng: [Sample(arr((2, 3, 4), 'float64', rng), (4, 6))],
    errors=[(lambda: K.reshape(c(np.zeros((2, 3))), (4, 2)), ValueError),
            (lambda: K.reshape(c(np.zeros((2, 3))), (-1, -1)), ValueError)], out_dtype=keep,
    na=dict(ONE_INPUT, **NO_AXIS), big=lambda rng: [Sample(noncontig(arr((256, 300), 'float64', rng)), (300, 256))])


def _perm_samples(dtype, rng):
    x = arr((2, 3, 4), dtype, rng)
    return [Sample(x, (2, 0, 1)), Sample(x, [0, 2, 1]), Sample(x, (0, 1, 2)),
            Sample(arr((0, 3), dtype, rng), (1, 0)), Sample(arr((1, 2, 1, 3), dtype, rng), (3, 1, 0, 2))]


row('permute_dimensions', R.permute_dimensions, _perm_samples, ALL,
    grad_samples=lambda rng: [Sample(arr((2, 3, 4), 'float64', rng), (2, 0, 1))],
    errors=[(lambda: K.permute_dimensions(c(np.zeros((2, 3))), (0, 0)), ValueError),
            (lambda: K.permute_dimensions(c(np.zeros((2, 3))), (0, 1, 2)), ValueError)], out_dtype=keep,
    na=dict(ONE_INPUT, negative_axis='a pattern lists every axis by its non-negative index (as in Keras)'),
    big=lambda rng: [Sample(arr((30, 40, 64), 'float64', rng), (2, 0, 1))])


def _expand_samples(dtype, rng):
    x = arr((2, 3), dtype, rng)
    return [Sample(x), Sample(x, 0), Sample(x, 1), Sample(x, -1).tag('negative_axis'), Sample(x, -3),
            Sample(arr((), dtype, rng), 0), Sample(arr((0,), dtype, rng), 1), Sample(arr((1, 1), dtype, rng), 1)]


row('expand_dims', R.expand_dims, _expand_samples, ALL,
    grad_samples=lambda rng: [Sample(arr((2, 3), 'float64', rng), 1)],
    errors=[(lambda: K.expand_dims(c(np.zeros((2, 3))), 4), ValueError)], out_dtype=keep,
    na=dict(ONE_INPUT, parallel='a view of its input: no kernel runs'))


def _squeeze_samples(dtype, rng):
    x = arr((2, 1, 3, 1), dtype, rng)
    return [Sample(x, 1), Sample(x, -1).tag('negative_axis'), Sample(x, 3), Sample(arr((1,), dtype, rng), 0),
            Sample(arr((0, 1), dtype, rng), 1)]


row('squeeze', R.squeeze, _squeeze_samples, ALL,
    grad_samples=lambda rng: [Sample(arr((2, 1, 3), 'float64', rng), 1)],
    errors=[(lambda: K.squeeze(c(np.zeros((2, 3))), 0), ValueError),
            (lambda: K.squeeze(c(np.zeros((2, 1))), 2), ValueError)], out_dtype=keep,
    na=dict(ONE_INPUT, parallel='a view of its input: no kernel runs'))
row('shape', R.shape, unary_samples(shapes=[(), (3,), (2, 3), (0, 4, 1)]), ALL, differentiable=False,
    grad_samples=unary_grad(), errors=[(lambda: K.shape(), TypeError)], out_dtype=always('int32'),
    na=dict(ONE_INPUT, parallel='reads the shape: no kernel over the data', **NO_AXIS))


def _like_samples(dtype, rng):
    return [Sample(arr(s, dtype, rng)) for s in [(2, 3), (), (0, 2), (1, 3)]] + \
        [Sample(arr((2, 3), dtype, rng), dtype='int32'), Sample(arr((2, 3), dtype, rng), dtype='float64')]


row('zeros_like', R.zeros_like, _like_samples, ALL, differentiable=False, grad_samples=unary_grad(),
    errors=[(lambda: K.zeros_like(c([1.0]), dtype='nope'), TypeError)],
    na=dict(ONE_INPUT, parallel='a fill on the calling thread (no parallel_for)', **NO_AXIS))
row('ones_like', R.ones_like, _like_samples, ALL, differentiable=False, grad_samples=unary_grad(),
    errors=[(lambda: K.ones_like(c([1.0]), dtype='nope'), TypeError)], na=dict(ONE_INPUT, **NO_AXIS),
    big=big_unary())


def _onehot_samples(dtype, rng):
    return [Sample(np.array([[0, 2], [1, 3]], dtype), 3), Sample(np.array([0, 1, 2, 1], dtype), 4),
            Sample(np.array([[1], [0]], dtype), 2), Sample(np.zeros((0,), dtype), 3)]


row('one_hot', R.one_hot, _onehot_samples, ('int32', 'int64', 'uint8'), differentiable=False,
    grad_samples=lambda rng: [Sample(np.array([0, 1], 'int32'), 2)],
    errors=[(lambda: K.one_hot(c([0, 1], 'int32'), -2), ValueError)], out_dtype=always('float32'),
    permutable=False, na=dict(ONE_INPUT, parallel='a fill and a scatter on the calling thread (no parallel_for)',
                              **NO_AXIS))

