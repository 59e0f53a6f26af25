"""Table rows: activations, losses, normalization and nn helpers."""
import numpy as np

from keras_cpp import backend as K

import reference as R
from op_info import *  # noqa: F401,F403  (the table's vocabulary)

ROWS = []


def row(*args, **kwargs):
    ROWS.append(OpInfo(*args, **kwargs))


# nn
RELU_KW = [{}, {'alpha': 0.1}, {'max_value': 5.0}, {'threshold': 0.8}, {'alpha': 0.1, 'max_value': 5.0, 'threshold': 0.8},
           {'alpha': 0.1, 'max_value': 0.0, 'threshold': 0.8}, {'alpha': 0.1, 'max_value': 5.0, 'threshold': -2.8},
           {'threshold': -2.8}, {'alpha': 0.1, 'max_value': 6.0}]


def _relu_samples(dtype, rng):
    x = arr((3, 4), dtype, rng, -8, 8)
    kws = RELU_KW if dtype in FLOATS else [kw for kw in RELU_KW if not kw.get('alpha')]  # leaky int -> float
    return [Sample(x, **kw) for kw in kws] + [Sample(arr(s, dtype, rng)) for s in [(), (0, 2), (2, 1, 3)]]


def _big_relu(rng):
    x = away((256, 300), 'float64', rng, (0.0, 0.8, 5.0), low=-8, high=8)
    return [Sample(x), Sample(x, alpha=0.1, max_value=5.0, threshold=0.8)]


row('relu', R.relu, _relu_samples, FLOATS + ('int32', 'int64'),
    grad_samples=lambda rng: [Sample(distinct((3, 4), 'float64', rng) * 4 + 0.013, **kw) for kw in RELU_KW],
    errors=[(lambda: K.relu(c([1.0]), alpha='a'), TypeError)], out_dtype=keep, na=dict(ONE_INPUT, **NO_AXIS),
    big=_big_relu)


def _softmax_samples(dtype, rng):
    return [Sample(arr((2, 5), dtype, rng)), Sample(arr((2, 3, 4), dtype, rng), axis=1),
            Sample(arr((2, 3, 4), dtype, rng), axis=0), Sample(arr((4,), dtype, rng)),
            Sample(arr((3, 1), dtype, rng)), Sample(arr((0, 3), dtype, rng)), Sample(arr((2, 3, 4), dtype, rng), axis=-2)]


row('softmax', R.softmax, _softmax_samples, FLOATS,
    grad_samples=lambda rng: [Sample(arr((2, 4), 'float64', rng)), Sample(arr((2, 3, 2), 'float64', rng), axis=1)],
    errors=[(lambda: K.softmax(c(np.zeros((2, 3))), axis=2), ValueError)], out_dtype=keep, na=ONE_INPUT,
    big=lambda rng: [Sample(arr((256, 300), 'float64', rng)), Sample(arr((64, 40, 30), 'float64', rng), axis=1)])


def _bias_samples(dtype, rng):
    return [Sample(arr((2, 3), dtype, rng), arr((3,), dtype, rng)),
            Sample(arr((2, 4, 3), dtype, rng), arr((3,), dtype, rng)),
            Sample(arr((2, 3, 4), dtype, rng), arr((3,), dtype, rng), data_format='channels_first'),
            Sample(arr((2, 4, 5, 3), dtype, rng), arr((3,), dtype, rng), data_format='channels_last'),
            Sample(arr((2, 3, 4, 5), dtype, rng), arr((3,), dtype, rng), data_format='channels_first'),
            Sample(arr((1, 3, 2), dtype, rng), arr((2, 3), dtype, rng), data_format='channels_first'),
            Sample(arr((2, 4, 3), dtype, rng), arr((4, 3), dtype, rng), data_format='channels_last'),
            Sample(arr((2, 2, 2, 2, 3), dtype, rng), arr((3,), dtype, rng)),
            Sample(arr((0, 3), dtype, rng), arr((3,), dtype, rng)), Sample(arr((2, 1), dtype, rng), arr((1,), dtype, rng))]


