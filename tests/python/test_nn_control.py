"""NN helpers (elu, hard_sigmoid, l2_normalize, in_top_k, batch normalization) and control flow
(map_fn, foldl, foldr, switch), beyond the op table's sweep (op_table.py: values, gradients and
errors over shapes and dtypes): the semantics_checklist.md lines as exact values, fn traced
exactly once, unknown batch sizes, tensors captured by the body, Python conditions and callables,
and a whole-branch switch running only its chosen branch.
"""
import numpy as np
import pytest

from keras_cpp import backend as K
from keras_cpp import _core

import gradcheck

RNG = np.random.RandomState(1234)


# ---------------------------------------------------------------- helpers
def ev(x):
    return K.eval(x)


def c(a, dtype='float32'):
    return K.constant(np.asarray(a), dtype=dtype)


# ---------------------------------------------------------------- elu / hard_sigmoid
def test_elu_checklist_and_ints():
    np.testing.assert_allclose(ev(K.elu(c([-1., 0., 1.]), 0.5)), [-0.31606, 0, 1], atol=1e-5)
    y = ev(K.elu(c([-1, 2], 'int32')))
    assert y.dtype == 'float32'
    np.testing.assert_allclose(y, [np.exp(-1) - 1, 2], rtol=1e-6)


def test_elu_grad_does_not_overflow():
    # The unused exp branch must not overflow into 0 * inf = nan.
    x = K.placeholder(shape=(2,))
    g = K.function([x], K.gradients(K.sum(K.elu(x)), [x]))([np.array([100., -1.], 'float32')])[0]
    np.testing.assert_allclose(g, [1, np.exp(-1)], rtol=1e-6)


def test_hard_sigmoid_checklist():
    y = ev(K.hard_sigmoid(c([-3, -2.5, -1, 0, 1, 2.5, 3])))
    np.testing.assert_allclose(y, [0, 0, .3, .5, .7, 1, 1], atol=1e-7)


# ---------------------------------------------------------------- l2_normalize
def test_l2_normalize_checklist():
    np.testing.assert_allclose(ev(K.l2_normalize(c([3., 4.]), 0)), [.6, .8], rtol=1e-6)
    np.testing.assert_array_equal(ev(K.l2_normalize(c([0., 0.]), 0)), [0, 0])
    np.testing.assert_allclose(ev(K.l2_normalize(c([1e-7, 0.]), 0)), [0.1, 0], rtol=1e-5)
    np.testing.assert_allclose(ev(K.l2_normalize(c([[3., 4.], [6., 8.]]))),
                               [[.268328, .357771], [.536656, .715542]], rtol=1e-5)
    y = ev(K.l2_normalize(c([3., 4.], 'float16'), 0))
    assert y.dtype == 'float16'
    np.testing.assert_allclose(y, [.6, .8], rtol=1e-3)


# ---------------------------------------------------------------- in_top_k
def test_in_top_k_checklist():
    p = c([[.1, .5, .5, .2]])

    def f(t, k):
        return bool(ev(K.in_top_k(p, c([t], 'int32'), k))[0])
    assert f(2, 1) and f(1, 1) and not f(3, 2) and f(3, 3) and not f(1, 0) and f(3, 4)


def test_in_top_k_placeholders_and_flags():
    p = K.placeholder(shape=(None, 3))
    t = K.placeholder(shape=(None,), dtype='int32')
    f = K.function([p, t], [K.in_top_k(p, t, 2)])
    np.testing.assert_array_equal(f([np.zeros((0, 3)), np.zeros((0,))])[0], np.zeros(0, bool))
    np.testing.assert_array_equal(f([np.array([[1, 2, 3.], [3, 2, 1]]), np.array([0, 0])])[0], [False, True])
    assert _core._ops['in_top_k'][3]  # registered non-differentiable


# ---------------------------------------------------------------- batch normalization
def test_batch_normalization_checklist():
    one = c(1.)
    assert abs(float(ev(K.batch_normalization(c(2.), one, one, c(.5), c(2.)))) - 2.499001) < 1e-6
    np.testing.assert_allclose(ev(K.batch_normalization(c([2.]), c(1.), c(1.), None, None)), [1 / np.sqrt(1.001)], rtol=1e-6)


