"""K.rnn beyond the op table's sweep (op_table.py runs SimpleRNN/LSTM steps with masks,
go_backwards and unroll against reference.rnn, with finite-difference gradients): the
semantics_checklist.md "RNN / control flow" lines as exact values, constants and states
orders, input_length, rank-3 states, unknown batch and time, gradients through variables and
partial results, the learning phase inside a step, and run-time errors.
"""
import numpy as np
import pytest

from keras_cpp import backend as K

import gradcheck
import reference as R

RNG = np.random.RandomState(4321)


# ---------------------------------------------------------------- steps (K or reference as ops)
def simple_step(ops, W, U, b):
    def step(x, states):
        h = ops.tanh(ops.dot(x, W) + ops.dot(states[0], U) + b)
        return h, [h]
    return step


def lstm_step(ops, W, U, b, n):
    def step(x, states):
        h, c = states[0], states[1]
        z = ops.dot(x, W) + ops.dot(h, U) + b
        i, f, o = ops.sigmoid(z[:, :n]), ops.sigmoid(z[:, n:2 * n]), ops.sigmoid(z[:, 2 * n:3 * n])
        c2 = f * c + i * ops.tanh(z[:, 3 * n:])
        h2 = o * ops.tanh(c2)
        return h2, [h2, c2]
    return step


def counting_step(x, states):
    """Checklist step: output = input, state += 1."""
    return x, [states[0] + 1]


def run(fetches, feeds=None):
    feeds = feeds or {}
    f = K.function(list(feeds), list(fetches))
    return f(list(feeds.values()))


CHECK_IN = np.arange(1, 9, dtype='float32').reshape(2, 4, 1)


def checklist(mask, go_backwards=False, unroll=False):
    last, outs, states = K.rnn(counting_step, K.constant(CHECK_IN), [K.zeros((2, 1))], mask=K.constant(mask),
                               go_backwards=go_backwards, unroll=unroll)
    return [v[..., 0] for v in run([last, outs, states[0]])]


# ---------------------------------------------------------------- checklist values
@pytest.mark.parametrize('unroll', [False, True])
def test_checklist_masking(unroll):
    last, outs, st = checklist(np.array([[1, 1, 1, 1], [1, 1, 0, 0]], 'float32'), unroll=unroll)
    np.testing.assert_array_equal(outs, [[1, 2, 3, 4], [5, 6, 6, 6]])
    np.testing.assert_array_equal(last, [4, 6])
    np.testing.assert_array_equal(st, [4, 2])


@pytest.mark.parametrize('unroll', [False, True])
def test_checklist_go_backwards(unroll):
    last, outs, st = checklist(np.array([[1, 1, 1, 1], [1, 1, 0, 0]], 'int32'), go_backwards=True, unroll=unroll)
    np.testing.assert_array_equal(outs, [[4, 3, 2, 1], [0, 0, 6, 5]])
    np.testing.assert_array_equal(last, [1, 5])
    np.testing.assert_array_equal(st, [4, 2])


@pytest.mark.parametrize('unroll', [False, True])
def test_checklist_first_step_masked(unroll):
    last, outs, st = checklist(np.array([[0, 1, 1, 1], [1, 1, 1, 1]], bool), unroll=unroll)
    np.testing.assert_array_equal(outs, [[0, 2, 3, 4], [5, 6, 7, 8]])
    np.testing.assert_array_equal(st, [3, 4])


def test_no_states_and_constants_after_states():
    seen = []

    def step(x, states):
        seen.append(len(states))
        return x * states[-1] + states[0], states[:1] and [states[0] + 1]
    c = K.constant(np.array([[10.]], 'float32'))
    x = K.constant(CHECK_IN)
    _, outs, new = K.rnn(step, x, [K.zeros((2, 1))], constants=[c])
    assert set(seen) == {2} and len(new) == 1
    np.testing.assert_array_equal(run([outs])[0][..., 0], [[10, 21, 32, 43], [50, 61, 72, 83]])

    def step0(x, states):
        assert len(states) == 1  # the constant only
        return x * states[0], []
    last, outs, new = K.rnn(step0, x, [], constants=[c])
    assert new == []
    np.testing.assert_array_equal(run([last])[0][:, 0], [40, 80])


