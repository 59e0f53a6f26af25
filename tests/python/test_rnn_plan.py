"""K.rnn's build-time rewrites of the loop (cpp/ops/rnn_plan.cpp) leave values and gradients
unchanged: the input products hoisted out of the loop, weights packed once, the forward's saved
activations used by BPTT and the weight gradients summed as one product after it. Each cell
(SimpleRNN, LSTM in Keras's implementation 1 and 2, GRU reset-before and reset-after) runs with
masks, go_backwards and constants, against a float64 numpy forward, finite differences (weights
fed as placeholders) and the unrolled loop (plain autodiff of copies; weights as variables).
"""
import numpy as np
import pytest

from keras_cpp import backend as K

import gradcheck

N = 3  # units
B, T, D = 2, 4, 2
CELLS = ['simple', 'lstm2', 'lstm1', 'gru', 'gru_after']
GATES = {'simple': 1, 'lstm2': 4, 'lstm1': 4, 'gru': 3, 'gru_after': 3}
MASK = np.array([[1, 1, 0, 1], [1, 0, 1, 1]], 'float32')


def rand(*shape, seed=0):
    return np.random.RandomState(seed + sum(shape)).uniform(-1, 1, shape)


def make_step(cell, ops, W, U, b, sig, tanh, const=None):
    """The cell's step in the style of Keras 2.3.1's cells, for K or numpy (`ops` has dot)."""
    def step(x, states):
        h = states[0]
        if const is not None:
            x = x + states[-1]  # a constant (the last "state" K.rnn passes)
        if cell == 'simple':
            h2 = tanh(ops.dot(x, W) + ops.dot(h, U) + b)
            return h2, [h2]
        if cell == 'lstm2':
            z = ops.dot(x, W) + ops.dot(h, U) + b
            i, f, g, o = sig(z[:, :N]), sig(z[:, N:2 * N]), tanh(z[:, 2 * N:3 * N]), sig(z[:, 3 * N:])
        elif cell == 'lstm1':  # four products per weight, as implementation=1
            zs = [ops.dot(x, W[:, k * N:(k + 1) * N]) + b[k * N:(k + 1) * N] + ops.dot(h, U[:, k * N:(k + 1) * N])
                  for k in range(4)]
            i, f, g, o = sig(zs[0]), sig(zs[1]), tanh(zs[2]), sig(zs[3])
        if cell in ('lstm1', 'lstm2'):
            c2 = f * states[1] + i * g
            h2 = o * tanh(c2)
            return h2, [h2, c2]
        mx = ops.dot(x, W) + b
        if cell == 'gru':  # reset before the recurrent product (Keras's default)
            mi = ops.dot(h, U[:, :2 * N])
            z, r = sig(mx[:, :N] + mi[:, :N]), sig(mx[:, N:2 * N] + mi[:, N:])
            hh = tanh(mx[:, 2 * N:] + ops.dot(r * h, U[:, 2 * N:]))
        else:
            mi = ops.dot(h, U)
            z, r = sig(mx[:, :N] + mi[:, :N]), sig(mx[:, N:2 * N] + mi[:, N:2 * N])
            hh = tanh(mx[:, 2 * N:] + r * mi[:, 2 * N:])
        h2 = z * h + (1 - z) * hh
        return h2, [h2]
    return step


def np_rnn(cell, x, W, U, b, mask=None, go_backwards=False, const=None):
    sig = lambda v: 1 / (1 + np.exp(-v))
    step = make_step(cell, np, W, U, b, sig, np.tanh, const)
    states = [np.zeros((B, N))] * (2 if cell.startswith('lstm') else 1)
    order = range(T - 1, -1, -1) if go_backwards else range(T)
    outs, prev = [], np.zeros((B, N))
    for t in order:
        y, new = step(x[:, t], states + ([const] if const is not None else []))
        if mask is not None:
            m = mask[:, t][:, None] > 0
            y = np.where(m, y, prev)
            new = [np.where(m, s2, s) for s2, s in zip(new, states)]
        outs.append(y)
        prev, states = y, new
    return outs[-1], np.stack(outs, 1), states


def k_rnn(cell, x, W, U, b, mask=None, go_backwards=False, const=None, unroll=False):
    step = make_step(cell, K, W, U, b, K.sigmoid, K.tanh, const)
    init = [K.zeros((B, N), dtype=K.dtype(x))] * (2 if cell.startswith('lstm') else 1)
    return K.rnn(step, x, init, go_backwards=go_backwards, mask=None if mask is None else K.constant(mask),
                 constants=None if const is None else [const], unroll=unroll)


VARIANTS = [dict(), dict(mask=MASK), dict(go_backwards=True), dict(mask=MASK, go_backwards=True), dict(const=True)]


def arrays(cell):
    g = GATES[cell]
    return [rand(B, T, D, seed=1), rand(D, g * N, seed=2), rand(N, g * N, seed=3), rand(g * N, seed=4) * 0.5]