row('bias_add', R.bias_add, _bias_samples, FLOATS + ('int32',), permutable=False,
    grad_samples=lambda rng: [Sample(arr((2, 4, 3), 'float64', rng), arr((3,), 'float64', rng)),
                              Sample(arr((2, 3, 4), 'float64', rng), arr((3,), 'float64', rng),
                                     data_format='channels_first')],
    errors=[(lambda: K.bias_add(c(np.zeros((2, 3))), c(np.zeros((4,)))), ValueError),
            (lambda: K.bias_add(c(np.zeros((2, 3, 4))), c(np.zeros((2, 2, 2, 2)))), ValueError),
            (lambda: K.bias_add(c(np.zeros((2, 3))), c(np.zeros((3,))), data_format='channels_middle'), ValueError)],
    out_dtype=keep, na=NO_AXIS,
    big=lambda rng: [Sample(arr((256, 300), 'float64', rng), arr((300,), 'float64', rng)),
                     Sample(arr((8, 30, 20, 16), 'float64', rng), arr((30,), 'float64', rng), data_format='channels_first')])


def _cce_samples(dtype, rng):
    return [Sample(onehot((4, 3), dtype, rng), probs((4, 3), dtype, rng)),
            Sample(probs((4, 3), dtype, rng), probs((4, 3), dtype, rng) * 2),
            Sample(onehot((4, 3), dtype, rng), arr((4, 3), dtype, rng), from_logits=True),
            Sample(onehot((2, 3, 4), dtype, rng, 1), probs((2, 3, 4), dtype, rng, 1), axis=1),
            Sample(onehot((2, 3, 4), dtype, rng, 1), arr((2, 3, 4), dtype, rng), from_logits=True, axis=1),
            Sample(onehot((5,), dtype, rng), probs((5,), dtype, rng)),
            Sample(onehot((2, 4, 3), dtype, rng, -2), probs((2, 4, 3), dtype, rng, -2), axis=-2),
            Sample(onehot((0, 3), dtype, rng), probs((0, 3), dtype, rng)),
            Sample(onehot((4, 1), dtype, rng), probs((4, 1), dtype, rng))]


row('categorical_crossentropy', R.categorical_crossentropy, _cce_samples, FLOATS,
    grad_samples=lambda rng: [Sample(probs((3, 4), 'float64', rng), probs((3, 4), 'float64', rng)),
                              Sample(probs((3, 4), 'float64', rng), arr((3, 4), 'float64', rng), from_logits=True),
                              Sample(probs((2, 3, 2), 'float64', rng, 1), arr((2, 3, 2), 'float64', rng),
                                     from_logits=True, axis=1)],
    errors=[(lambda: K.categorical_crossentropy(c(np.zeros((2, 3))), c(np.zeros((2, 4)))), ValueError),
            (lambda: K.categorical_crossentropy(c(np.zeros((2, 3))), c(np.zeros((2, 3))), axis=2), ValueError)],
    out_dtype=keep, na={'broadcast': 'target and output have one shape (Keras passes y_true, y_pred)'},
    big=lambda rng: [Sample(probs((256, 300), 'float64', rng), probs((256, 300), 'float64', rng)),
                     Sample(probs((256, 300), 'float64', rng), arr((256, 300), 'float64', rng), from_logits=True)])


