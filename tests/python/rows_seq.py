"""Table rows: control flow (switch, map_fn, foldl, foldr, rnn) and the CTC group. Step and body
functions are Fn arguments: the same Python function runs on K tensors and, for the reference,
on numpy arrays with reference.py's ops."""
import numpy as np

from keras_cpp import backend as K

import reference as R
from op_info import *  # noqa: F401,F403  (the table's vocabulary)

ROWS = []

# switch/map_fn/foldl/foldr turn numpy arguments into constants in Python (_engine._as_tensor).
AS_TENSOR_F64 = {'forward-float64-const': 'a float64 numpy array given to switch/map_fn/foldl/foldr becomes a '
                                          'floatx (float32) constant (_engine._as_tensor); TF keeps float64'}


def row(*args, **kwargs):
    ROWS.append(OpInfo(*args, **kwargs))


# ---------------------------------------------------------------- switch
def _switch_samples(dtype, rng):
    a, b = arr((2, 3), dtype, rng), arr((2, 3), dtype, rng)
    return [Sample(np.array(True), a, b), Sample(np.array(0, 'int32'), a, b),
            Sample(np.array([1, 0], 'int32'), a, b).tag('broadcast'),  # condition on the leading axis
            Sample(np.array([[True, False, True], [False, True, True]]), a, b),
            Sample(np.array([True, False]), arr((2, 1), dtype, rng), arr((2, 1), dtype, rng)),
            Sample(np.zeros((0,), bool), arr((0, 2), dtype, rng), arr((0, 2), dtype, rng)),
            Sample(np.array([[True, False]]), arr((1, 2), dtype, rng), 0)]


row('switch', R.switch, _switch_samples, ('float32', 'float64', 'int32'), out_dtype=keep, permutable=False,
    grad_samples=lambda rng: [Sample(np.array(True), arr((2, 3), 'float64', rng), arr((2, 3), 'float64', rng)),
                              Sample(np.array([True, False]), arr((2, 3), 'float64', rng),
                                     arr((2, 3), 'float64', rng))],
    errors=[(lambda: K.switch(c([[1, 0]], 'int32'), c([1., 2.]), c([3., 4.])), ValueError)], na=NO_AXIS,
    xfail=AS_TENSOR_F64,
    big=lambda rng: [Sample(rng.random((256,)) > 0.5, arr((256, 300), 'float64', rng), arr((256, 300), 'float64', rng)),
                     Sample(rng.random((256, 300)) > 0.5, arr((256, 300), 'float64', rng),
                            arr((256, 300), 'float64', rng))])


# ---------------------------------------------------------------- map_fn / foldl / foldr
MAP_BODIES = [Fn(lambda ops, r: ops.square(r) + 1., 'square+1'), Fn(lambda ops, r: ops.sum(r * r, axis=-1), 'sumsq'),
              Fn(lambda ops, r: ops.tanh(r) * 2., 'tanh*2')]


def _map_samples(dtype, rng):
    out = [Sample(f, arr(s, dtype, rng)) for f in MAP_BODIES[:2] for s in [(4, 3), (3, 1, 2), (0, 3), (1, 1)]]
    out.append(Sample(MAP_BODIES[2], arr((5,), dtype, rng)))
    out.append(Sample(MAP_BODIES[0], arr((3, 2), dtype, rng), dtype='float64'))
    return out


row('map_fn', R.map_fn, _map_samples, ('float32', 'float64'), permutable=False,
    grad_samples=lambda rng: [Sample(MAP_BODIES[2], arr((4, 2), 'float64', rng)),
                              Sample(MAP_BODIES[1], arr((3, 2, 2), 'float64', rng))],
    errors=[(lambda: K.map_fn(lambda r: r, c(1.)), ValueError), (lambda: K.map_fn(lambda r: (r, r), c([1., 2.])), TypeError)],
    na=dict(ONE_INPUT, **NO_AXIS), xfail=AS_TENSOR_F64,
    big=lambda rng: [Sample(MAP_BODIES[0], arr((8, 256, 300), 'float64', rng))])

FOLD_BODIES = [Fn(lambda ops, a, x: a * 0.5 + x, 'a/2+x'), Fn(lambda ops, a, x: a * x + ops.sin(x), 'a*x+sin(x)')]


def _fold_samples(dtype, rng):
    out = [Sample(f, arr(s, dtype, rng, -1, 1)) for f in FOLD_BODIES for s in [(5, 3), (4,), (1, 2), (3, 0)]]
    out.append(Sample(Fn(lambda ops, a, x: a * 0.5 + ops.sum(x), 'a/2+sum(x)'), arr((4, 2), dtype, rng), initializer=1.))
    out.append(Sample(FOLD_BODIES[0], arr((3, 2), dtype, rng), initializer=arr((2,), dtype, rng)))
    return out


def _fold_errors(name):
    f = getattr(K, name)
    return [(lambda: f(lambda a, x: K.sum(a), c([[1., 2.]])), ValueError),
            (lambda: f(lambda a, x: a, c(3.)), ValueError),
            (lambda: f(lambda a, x: K.cast(a, 'float64'), c([1., 2.])), TypeError)]


for _n in ('foldl', 'foldr'):
    row(_n, getattr(R, _n), _fold_samples, ('float32', 'float64'), out_dtype=keep, permutable=False,
        grad_samples=lambda rng: [Sample(FOLD_BODIES[1], arr((4, 2), 'float64', rng)),
                                  Sample(FOLD_BODIES[0], arr((3, 2), 'float64', rng), initializer=arr((2,), 'float64', rng))],
        errors=_fold_errors(_n), na=dict(NO_AXIS, broadcast='the accumulator keeps one shape through the loop'),
        xfail=AS_TENSOR_F64,
        big=lambda rng: [Sample(FOLD_BODIES[1], arr((4, 256, 300), 'float64', rng, -1, 1))])