def test_input_length_tensor_acts_as_mask_and_int_is_informative():
    lengths = K.constant(np.array([4, 2], 'int32'))
    _, outs, st = K.rnn(counting_step, K.constant(CHECK_IN), [K.zeros((2, 1))], input_length=lengths)
    o, s = run([outs, st[0]])
    np.testing.assert_array_equal(o[..., 0], [[1, 2, 3, 4], [5, 6, 6, 6]])
    np.testing.assert_array_equal(s[:, 0], [4, 2])
    _, outs, st = K.rnn(counting_step, K.constant(CHECK_IN), [K.zeros((2, 1))], input_length=4)
    np.testing.assert_array_equal(run([st[0]])[0][:, 0], [4, 4])


# ---------------------------------------------------------------- values vs numpy
def rand(*shape):
    return RNG.uniform(-1, 1, shape)


@pytest.mark.parametrize('T', [1, 3])
@pytest.mark.parametrize('go_backwards', [False, True])
def test_unroll_equals_loop_rank3_states_and_outputs(T, go_backwards):
    B = 2
    A = K.constant(rand(3, 3), dtype='float32')

    def step(x, states):  # x (B, 2, 3), states (B, 2, 3) and (B, 4)
        s = K.tanh(K.dot(x + states[0], A))
        return s * 2, [s, states[1] + K.sum(x)]
    xs = K.constant(rand(B, T, 2, 3), dtype='float32')
    init = [K.constant(rand(B, 2, 3), dtype='float32'), K.zeros((B, 4))]
    mask = K.constant(np.array([[1, 0, 1][:T], [0, 1, 1][:T]], 'float32'))
    loop = K.rnn(step, xs, init, go_backwards, mask)
    unrolled = K.rnn(step, xs, init, go_backwards, mask, unroll=True)
    a, b = run([loop[0], loop[1]] + loop[2]), run([unrolled[0], unrolled[1]] + unrolled[2])
    assert a[1].shape == (B, T, 2, 3) and a[3].shape == (B, 4)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-7)


def test_unknown_batch_and_time_fed_different_sizes():
    n, D = 3, 2
    W, U, b = rand(D, n), rand(n, n), rand(n)
    x = K.placeholder(shape=(None, None, D))
    h0 = K.placeholder(shape=(None, n))
    m = K.placeholder(shape=(None, None))
    last, outs, st = K.rnn(simple_step(K, K.constant(W), K.constant(U), K.constant(b)), x, [h0], mask=m)
    assert K.int_shape(outs) == (None, None, n) and K.int_shape(last) == (None, n)
    f = K.function([x, h0, m], [last, outs, st[0]])
    for B, T in [(2, 5), (4, 1), (1, 7)]:
        xs, hs = rand(B, T, D).astype('float32'), rand(B, n).astype('float32')
        ms = (RNG.uniform(size=(B, T)) > 0.3).astype('float32')
        ref = R.rnn(simple_step(R, W, U, b), xs, [hs], mask=ms)
        got = f([xs, hs, ms])
        for g, r in zip(got, [ref[0], ref[1], ref[2][0]]):
            np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6)


def test_inputs_unchanged_and_static_shapes():
    xs = rand(2, 3, 4).astype('float32')
    x = K.constant(xs)
    last, outs, st = K.rnn(lambda x, s: (x * 2, [s[0] + x]), x, [K.zeros((2, 4))])
    assert K.int_shape(outs) == (2, 3, 4) and K.int_shape(st[0]) == (2, 4)
    np.testing.assert_allclose(run([outs])[0], xs * 2)
    np.testing.assert_array_equal(K.eval(x), xs)


# ---------------------------------------------------------------- gradients


def weighted_loss(last, outs, states, seed=0):
    r = np.random.RandomState(seed)
    dt = K.dtype(outs)
    loss = K.sum(outs * K.constant(r.uniform(-1, 1, K.int_shape(outs)), dtype=dt))
    loss = loss + K.sum(last * K.constant(r.uniform(-1, 1, K.int_shape(last)), dtype=dt))
    for s in states:
        loss = loss + K.sum(s * K.constant(r.uniform(-1, 1, K.int_shape(s)), dtype=dt))
    return loss


