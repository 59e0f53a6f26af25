"""Table rows: control flow (switch, map_fn, foldl, foldr, rnn) and the CTC group. Step and body
functions are Fn arguments: the same Python function runs on K tensors and, for the reference,
on numpy arrays with reference.py's ops."""
import numpy as np

from keras_cpp import backend as K

import reference as R
from op_info import *  # noqa: F401,F403  (the table's vocabulary)

ROWS = []

# switch/map_fn/foldl/foldr turn numpy arguments into constants in Python (_control._as_tensor).

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
    na=dict(ONE_INPUT, **NO_AXIS),
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


# ---------------------------------------------------------------- CTC (blank = last class)
def _labels(rng, B, M, C, dtype='int32'):
    return rng.integers(0, C - 1, size=(B, M)).astype(dtype)


def _dense_samples(dtype, rng):
    labels = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [9, 1, 2, 3]], dtype)
    return [Sample(labels, np.array([4, 0, 2], 'int32')), Sample(labels[:1, :3], np.array([1], 'int64')),
            Sample(np.zeros((2, 0), dtype), np.array([0, 0], 'int32')), Sample(labels[:, :1], np.array([1, 0, 1], 'int32'))]


row('ctc_label_dense_to_sparse', R.ctc_label_dense_to_sparse, _dense_samples, ('int32', 'int64', 'float32'),
    differentiable=False, out_dtype=always('int64'), permutable=False,
    grad_samples=lambda rng: [Sample(np.array([[1., 2.]]), np.array([1], 'int32'))],
    errors=[(lambda: K.ctc_label_dense_to_sparse(c([1, 2], 'int32'), c([1], 'int32')), ValueError, 'labels must be'),
            (lambda: K.ctc_label_dense_to_sparse(c([[1, 2]], 'int32'), c([1, 1], 'int32')), ValueError, 'label_lengths'),
            (lambda: K.ctc_label_dense_to_sparse(c([[1, 2]], 'int32'), c([3], 'int32')), ValueError, 'sample 0')],
    na=dict(NO_AXIS, broadcast='one length per row of labels: nothing broadcasts',
            parallel='copies labels row by row on the calling thread (no parallel_for)'))

CLASSIC_LABELS = np.asarray([[0, 1, 2, 1, 0], [0, 1, 1, 0, -1]])  # Graves / TF ctc_loss_op_test / Keras
CLASSIC_INPUTS = np.asarray(
    [[[0.633766, 0.221185, 0.0917319, 0.0129757, 0.0142857, 0.0260553],
      [0.111121, 0.588392, 0.278779, 0.0055756, 0.00569609, 0.010436],
      [0.0357786, 0.633813, 0.321418, 0.00249248, 0.00272882, 0.0037688],
      [0.0663296, 0.643849, 0.280111, 0.00283995, 0.0035545, 0.00331533],
      [0.458235, 0.396634, 0.123377, 0.00648837, 0.00903441, 0.00623107]],
     [[0.30176, 0.28562, 0.0831517, 0.0862751, 0.0816851, 0.161508],
      [0.24082, 0.397533, 0.0557226, 0.0546814, 0.0557528, 0.19549],
      [0.230246, 0.450868, 0.0389607, 0.038309, 0.0391602, 0.202456],
      [0.280884, 0.429522, 0.0326593, 0.0339046, 0.0326856, 0.190345],
      [0.423286, 0.315517, 0.0338439, 0.0393744, 0.0339315, 0.154046]]])


def _cost_samples(dtype, rng):
    out = [Sample(CLASSIC_LABELS.astype('int32'), CLASSIC_INPUTS.astype(dtype), np.array([[5], [5]], 'int32'),
                  np.array([[5], [4]], 'int32'))]
    B, T, C, M = 4, 7, 5, 4
    il, ll = np.array([7, 3, 5, 0]), np.array([4, 1, 2, 0])  # sample 3: an empty label over no frames
    for ldt, col in [('int32', True), ('int64', False), ('float32', True)]:
        shp = (lambda a: a[:, None]) if col else (lambda a: a)
        out.append(Sample(_labels(rng, B, M, C, 'int64'), probs((B, T, C), dtype, rng), shp(il).astype(ldt),
                          shp(ll).astype(ldt)))
    out.append(Sample(np.array([[1, 1]], 'int32'), probs((1, 3, 3), dtype, rng), np.array([[3]], 'int32'),
                      np.array([[2]], 'int32')))  # a repeat needs a blank between: 3 frames for "11"
    out.append(Sample(np.zeros((0, 2), 'int32'), probs((0, 3, 3), dtype, rng), np.zeros((0, 1), 'int32'),
                      np.zeros((0, 1), 'int32')))
    return out