def _scce_samples(dtype, rng):
    return [Sample(rng.integers(0, 3, size=(4,)).astype(dtype), probs((4, 3), dtype, rng)),
            Sample(rng.integers(0, 3, size=(4, 1)).astype(dtype), probs((4, 3), dtype, rng)),
            Sample(rng.integers(0, 3, size=(2, 5)).astype(dtype), probs((2, 5, 3), dtype, rng)),
            Sample(rng.integers(0, 3, size=(2, 5, 1)).astype(dtype), probs((2, 5, 3), dtype, rng)),
            Sample(rng.integers(0, 3, size=(4,)).astype(dtype), arr((4, 3), dtype, rng), from_logits=True),
            Sample(rng.integers(0, 3, size=(2, 4)).astype(dtype), probs((2, 3, 4), dtype, rng, 1), axis=1),
            Sample(rng.integers(0, 3, size=(4,)).astype(dtype), probs((4, 3), dtype, rng) * 3),
            Sample(rng.integers(0, 3, size=(2, 4)).astype(dtype), probs((2, 3, 4), dtype, rng, -2), axis=-2),
            Sample(rng.integers(0, 3, size=(0,)).astype(dtype), probs((0, 3), dtype, rng))]


row('sparse_categorical_crossentropy', R.sparse_categorical_crossentropy, _scce_samples, FLOATS,
    grad_samples=lambda rng: [Sample(np.array([0., 2., 1.]), probs((3, 4), 'float64', rng)),
                              Sample(np.array([0., 2., 1.]), arr((3, 4), 'float64', rng), from_logits=True)],
    errors=[(lambda: K.sparse_categorical_crossentropy(c(np.zeros((2, 3))), c(np.zeros((4, 3)))), ValueError),
            (lambda: K.sparse_categorical_crossentropy(c(np.zeros((2,))), c(np.zeros((2, 3))), axis=3), ValueError)],
    out_dtype=keep, permutable=False, grad_wrt=(1,),
    na={'broadcast': 'target has the output\'s shape without the class axis (Keras passes y_true, y_pred)'},
    big=lambda rng: [Sample(rng.integers(0, 300, size=(256,)).astype('float64'), probs((256, 300), 'float64', rng)),
                     Sample(rng.integers(0, 300, size=(256,)).astype('float64'), arr((256, 300), 'float64', rng),
                            from_logits=True)])


def _bce_samples(dtype, rng):
    return [Sample(arr((3, 4), dtype, rng, 0, 1), arr((3, 4), dtype, rng, 0.05, 0.95)),
            Sample(arr((3, 4), dtype, rng, 0, 1), arr((3, 4), dtype, rng, -4, 4), from_logits=True),
            Sample(np.array([1, 1, 0, .3], dtype), np.array([0, .9, .2, .6], dtype)),
            Sample(arr((5,), dtype, rng, 0, 1), arr((5,), dtype, rng, 0.05, 0.95)),
            Sample(arr((0, 3), dtype, rng, 0, 1), arr((0, 3), dtype, rng, 0.05, 0.95)),
            Sample(arr((1, 4), dtype, rng, 0, 1), arr((1, 4), dtype, rng, -4, 4), from_logits=True)]


row('binary_crossentropy', R.binary_crossentropy, _bce_samples, ('float32', 'float64'),
    grad_samples=lambda rng: [Sample(arr((3, 4), 'float64', rng, 0, 1), arr((3, 4), 'float64', rng, 0.1, 0.9)),
                              Sample(arr((3, 4), 'float64', rng, 0, 1), arr((3, 4), 'float64', rng, -3, 3),
                                     from_logits=True)],
    errors=[(lambda: K.binary_crossentropy(c(np.zeros((2, 3))), c(np.zeros((4, 3)))), ValueError)],
    out_dtype=keep, na=dict(NO_AXIS, broadcast='target and output have one shape (Keras passes y_true, y_pred)'),
    big=lambda rng: [Sample(arr((256, 300), 'float64', rng, 0, 1), arr((256, 300), 'float64', rng, 0.1, 0.9)),
                     Sample(arr((256, 300), 'float64', rng, 0, 1), arr((256, 300), 'float64', rng, -3, 3),
                            from_logits=True)])



# activations and normalization helpers
def _elu_samples(dtype, rng):
    return [Sample(arr(s, dtype, rng, -6, 6), *a) for s in [(), (3,), (2, 0, 3), (4, 1, 5)] for a in [(), (0.5,)]]