def test_normalize_batch_in_training_returns_a_tuple_with_static_shapes():
    out = K.normalize_batch_in_training(K.placeholder(shape=(None, 4, 3)), None, None, [0, 1])
    assert isinstance(out, tuple) and len(out) == 3
    assert K.int_shape(out[0]) == (None, 4, 3) and K.int_shape(out[1]) == (3,) and K.int_shape(out[2]) == (3,)


def test_normalize_batch_in_training_checklist():
    x = c([[1, 10], [3, 30], [5, 20]])
    normed, mean, var = (ev(t) for t in K.normalize_batch_in_training(x, None, None, [0]))
    np.testing.assert_allclose(mean, [3, 20], rtol=1e-6)
    np.testing.assert_allclose(var, [2.666667, 66.666667], rtol=1e-6)
    np.testing.assert_allclose(normed[:, 0], [-1.224515, 0, 1.224515], rtol=1e-5)


# ---------------------------------------------------------------- map_fn / foldl / foldr
class Counter(object):
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *a):
        self.calls += 1
        return self.fn(*a)


def test_map_fn_values_and_single_trace():
    x = RNG.randn(5, 3).astype('float32')
    w = RNG.randn(3, 2).astype('float32')
    W = K.variable(w)
    fn = Counter(lambda r: K.tanh(K.dot(K.expand_dims(r, 0), W))[0] * 2.)
    y = K.map_fn(fn, c(x))
    assert fn.calls == 1 and K.int_shape(y) == (5, 2)
    np.testing.assert_allclose(ev(y), np.tanh(x @ w) * 2, rtol=1e-5)
    np.testing.assert_allclose(ev(y), np.tanh(x @ w) * 2, rtol=1e-5)
    K.gradients(K.sum(y), [W])
    assert fn.calls == 1


def test_map_fn_dtype_and_ints():
    idx = K.constant(np.arange(4), dtype='int32')
    table = K.constant([1.5, 2.5, 3.5, 4.5])
    y = K.map_fn(lambda i: K.cast(i * 2, 'float32') + table[0], idx, dtype='float32')
    assert K.dtype(y) == 'float32'
    np.testing.assert_allclose(ev(y), np.arange(4) * 2 + 1.5)
    y64 = K.map_fn(lambda r: r, c([1., 2.]), dtype='float64')
    assert ev(y64).dtype == 'float64'
    np.testing.assert_array_equal(ev(K.map_fn(lambda r: K.sum(r), np.array([[1, 2], [3, 4]]))), [3, 7])


def test_map_fn_in_function_unknown_batch():
    fn = Counter(lambda r: K.sum(r * r, keepdims=True))
    x = K.placeholder(shape=(None, 3))
    f = K.function([x], [K.map_fn(fn, x)])
    for n in (4, 1, 0):
        v = RNG.randn(n, 3).astype('float32')
        np.testing.assert_allclose(f([v])[0], (v * v).sum(1, keepdims=True), rtol=1e-5)
    assert fn.calls == 1


def test_map_fn_captures_outer_tensors_and_nests():
    x = K.placeholder(shape=(None, 2))
    s = K.placeholder(shape=(2,))
    y = K.map_fn(lambda r: K.map_fn(lambda e: e * K.sum(s), r) + s, x)
    f = K.function([x, s], [y])
    xv, sv = RNG.randn(3, 2).astype('float32'), np.array([2., -1.], 'float32')
    np.testing.assert_allclose(f([xv, sv])[0], xv * sv.sum() + sv, rtol=1e-5)


def test_map_fn_inputs_unchanged():
    v = RNG.randn(3, 2).astype('float32')
    V = K.variable(v)
    ev(K.map_fn(lambda r: r * 3., V))
    np.testing.assert_array_equal(K.get_value(V), v)


def test_map_fn_grad_through_a_captured_tensor():
    w = RNG.randn(2, 3)
    gradcheck.check_gradients(lambda x, W: K.map_fn(lambda r: K.sin(K.dot(K.expand_dims(r, 0), W)) * K.exp(W[0]), x),
                              [RNG.randn(4, 2), w])
    # a tensor the body does not depend on has gradient None
    x, z = K.placeholder(shape=(3,)), K.placeholder(shape=(3,))
    assert K.gradients(K.sum(K.map_fn(lambda r: r * 2., x) + 0. * K.sum(z)), [x, z])[0] is not None
    assert K.gradients(K.sum(K.map_fn(lambda r: r * 2., x)), [z]) == [None]