@pytest.mark.parametrize('cell', CELLS)
@pytest.mark.parametrize('var', range(len(VARIANTS)))
def test_forward_matches_numpy(cell, var):
    kw = dict(VARIANTS[var])
    xs, Ws, Us, bs = arrays(cell)
    cs = rand(B, D, seed=5) if kw.pop('const', False) else None
    last, outs, states = k_rnn(cell, K.constant(xs, 'float64'), K.variable(Ws, 'float64'), K.variable(Us, 'float64'),
                               K.variable(bs, 'float64'), const=None if cs is None else K.constant(cs, 'float64'), **kw)
    got = K.function([], [last, outs] + list(states))([])
    want = np_rnn(cell, xs, Ws, Us, bs, const=cs, **kw)
    for g, w in zip(got, [want[0], want[1]] + want[2]):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('cell', CELLS)
@pytest.mark.parametrize('var', range(len(VARIANTS)))
def test_gradients_finite_differences(cell, var):
    kw = dict(VARIANTS[var])
    use_const = kw.pop('const', False)

    def build(x, W, U, b, c):
        last, outs, states = k_rnn(cell, x, W, U, b, const=c if use_const else None, **kw)
        return [outs, states[-1]]
    gradcheck.check_gradients(build, arrays(cell) + [rand(B, D, seed=5)], wrt=list(range(5 if use_const else 4)),
                              err_msg='%s %r' % (cell, VARIANTS[var]))


@pytest.mark.parametrize('cell', CELLS)
@pytest.mark.parametrize('var', range(len(VARIANTS)))
def test_variable_gradients_equal_unrolled(cell, var):
    kw = dict(VARIANTS[var])
    xs, Ws, Us, bs = arrays(cell)
    cs = K.constant(rand(B, D, seed=5), 'float64') if kw.pop('const', False) else None
    vs = [K.variable(a, 'float64') for a in (Ws, Us, bs)]
    x = K.placeholder(shape=(B, T, D), dtype='float64')
    res = []
    for unroll in (False, True):
        last, outs, states = k_rnn(cell, x, *vs, const=cs, unroll=unroll, **kw)
        loss = K.sum(outs * K.constant(rand(B, T, N, seed=6), 'float64')) + K.sum(K.square(states[-1]))
        res.append(K.function([x], [loss] + K.gradients(loss, vs + [x]))([xs]))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_training_steps_match_float32():
    """Several SGD steps of an LSTM on float32 variables: the loop's updates track the unrolled ones."""
    xs, Ws, Us, bs = [a.astype('float32') for a in arrays('lstm2')]
    finals = []
    for unroll in (False, True):
        vs = [K.variable(a) for a in (Ws, Us, bs)]
        x = K.placeholder(shape=(None, T, D))
        _, outs, _ = k_rnn('lstm2', x, *vs, mask=MASK, unroll=unroll)
        loss = K.mean(K.square(outs - 0.5))
        f = K.function([x], [loss], updates=[K.update_sub(v, 0.1 * g) for v, g in zip(vs, K.gradients(loss, vs))])
        losses = [f([xs])[0] for _ in range(5)]
        finals.append((losses, [K.get_value(v) for v in vs]))
    np.testing.assert_allclose(finals[0][0], finals[1][0], rtol=1e-5)
    for a, b in zip(finals[0][1], finals[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert finals[0][0][-1] < finals[0][0][0]


def test_second_call_sees_updated_weights():
    """A packed weight is repacked after set_value (the cache keys on the variable's storage)."""
    xs, Ws, Us, bs = arrays('lstm2')
    vs = [K.variable(a, 'float64') for a in (Ws, Us, bs)]
    x = K.placeholder(shape=(B, T, D), dtype='float64')
    _, outs, _ = k_rnn('lstm2', x, *vs)
    f = K.function([x], [outs])
    np.testing.assert_allclose(f([xs])[0], np_rnn('lstm2', xs, Ws, Us, bs)[1], rtol=1e-12)
    K.set_value(vs[1], Us * 2)
    np.testing.assert_allclose(f([xs])[0], np_rnn('lstm2', xs, Ws, Us * 2, bs)[1], rtol=1e-12)


@pytest.mark.parametrize('value_too', [False, True])
def test_sliced_preactivation_gradients_equal_unrolled(value_too):
    """z = x W + h U + b read through slices only is kept as a shape by the loop (its slices'
    gradients need only that); read by value as well (square(z) here), its values are kept. Both
    give the unrolled loop's gradients, with the batch size known only at run time."""
    xs, Ws, Us, bs = arrays('lstm2')
    vs = [K.variable(a, 'float64') for a in (Ws, Us, bs)]
    x = K.placeholder(shape=(None, T, D), dtype='float64')

    def step(xt, states):
        z = K.dot(xt, vs[0]) + K.dot(states[0], vs[1]) + vs[2]
        h = K.sigmoid(z[:, :N]) * K.tanh(z[:, 2 * N:3 * N])
        if value_too:
            h = h + K.square(z)[:, N:2 * N]
        return h, [h]
    res = []
    for unroll in (False, True):
        _, outs, _ = K.rnn(step, x, [K.zeros((B, N), dtype='float64')], unroll=unroll)
        loss = K.sum(outs * K.constant(rand(B, T, N, seed=6), 'float64'))
        res.append(K.function([x], [loss] + K.gradients(loss, vs + [x]))([xs]))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