row('elu', R.elu, _elu_samples, FLOATS + ('int32',), out_dtype=floatish,
    grad_samples=lambda rng: [Sample(away((3, 4), 'float64', rng), 0.7), Sample(away((5,), 'float64', rng))],
    errors=[(lambda: K.elu(c([True, False], 'bool')), TypeError)], na=dict(ONE_INPUT, **NO_AXIS),
    big=lambda rng: [Sample(away((256, 300), 'float64', rng), 0.7)])


def _hs_samples(dtype, rng):
    return [Sample(arr(s, dtype, rng, -4, 4)) for s in [(), (3,), (2, 0, 3), (4, 1, 5), (2, 3)]]


row('hard_sigmoid', R.hard_sigmoid, _hs_samples, FLOATS + ('int32',), out_dtype=floatish,
    grad_samples=lambda rng: [Sample(away((3, 4), 'float64', rng, (-2.5, 2.5), low=-4, high=4))],
    errors=[(lambda: K.hard_sigmoid(c([True], 'bool')), TypeError)], na=dict(ONE_INPUT, **NO_AXIS),
    big=lambda rng: [Sample(away((256, 300), 'float64', rng, (-2.5, 2.5), low=-4, high=4))])


def _l2_samples(dtype, rng):
    cases = [((3,), None), ((3,), 0), ((2, 3), -1), ((2, 3), 0), ((2, 3, 4), [0, 2]), ((2, 0, 3), 1),
             ((4, 1, 5), None), ((1, 1), -1), ((2, 3, 4), (-1, 1))]
    return [Sample(arr(s, dtype, rng), axis=a) for s, a in cases] + [Sample(np.zeros((2, 3), dtype), axis=1)]


row('l2_normalize', R.l2_normalize, _l2_samples, FLOATS, out_dtype=keep,
    grad_samples=lambda rng: [Sample(arr((3, 4), 'float64', rng), axis=-1), Sample(arr((2, 3), 'float64', rng)),
                              Sample(arr((2, 3, 2), 'float64', rng), axis=[0, 2])],
    errors=[(lambda: K.l2_normalize(c([[1., 2.]]), axis=2), ValueError, 'axis')], na=ONE_INPUT,
    big=lambda rng: [Sample(arr((256, 300), 'float64', rng), axis=-1), Sample(arr((300, 256), 'float64', rng), axis=0)])


def _topk_samples(dtype, rng):
    p = rng.integers(0, 4, size=(6, 5)).astype(dtype)  # many ties
    p[1, 2], p[2, 0] = np.nan, np.inf
    t = np.array([0, 1, 2, 3, 4, 7], 'int32')  # 7: out of range
    return [Sample(p, t, k) for k in (-1, 0, 1, 2, 5, 7)] + [
        Sample(arr((4, 3), dtype, rng), t[:4].astype('int64') % 3, 2), Sample(arr((0, 3), dtype, rng), t[:0], 1),
        Sample(arr((3, 1), dtype, rng), np.zeros(3, 'int32'), 1)]


row('in_top_k', R.in_top_k, _topk_samples, ('float32', 'float64'), differentiable=False, out_dtype=always('bool'),
    grad_samples=lambda rng: [Sample(arr((3, 4), 'float64', rng), np.array([0, 1, 3], 'int32'), 2)],
    errors=[(lambda: K.in_top_k(c([.1, .2]), c([0], 'int32'), 1), ValueError),
            (lambda: K.in_top_k(c([[.1, .2]]), c([0, 1], 'int32'), 1), ValueError),
            (lambda: K.in_top_k(c([[.1, .2]]), c([0.]), 1), TypeError)], permutable=False,
    na=dict(NO_AXIS, broadcast='one target per row of predictions: nothing broadcasts'),
    big=lambda rng: [Sample(arr((256, 300), 'float64', rng), rng.integers(0, 300, size=(256,)).astype('int32'), 5)])


