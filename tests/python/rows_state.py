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



# ---------------------------------------------------------------- creation: numpy values in, tensors out
VALUE_NA = dict(NO_AXIS, broadcast='one value in: nothing broadcasts')
CREATE_NA = dict(VALUE_NA, noncontig='takes a shape, no array', parallel='fills on the calling thread (no parallel_for)')


def _value_samples(dtype, rng):
    """Values of every kind: arrays (empty, size-1), numbers, lists; dtype given and None (floatx)."""
    return [Sample(Val(arr((2, 3), dtype, rng)), dtype), Sample(Val(arr((0, 2), dtype, rng)), dtype),
            Sample(Val(arr((1, 1), dtype, rng)), dtype), Sample(Val(arr((2, 3), dtype, rng))), Sample(3, dtype),
            Sample([[1, 0], [0, 1]], dtype), Sample(Val(arr((), dtype, rng)), dtype)]


def _constant_samples(dtype, rng):
    return _value_samples(dtype, rng) + [Sample(0, dtype, (2, 3)), Sample(Val(np.arange(6)), dtype, (3, 2)),
                                         Sample(Val(arr((1,), dtype, rng)), dtype, shape=(2, 2))]


row('constant', R.constant, _constant_samples, ALL, differentiable=False, feed=False, out_dtype=always('ref'),
    errors=[(lambda: K.constant(np.arange(5), shape=(2, 3)), ValueError, 'cannot fill'),
            (lambda: K.constant(1., dtype='float128'), TypeError, 'dtype')],
    na=dict(VALUE_NA, parallel='copies a numpy value: no kernel runs'))
row('variable', R.variable, _value_samples, ALL, differentiable=False, feed=False, out_dtype=always('ref'),
    errors=[(lambda: K.variable(1., dtype='int42'), TypeError, 'dtype'), (lambda: K.variable('abc'), ValueError)],
    na=dict(VALUE_NA, parallel='copies a numpy value: no kernel runs'))


def _fill_samples(dtype, rng):
    return [Sample((2, 3), dtype), Sample(3, dtype), Sample((0, 2), dtype).tag('empty'), Sample((1, 1), dtype).tag('size1'),
            Sample((), dtype), Sample((2, 3))]


row('zeros', R.zeros, _fill_samples, ALL, differentiable=False, feed=False, out_dtype=always('ref'),
    errors=[(lambda: K.zeros((2, -1)), ValueError, 'negative')], na=CREATE_NA)
row('ones', R.ones, _fill_samples, ALL, differentiable=False, feed=False, out_dtype=always('ref'),
    errors=[(lambda: K.ones((2,), dtype='nope'), TypeError, 'nope')], na=CREATE_NA)


def _eye_samples(dtype, rng):
    return [Sample(3, dtype), Sample((2, 3), dtype), Sample((0, 2), dtype).tag('empty'), Sample(1, dtype).tag('size1'),
            Sample(4)]


row('eye', R.eye, _eye_samples, ALL, differentiable=False, feed=False, out_dtype=always('ref'),
    errors=[(lambda: K.eye('a'), TypeError)], na=CREATE_NA)


def _cast_floatx_samples(dtype, rng):
    return [Sample(Val(arr((2, 3), dtype, rng))), Sample(Val(arr((0, 2), dtype, rng))), Sample(Val(arr((1,), dtype, rng))),
            Sample(3), Sample([1, 2])]


row('cast_to_floatx', R.cast_to_floatx, _cast_floatx_samples, ALL, differentiable=False, feed=False,
    out_dtype=always('ref'), errors=[(lambda: K.cast_to_floatx('abc'), ValueError)],
    na=dict(VALUE_NA, parallel='a numpy conversion: no kernel runs'))


# ---------------------------------------------------------------- learning-phase selection, to_dense
def _phase_samples(dtype, rng):
    a, b = arr((2, 3), dtype, rng), arr((2, 3), dtype, rng)
    return [Sample(a, b, 1), Sample(a, b, 0), Sample(a, b, True), Sample(a, b), Sample(a, b, np.array(1, 'int32')),
            Sample(a, b, np.array(False)), Sample(arr((0, 2), dtype, rng), arr((0, 2), dtype, rng), 1),
            Sample(arr((1, 1), dtype, rng), arr((1, 1), dtype, rng), np.array(0, 'int32'))]


def _phase_grads(rng):
    a, b = arr((2, 3), 'float64', rng), arr((2, 3), 'float64', rng)
    return [Sample(a, b, np.array(1, 'int32')), Sample(a, b, np.array(0, 'int32'))]


PHASE_NA = dict(NO_AXIS, broadcast='x and alt are alternatives of one shape',
                parallel='picks one of two tensors: the switch row runs the parallel sizes')
for _n in ('in_train_phase', 'in_test_phase'):
    row(_n, getattr(R, _n), _phase_samples, ('float32', 'float64', 'int32'), out_dtype=keep, permutable=False,
        grad_samples=_phase_grads, na=PHASE_NA,
        errors=[(lambda n=_n: getattr(K, n)(K.placeholder((2,)), K.placeholder((3,)), training=K.placeholder((), 'int32')),
                 ValueError, 'shapes'),
                (lambda n=_n: getattr(K, n)(K.placeholder((2,)), K.placeholder((2,)), training='yes'), (TypeError, ValueError))])
row('to_dense', R.to_dense, lambda dtype, rng: [Sample(arr(s, dtype, rng)) for s in [(2, 3), (0, 2), (1,), ()]], ALL,
    out_dtype=keep, grad_samples=lambda rng: [Sample(arr((2, 3), 'float64', rng))],
    errors=[(lambda: K.to_dense(), TypeError)], na=dict(ONE_INPUT, parallel='a dense tensor is returned as it is',
                                                        **NO_AXIS))
