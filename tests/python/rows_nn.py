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