def _cost_errors():
    lab, y, one = c([[0, 1]], 'int32'), c(probs((1, 4, 3), 'float32', np.random.default_rng(0))), c([[4]], 'int32')
    return [(lambda: K.ctc_batch_cost(lab, c(np.ones((1, 4))), one, one), ValueError, 'y_pred must be'),
            (lambda: K.ctc_batch_cost(lab, c(np.ones((1, 4, 3)), 'int32'), one, one), TypeError, 'float'),
            (lambda: K.ctc_batch_cost(lab, y, one, c([[1], [1]], 'int32')), ValueError, 'label_length'),
            (lambda: K.ctc_batch_cost(lab, y, c([[4, 4]], 'int32'), one), ValueError, 'input_length must have shape'),
            (lambda: K.ctc_batch_cost(c([[0, 2]], 'int32'), y, one, c([[2]], 'int32')), ValueError,
             'label 2 at position 1 is out of range'),
            (lambda: K.ctc_batch_cost(lab, y, c([[5]], 'int32'), c([[2]], 'int32')), ValueError, 'input_length=5'),
            (lambda: K.ctc_batch_cost(lab, y, c([[1]], 'int32'), c([[2]], 'int32')), ValueError,
             'sample 0.*impossible alignment')]


def _cost_grads(rng):
    return [Sample(np.array([[0, 1, 1], [2, 0, 0]], 'int32'), probs((2, 5, 4), 'float64', rng),
                   np.array([[5], [3]], 'int32'), np.array([[3], [1]], 'int32'))]


def _cost_big(rng):
    B, T, C, M = 96, 20, 10, 4
    return [Sample(_labels(rng, B, M, C), probs((B, T, C), 'float64', rng), np.full((B, 1), T, 'int32'),
                   rng.integers(1, M + 1, size=(B, 1)).astype('int32'))]


row('ctc_batch_cost', R.ctc_batch_cost, _cost_samples, ('float32', 'float64'), out_dtype=keep, permutable=False,
    grad_wrt=(1,), grad_samples=_cost_grads, errors=_cost_errors(), tol={'float32': (1e-5, 1e-5)},
    na=dict(NO_AXIS, broadcast='one label row and one length per sample: nothing broadcasts'), big=_cost_big)


def _decode_samples(dtype, rng):
    B, T, C = 4, 6, 4
    y = rng.dirichlet(np.ones(C) * 0.5, size=(B, T))
    il = np.array([6, 4, 6, 0], 'int32')
    out = [Sample(y.astype(dtype), il), Sample(y.astype(dtype), il.astype('int64'), merge_repeated=True)]
    for width, merge in [(1, False), (2, True), (5, False), (64, False)]:
        y2 = rng.dirichlet(np.ones(3) * 0.7, size=(3, 5))
        out.append(Sample(y2.astype(dtype), np.array([5, 3, 4], 'int32'), greedy=False, beam_width=width,
                          top_paths=min(width, 2), merge_repeated=merge))
    out.append(Sample(probs((1, 1, 3), dtype, rng), np.array([1], 'int32'), False, 3, 2))
    out.append(Sample(probs((0, 3, 3), dtype, rng), np.zeros((0,), 'int32')))
    return out


def _decode_errors():
    y = c(probs((1, 3, 3), 'float32', np.random.default_rng(0)))
    return [(lambda: K.ctc_decode(c(np.ones((3, 3))), c([3], 'int32')), ValueError, r'^\[ctc_decode\] y_pred must be'),
            (lambda: K.ctc_decode(y, c([3, 3], 'int32')), ValueError, 'one entry per sample'),
            (lambda: K.ctc_decode(y, c([3], 'int32'), greedy=False, beam_width=2, top_paths=3), ValueError,
             r'top_paths must be in \[1, beam_width=2\]'),
            (lambda: K.ctc_decode(y, c([3], 'int32'), greedy=False, beam_width=0), ValueError, 'beam_width must be >= 1'),
            (lambda: K.ctc_decode(y, c([4], 'int32'))[1], ValueError, 'sample 0.*input_length=4'),
            (lambda: K.ctc_decode(c([[[.5, .5]]]), c([1], 'int32'), greedy=False, beam_width=5, top_paths=3)[1],
             ValueError, 'found only 2 paths but top_paths=3')]


row('ctc_decode', R.ctc_decode, _decode_samples, ('float32', 'float64'), differentiable=False, permutable=False,
    out_dtype=lambda d: None, grad_samples=lambda rng: [Sample(probs((1, 3, 3), 'float64', rng), np.array([3], 'int32'))],
    errors=_decode_errors(), tol={'float32': (1e-5, 1e-5)},
    na=dict(NO_AXIS, broadcast='one length per sample: nothing broadcasts'),
    big=lambda rng: [Sample(probs((700, 20, 10), 'float64', rng), np.full((700,), 20, 'int32')),
                     Sample(probs((48, 20, 10), 'float64', rng), np.full((48,), 20, 'int32'), greedy=False,
                            beam_width=4, top_paths=2)])