def test_grad_constants_variables_and_partial_results():
    B, T, D = 2, 3, 2
    V = K.variable(rand(D, D), dtype='float64')

    def build(x, c):
        def step(x, states):
            return K.tanh(K.dot(x, V) * states[1]) + states[0], [states[0] * 0.5 + x]
        last, outs, st = K.rnn(step, x, [K.zeros((B, D), dtype='float64')], constants=[c])
        return K.sum(last * last)  # only last_output: the other results get zero gradients
    gradcheck.check_gradients(build, [rand(B, T, D), rand(B, D)])
    x = K.placeholder(shape=(B, T, D), dtype='float64')
    _, outs, _ = K.rnn(lambda x, s: (K.dot(x, V), []), x, [])
    gv, gx = K.gradients(K.sum(outs), [V, x])
    xs = rand(B, T, D)
    gvv, gxv = K.function([x], [gv, gx])([xs])
    np.testing.assert_allclose(gvv, xs.sum(axis=(0, 1))[:, None] * np.ones((1, D)), rtol=1e-12)
    np.testing.assert_allclose(gxv, np.broadcast_to(K.get_value(V).sum(axis=1), (B, T, D)), rtol=1e-12)


def test_grad_unroll_equals_loop():
    n, B, T, D = 3, 2, 4, 2
    W, U, b = [K.variable(a) for a in (rand(D, 4 * n), rand(n, 4 * n), rand(4 * n))]
    x = K.constant(rand(B, T, D), dtype='float32')
    mask = K.constant(np.array([[1, 0, 1, 1], [1, 1, 1, 0]], 'float32'))
    init = [K.zeros((B, n)), K.zeros((B, n))]
    res = []
    for unroll in (False, True):
        loss = weighted_loss(*K.rnn(lstm_step(K, W, U, b, n), x, init, True, mask, unroll=unroll))
        res.append(run(K.gradients(loss, [W, U, b])))
    for a, b_ in zip(*res):
        np.testing.assert_allclose(a, b_, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- Keras layer needs
def test_learning_phase_flag_and_stateful_updates():
    """A Keras cell builds its (dropout) mask on its first call, gated by the learning phase;
    K.rnn makes that call outside the loop, so the mask is one outer tensor for all steps."""
    x = K.constant(np.ones((3, 4, 5), 'float32'))
    cache = {}

    def step(inp, states):
        if 'mask' not in cache:
            cache['mask'] = K.in_train_phase(K.ones_like(inp) * 2, K.ones_like(inp))
        h = inp * cache['mask'] + states[0]
        if getattr(cache['mask'], '_uses_learning_phase', False):
            h._uses_learning_phase = True
        return h, [h]
    v = K.variable(np.zeros((3, 5), 'float32'))
    last, outs, st = K.rnn(step, x, [v])
    assert last._uses_learning_phase is True
    f = K.function([K.learning_phase()], [outs], updates=[(v, st[0])])
    o = f([1])[0]
    np.testing.assert_allclose(o[0, :, 0], [2, 4, 6, 8])
    np.testing.assert_allclose(K.get_value(v), o[:, 3])
    np.testing.assert_allclose(f([0])[0][0, :, 0], [9, 10, 11, 12])  # test phase, from the updated state
    last2, _, _ = K.rnn(lambda i, s: (i, s), x, [])
    assert last2._uses_learning_phase is False


# ---------------------------------------------------------------- errors
def test_errors_beyond_the_table():
    h = K.zeros((2, 1))
    with pytest.raises(ValueError, match=r'\[rnn\].*new state 0 of shape \(2, 3\)'):
        K.rnn(lambda x, s: (x, [K.zeros((2, 3))]), K.zeros((2, 4, 1)), [h])
    with pytest.raises(TypeError, match=r'\[rnn\].*int32 new state'):
        K.rnn(lambda x, s: (x, [K.cast(s[0], 'int32')]), K.zeros((2, 4, 1)), [h])
    # run-time shape change of a state (unknown batch) is caught by the loop
    x = K.placeholder(shape=(None, 3, 1))
    hp = K.placeholder(shape=(None, 1))
    _, outs, _ = K.rnn(lambda x, s: (x, [s[0][:1]]), x, [hp])
    with pytest.raises(ValueError, match=r'\[rnn\]'):
        K.function([x, hp], [outs])([np.zeros((2, 3, 1)), np.zeros((2, 1))])