# ---------------------------------------------------------------- rnn
def _simple(ops, x, s):
    """SimpleRNN step; s = [h, W, U, b] (the weights come in as constants)."""
    h = ops.tanh(ops.dot(x, s[1]) + ops.dot(s[0], s[2]) + s[3])
    return h, [h]


def _lstm(ops, x, s):
    """LSTM step; s = [h, c, W, U, b]."""
    n = ops.int_shape(s[0])[-1]
    z = ops.dot(x, s[2]) + ops.dot(s[0], s[3]) + s[4]
    i, f, o = ops.sigmoid(z[:, :n]), ops.sigmoid(z[:, n:2 * n]), ops.sigmoid(z[:, 2 * n:3 * n])
    c2 = f * s[1] + i * ops.tanh(z[:, 3 * n:])
    h2 = o * ops.tanh(c2)
    return h2, [h2, c2]


def _counting(ops, x, s):
    """The checklist's step: output = input, state += 1."""
    return x, [s[0] + 1]


SIMPLE, LSTM, COUNT = Fn(_simple, 'simple_rnn_step'), Fn(_lstm, 'lstm_step'), Fn(_counting, 'counting_step')


def _simple_args(rng, dtype, B, T, D, n):
    return [arr((B, T, D), dtype, rng, -1, 1), [arr((B, n), dtype, rng, -1, 1)]], \
        [arr((D, n), dtype, rng, -1, 1), arr((n, n), dtype, rng, -1, 1), arr((n,), dtype, rng, -1, 1)]


def _lstm_args(rng, dtype, B, T, D, n):
    return [arr((B, T, D), dtype, rng, -1, 1), [arr((B, n), dtype, rng, -1, 1), arr((B, n), dtype, rng, -1, 1)]], \
        [arr((D, 4 * n), dtype, rng, -1, 1), arr((n, 4 * n), dtype, rng, -1, 1), arr((4 * n,), dtype, rng, -1, 1)]


def _rnn_samples(dtype, rng):
    out = []
    for gb in (False, True):
        for unroll in (False, True):
            (x, h), w = _lstm_args(rng, dtype, 4, 5, 2, 3)
            m = rng.random((4, 5)) > 0.4
            out.append(Sample(LSTM, x, h, gb, m, w, unroll=unroll))
            (x, h), w = _simple_args(rng, dtype, 2, 3, 2, 3)
            out.append(Sample(SIMPLE, x, h, go_backwards=gb, constants=w, unroll=unroll))
    (x, h), w = _simple_args(rng, dtype, 1, 1, 1, 2)
    out.append(Sample(SIMPLE, x, h, constants=w))  # one step, size-1 dims
    (x, h), w = _simple_args(rng, dtype, 0, 3, 2, 2)
    out.append(Sample(SIMPLE, x, h, constants=w))  # an empty batch
    out.append(Sample(COUNT, np.arange(1, 9, dtype=dtype).reshape(2, 4, 1), [np.zeros((2, 1), dtype)],
                      mask=np.array([[1, 1, 1, 1], [1, 1, 0, 0]], dtype)))
    return out


def _rnn_grads(rng):
    (x, h), w = _simple_args(rng, 'float64', 2, 3, 2, 2)
    (x2, h2), w2 = _lstm_args(rng, 'float64', 2, 4, 2, 2)
    m = np.array([[1, 1, 0, 1], [0, 1, 1, 0]], bool)
    return [Sample(SIMPLE, x, h, constants=w), Sample(SIMPLE, x, h, constants=w, unroll=True),
            Sample(LSTM, x2, h2, False, m, w2), Sample(LSTM, x2, h2, True, m, w2)]


def _rnn_big(rng):
    (x, h), w = _lstm_args(rng, 'float64', 256, 4, 64, 32)
    return [Sample(LSTM, x, h, False, rng.random((256, 4)) > 0.3, w)]


row('rnn', R.rnn, _rnn_samples, ('float32', 'float64'), permutable=False, grad_samples=_rnn_grads,
    errors=[(lambda: K.rnn(lambda x, s: (x, [s[0] + 1]), K.zeros((2, 4)), [K.zeros((2, 1))]), ValueError, 'rank >= 3'),
            (lambda: K.rnn(lambda x, s: (x, [s[0] + 1]), K.placeholder(shape=(2, None, 1)), [K.zeros((2, 1))],
                           unroll=True), ValueError, 'static'),
            (lambda: K.rnn(lambda x, s: (x, [s[0] + 1]), K.zeros((2, 4, 1)), [K.zeros((2, 1))] * 2), ValueError,
             'returned 1 new states for 2'),
            (lambda: K.rnn(lambda x, s: x, K.zeros((2, 4, 1)), [K.zeros((2, 1))]), TypeError, 'new_states'),
            (lambda: K.rnn(lambda x, s: (x, [s[0] + 1]), K.zeros((2, 4, 1)), [K.zeros((2, 1))], mask=K.ones((2, 3))),
             ValueError, 'mask')],
    na=dict(NO_AXIS, broadcast='the step sees (batch, ...) slices: states keep their shape'),
    tol={'float32': (1e-5, 1e-6)}, big=_rnn_big)