def test_fold_checklist_order():
    e = c([1e-20, 1e-20, 10, 10, 10])
    l = float(ev(K.foldl(lambda a, x: a * x, e)))
    r = float(ev(K.foldr(lambda a, x: a * x, e)))
    assert l == 0 or abs(l - 9.999946e-38) < 1e-43
    assert abs(r - 1e-37) < 1e-42


@pytest.mark.parametrize('fold,np_order', [(K.foldl, lambda v: v), (K.foldr, lambda v: v[::-1])])
def test_fold_values(fold, np_order):
    v = RNG.randn(5, 3)
    fn = Counter(lambda a, x: a * 0.5 + x)
    out = fold(fn, c(v, 'float64'))
    ref = np_order(v)[0]
    for row in np_order(v)[1:]:
        ref = ref * 0.5 + row
    np.testing.assert_allclose(ev(out), ref)
    acc = 1.
    for row in np_order(v):
        acc = acc * 0.5 + row.sum()
    # initializer of another shape than the elements (a Python number takes elems' dtype)
    out2 = fold(lambda a, x: a * 0.5 + K.sum(x), c(v, 'float64'), initializer=1)
    assert K.dtype(out2) == 'float64' and K.int_shape(out2) == ()
    np.testing.assert_allclose(ev(out2), acc)
    assert fn.calls == 1


def test_fold_in_function_unknown_batch():
    fn = Counter(lambda a, x: a + x * x)
    x = K.placeholder(shape=(None, 2))
    f = K.function([x], [K.foldl(fn, x, initializer=K.zeros((2,))), K.foldr(fn, x, initializer=K.zeros((2,)))])
    for n in (3, 1, 0):
        v = RNG.randn(n, 2).astype('float32')
        for got in f([v]):
            np.testing.assert_allclose(got, (v * v).sum(0), rtol=1e-5, atol=1e-7)
    assert fn.calls == 2


def test_fold_grad_through_captured_tensors():
    gradcheck.check_gradients(lambda e, i, w: K.foldr(lambda a, x: K.tanh(a * w + x), e, initializer=i),
                              [RNG.randn(3, 2), RNG.randn(2), RNG.randn(2)])
    gradcheck.check_gradients(lambda e, w: K.foldl(lambda a, x: a + K.sum(x * w), e, initializer=0.),
                              [RNG.randn(3, 2), RNG.randn(2)])


# ---------------------------------------------------------------- switch
def test_switch_scalar_picks_whole_branch():
    cond = K.placeholder(shape=(), dtype='int32')
    a, b = K.placeholder(shape=(2, 3)), K.placeholder(shape=(2, 3))
    f = K.function([cond, a, b], [K.switch(cond, a, b)])
    av, bv = RNG.randn(2, 3).astype('float32'), RNG.randn(2, 3).astype('float32')
    np.testing.assert_array_equal(f([1, av, bv])[0], av)
    np.testing.assert_array_equal(f([0, av, bv])[0], bv)
    assert K.switch(True, lambda: 'then', lambda: 'else') == 'then'
    np.testing.assert_array_equal(ev(K.switch(c(False, 'bool'), lambda: c([1., 2.]), lambda: c([3., 4.]))), [3, 4])


def test_switch_elementwise_checklist():
    y = ev(K.switch(c([1, 0], 'int32'), c(np.ones((2, 3))), c(np.zeros((2, 3)))))
    np.testing.assert_array_equal(y, [[1, 1, 1], [0, 0, 0]])
    y = ev(K.switch(c([[True, False]], 'bool'), c([[1., 2.]]), 0.))
    np.testing.assert_array_equal(y, [[1, 0]])
    assert ev(K.switch(c(True, 'bool'), 1, 0)).dtype == 'int32'
    np.testing.assert_array_equal(ev(K.switch(np.array([True, False]), c([1., 2.]), c([3., 4.]))), [1, 4])


