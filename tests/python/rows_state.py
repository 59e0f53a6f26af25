"""Table rows: variable updates, values and creation of tensors."""
import numpy as np

from keras_cpp import backend as K

import reference as R
from op_info import *  # noqa: F401,F403  (the table's vocabulary)

ROWS = []


def row(*args, **kwargs):
    ROWS.append(OpInfo(*args, **kwargs))


# variable updates: the first argument is a variable; the ref gives the new value
def _upd_samples(dtype, rng):
    return [Sample(arr((2, 3), dtype, rng), arr((2, 3), dtype, rng)), Sample(arr((), dtype, rng), arr((), dtype, rng)),
            Sample(arr((3,), dtype, rng), arr((3,), dtype, rng)), Sample(arr((0, 3), dtype, rng), arr((0, 3), dtype, rng)),
            Sample(arr((1, 3), dtype, rng), arr((1, 3), dtype, rng))]


UPDATE_NA = dict(NO_AXIS, broadcast='the value has the variable\'s shape (as tf.assign requires)')


def _big_update(rng):
    return [Sample(arr((256, 300), 'float64', rng), arr((256, 300), 'float64', rng))]


def _upd_errors(name):
    return [(lambda: getattr(K, name)(K.variable(np.zeros((2, 3))), np.zeros((4, 3), 'float32')), ValueError),
            (lambda: getattr(K, name)(c(np.zeros(3)), np.zeros(3, 'float32')), (TypeError, ValueError))]


row('update', R.update, _upd_samples, NUMERIC, differentiable=False, kind='update', errors=_upd_errors('update'),
    out_dtype=keep, na=dict(UPDATE_NA, parallel='a copy into the variable on the calling thread (no parallel_for)'))
for _n in ('update_add', 'update_sub'):
    row(_n, getattr(R, _n), _upd_samples, NUMERIC, differentiable=False, kind='update', errors=_upd_errors(_n),
        out_dtype=keep, na=UPDATE_NA, big=_big_update)


def _mau_samples(dtype, rng):
    return [Sample(arr((2, 3), dtype, rng), arr((2, 3), dtype, rng), 0.9),
            Sample(np.array(10, dtype), np.array(2, dtype), 0.9), Sample(arr((3,), dtype, rng), arr((3,), dtype, rng), 0.0),
            Sample(arr((0, 1), dtype, rng), arr((0, 1), dtype, rng), 0.5)]


row('moving_average_update', R.moving_average_update, _mau_samples, FLOATS, differentiable=False, kind='update',
    errors=[(lambda: K.moving_average_update(K.variable(np.zeros((2, 3))), np.zeros((4,), 'float32'), 0.9), ValueError),
            (lambda: K.moving_average_update(c(np.zeros(3)), np.zeros(3, 'float32'), 0.9), (TypeError, ValueError))],
    out_dtype=keep, na=UPDATE_NA, big=lambda rng: [Sample(arr((256, 300), 'float64', rng), arr((256, 300), 'float64', rng), 0.9)])