BN_CASES = [((5, 3), (3,), -1), ((2, 3, 4, 3), (3,), -1), ((2, 3, 4, 5), (1, 3, 1, 1), 1), ((2, 3, 4, 5), (3,), 1),
            ((0, 3), (3,), -1), ((4, 1), (1,), -1), ((2, 3, 4), (3,), -2)]


def _bn_samples(dtype, rng):
    out = []
    for x, s, axis in BN_CASES:
        stats = [arr(s, dtype, rng), pos(s, dtype, rng), arr(s, dtype, rng), arr(s, dtype, rng)]
        out.append(Sample(arr(x, dtype, rng), *stats, axis=axis, epsilon=1e-3))
    m, v = arr((2,), dtype, rng), pos((2,), dtype, rng)
    out += [Sample(arr((4, 2), dtype, rng), m, v, None, arr((2,), dtype, rng)),  # no beta
            Sample(arr((4, 2), dtype, rng), m, v, arr((2,), dtype, rng), None),  # no gamma
            Sample(arr((4, 2), dtype, rng), m, v, None, None, epsilon=0.1)]
    return out


row('batch_normalization', R.batch_normalization, _bn_samples, ('float32', 'float64'), out_dtype=keep,
    grad_samples=lambda rng: [Sample(arr((4, 3), 'float64', rng), arr((3,), 'float64', rng), pos((3,), 'float64', rng),
                                     arr((3,), 'float64', rng), arr((3,), 'float64', rng), epsilon=1e-3),
                              Sample(arr((2, 3, 2), 'float64', rng), arr((3,), 'float64', rng),
                                     pos((3,), 'float64', rng), None, arr((3,), 'float64', rng), axis=1)],
    errors=[(lambda: K.batch_normalization(c([[1.]]), c([1.]), c([1.]), None, None, axis=3), ValueError, 'axis')],
    permutable=False,
    big=lambda rng: [Sample(arr((256, 300), 'float64', rng), arr((300,), 'float64', rng), pos((300,), 'float64', rng),
                            arr((300,), 'float64', rng), arr((300,), 'float64', rng))])

NB_CASES = [((5, 3), [0]), ((2, 3, 4, 5), [0, 2, 3]), ((2, 4, 4, 3), [0, 1, 2]), ((3, 4, 2), [0, 1]),
            ((2, 3, 4), [0, -1]), ((1, 3), [0]), ((4, 0), [0])]


def _nb_samples(dtype, rng):
    out = []
    for shape, axes in NB_CASES:
        kept = [shape[i] for i in range(len(shape)) if i not in [a % len(shape) for a in axes]]
        n = int(np.prod(kept))
        neg = ['negative_axis'] if min(axes) < 0 else []
        out.append(Sample(arr(shape, dtype, rng) * 2 + 1, arr((n,), dtype, rng), arr((n,), dtype, rng), axes).tag(*neg))
        out.append(Sample(arr(shape, dtype, rng), None, None, axes, epsilon=0.01))
    return out


row('normalize_batch_in_training', R.normalize_batch_in_training, _nb_samples, ('float32', 'float64'),
    out_dtype=keep, tol={'float32': (1e-4, 1e-5)},
    grad_samples=lambda rng: [Sample(arr((3, 2, 2), 'float64', rng), arr((2,), 'float64', rng),
                                     arr((2,), 'float64', rng), [0, 2]),
                              Sample(arr((4, 2), 'float64', rng), None, None, [0])],
    errors=[(lambda: K.normalize_batch_in_training(c([[1., 2.]]), None, None, [2]), ValueError)], permutable=False,
    na={'broadcast': 'gamma and beta hold one value per kept position (no broadcasting)'},
    big=lambda rng: [Sample(arr((256, 300), 'float64', rng), arr((300,), 'float64', rng), arr((300,), 'float64', rng),
                            [0]), Sample(arr((32, 16, 16, 8), 'float64', rng), None, None, [0, 1, 2])])