def test_switch_runs_only_the_chosen_branch():
    # The else branch fails when it runs (noise_shape (5, 3) for a (2, 3) x), so a call that picks
    # `then` shows it was skipped; shared work and the outputs still run.
    x = K.placeholder(shape=(None, 3))
    n = K.placeholder(shape=(), dtype='int32')
    phase = K.placeholder(shape=(), dtype='int32')
    h = x * 2.0
    y = K.switch(phase, h + 1.0, K.dropout(h, 0.5, noise_shape=(n, 3), seed=3))
    f = K.function([x, n, phase], [y, h])
    xv = np.arange(6, dtype='float32').reshape(2, 3)
    got = f([xv, 5, 1])
    np.testing.assert_array_equal(got[0], xv * 2 + 1)
    np.testing.assert_array_equal(got[1], xv * 2)
    with pytest.raises(ValueError, match=r'\[dropout\] noise_shape'):
        f([xv, 5, 0])
    assert f([xv, 2, 0])[0].shape == (2, 3)


def test_skipped_random_branch_keeps_the_draw_sequence():
    # A dropout skipped in the test phase still counts as evaluated: the next training call draws
    # what it would have drawn had the branch run (the numbers do not depend on the phases seen).
    x = K.placeholder(shape=(64,))
    ones = np.ones(64, dtype='float32')
    f = K.function([x, K.learning_phase()], [K.in_train_phase(lambda: K.dropout(x, 0.5, seed=11), x * 1.0)])
    g = K.function([x], [K.dropout(x, 0.5, seed=11)])
    runs = [g([ones])[0] for _ in range(3)]
    np.testing.assert_array_equal(f([ones, 1])[0], runs[0])
    np.testing.assert_array_equal(f([ones, 0])[0], ones)
    np.testing.assert_array_equal(f([ones, 1])[0], runs[2])
    # A loop in a branch always runs: its body's draws advance on every call too.
    xs = K.placeholder(shape=(3, 8))
    body = lambda r: K.dropout(r, 0.5, seed=12)  # noqa: E731
    f2 = K.function([xs, K.learning_phase()], [K.in_train_phase(lambda: K.map_fn(body, xs), xs * 1.0)])
    g2 = K.function([xs], [K.map_fn(body, xs)])
    feed = np.ones((3, 8), dtype='float32')
    runs2 = [g2([feed])[0] for _ in range(3)]
    assert [f2([feed, p])[0].tolist() for p in (1, 0, 1)] == [runs2[0].tolist(), feed.tolist(), runs2[2].tolist()]


def test_nested_and_computed_conditions():
    x = K.placeholder(shape=(2,))
    a, b = K.placeholder(shape=(), dtype='int32'), K.placeholder(shape=(), dtype='int32')
    inner = K.switch(b, x + 1.0, x - 1.0)
    y = K.switch(a, inner * 10.0, K.switch(K.greater(K.sum(x), 0.0), x * 3.0, -x))
    f = K.function([x, a, b], [y])
    xv = np.array([1.0, 2.0], dtype='float32')
    for av in (0, 1):
        for bv in (0, 1):
            want = ((xv + 1 if bv else xv - 1) * 10) if av else xv * 3
            np.testing.assert_array_equal(f([xv, av, bv])[0], want)
    np.testing.assert_array_equal(f([-xv, 0, 0])[0], xv)
    # Branches of different static shapes still broadcast against each other (both run).
    z = K.function([a], [K.switch(a, K.ones((2, 3)), K.zeros((1, 3)))])
    assert z([0])[0].shape == (2, 3) and z([1])[0].shape == (2, 3)


# ---------------------------------------------------------------- small ones
def test_get_variable_shape_and_is_symbolic():
    v = K.variable(np.zeros((2, 3)))
    assert K.get_variable_shape(v) == (2, 3)
    assert K.get_variable_shape(K.placeholder(shape=(None, 4))) == (None, 4)
    assert K.is_symbolic(v) and K.is_symbolic(K.placeholder(shape=(1,))) and K.is_symbolic(v * 2)
    assert not K.is_symbolic(np.zeros(2)) and not K.is_symbolic(3)


def test_map_fn_random_and_stateful_ops_made_in_fn_run_per_element(capsys):
    w = K.variable([1., 2.])
    outer = K.print_tensor(w, message='outer')
    y = K.map_fn(lambda r: r + K.print_tensor(w, message='inner') + outer, K.constant([[0., 0.], [1., 1.], [2., 2.]]))
    np.testing.assert_allclose(ev(y), [[2, 4], [3, 5], [4, 6]])
    out = capsys.readouterr().out
    assert out.count('inner') == 3 and out.count('outer') == 1
