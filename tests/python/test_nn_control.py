"""NN helpers (elu, hard_sigmoid, l2_normalize, in_top_k, batch normalization) and control flow
(map_fn, foldl, foldr, switch), plus get_variable_shape / is_symbolic (issue 4, nn group).

Each function: forward vs a numpy reference written like Keras's numpy_backend.py over shape
cases and dtypes, a float64 central-difference gradient check (or the non-differentiable flag),
bad inputs raising errors that name the function, and the semantics_checklist.md lines as
exact values. map_fn/foldl/foldr also check that fn is traced exactly once.
"""
import numpy as np
import pytest

from keras_cpp import backend as K
from keras_cpp import _core

COVERED = ['elu', 'hard_sigmoid', 'l2_normalize', 'in_top_k', 'batch_normalization',
           'normalize_batch_in_training', 'map_fn', 'foldl', 'foldr', 'switch',
           'get_variable_shape', 'is_symbolic']

RNG = np.random.RandomState(1234)


# ---------------------------------------------------------------- numpy references
def np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))


def np_hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def np_l2_normalize(x, axis=None):
    ax = tuple(axis) if isinstance(axis, list) else axis
    return x / np.sqrt(np.maximum(np.sum(x ** 2, axis=ax, keepdims=True), 1e-12))


def np_in_top_k(p, t, k):
    out = np.zeros(len(t), bool)
    for b in range(len(t)):
        if 0 <= t[b] < p.shape[1] and np.all(np.isfinite(p[b])):
            out[b] = np.sum(p[b] > p[b, t[b]]) < k
    return out


def np_batch_normalization(x, mean, var, beta, gamma, epsilon=1e-3):
    y = (x - mean) / np.sqrt(var + epsilon)
    if gamma is not None:
        y = y * gamma
    return y + beta if beta is not None else y


def np_normalize_batch_in_training(x, gamma, beta, axes, epsilon=1e-3):
    mean = x.mean(axis=tuple(axes))
    var = x.var(axis=tuple(axes))
    shape = [1 if i in axes else x.shape[i] for i in range(x.ndim)]
    g = None if gamma is None else gamma.reshape(shape)
    b = None if beta is None else beta.reshape(shape)
    return np_batch_normalization(x, mean.reshape(shape), var.reshape(shape), b, g, epsilon), mean, var


# ---------------------------------------------------------------- helpers
def ev(x):
    return K.eval(x)


def c(a, dtype='float32'):
    return K.constant(np.asarray(a), dtype=dtype)


def grad_check(build, *arrays, eps=1e-6, rtol=1e-4, atol=1e-6):
    """Compare K.gradients of sum(build(...) * w) with float64 central differences."""
    phs = [K.placeholder(shape=a.shape, dtype='float64') for a in arrays]
    out = build(*phs)
    shape = K.function(phs, [out])(list(arrays))[0].shape
    w = K.constant(RNG.uniform(0.5, 1.5, size=shape), dtype='float64')
    loss = K.sum(out * w)
    grads = K.gradients(loss, phs)
    assert all(g is not None for g in grads)
    f = K.function(phs, [loss] + grads)
    res = f(list(arrays))
    for i, a in enumerate(arrays):
        num = np.zeros_like(a)
        for j in range(a.size):
            ap, am = a.copy(), a.copy()
            ap.flat[j] += eps
            am.flat[j] -= eps
            fp = f([ap if k == i else arrays[k] for k in range(len(arrays))])[0]
            fm = f([am if k == i else arrays[k] for k in range(len(arrays))])[0]
            num.flat[j] = (fp - fm) / (2 * eps)
        np.testing.assert_allclose(res[1 + i], num, rtol=rtol, atol=atol)


SHAPES = [(), (3,), (2, 0, 3), (4, 1, 5)]


# ---------------------------------------------------------------- elu / hard_sigmoid
@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('alpha', [1.0, 0.5])
def test_elu_forward(shape, dtype, alpha):
    x = np.asarray(RNG.randn(*shape)).astype(dtype) * 3
    y = ev(K.elu(c(x, dtype), alpha))
    assert y.dtype == dtype and y.shape == shape
    np.testing.assert_allclose(y, np_elu(x, alpha), rtol=1e-6, atol=1e-7)


def test_elu_checklist_and_ints():
    np.testing.assert_allclose(ev(K.elu(c([-1., 0., 1.]), 0.5)), [-0.31606, 0, 1], atol=1e-5)
    y = ev(K.elu(c([-1, 2], 'int32')))
    assert y.dtype == 'float32'
    np.testing.assert_allclose(y, [np.exp(-1) - 1, 2], rtol=1e-6)


def test_elu_grad():
    grad_check(lambda x: K.elu(x, 0.7), RNG.randn(3, 4) + 0.05)
    # The unused exp branch must not overflow into 0 * inf = nan.
    x = K.placeholder(shape=(2,))
    g = K.function([x], K.gradients(K.sum(K.elu(x)), [x]))([np.array([100., -1.], 'float32')])[0]
    np.testing.assert_allclose(g, [1, np.exp(-1)], rtol=1e-6)


def test_elu_errors():
    with pytest.raises(TypeError, match='elu'):
        K.elu(c([True, False], 'bool'))


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_hard_sigmoid_forward(shape, dtype):
    x = np.asarray(RNG.randn(*shape)).astype(dtype) * 4
    y = ev(K.hard_sigmoid(c(x, dtype)))
    assert y.dtype == dtype and y.shape == shape
    np.testing.assert_allclose(y, np_hard_sigmoid(x), rtol=1e-6, atol=1e-7)


def test_hard_sigmoid_checklist():
    y = ev(K.hard_sigmoid(c([-3, -2.5, -1, 0, 1, 2.5, 3])))
    np.testing.assert_allclose(y, [0, 0, .3, .5, .7, 1, 1], atol=1e-7)


def test_hard_sigmoid_grad_and_errors():
    grad_check(K.hard_sigmoid, np.array([[-3.1, -1.2, 0.3], [1.7, 2.2, 4.0]]))
    with pytest.raises(TypeError, match='hard_sigmoid'):
        K.hard_sigmoid(c([True], 'bool'))


# ---------------------------------------------------------------- l2_normalize
@pytest.mark.parametrize('shape,axis', [((3,), None), ((3,), 0), ((2, 3), -1), ((2, 3), 0), ((2, 3, 4), [0, 2]),
                                        ((2, 0, 3), 1), ((4, 1, 5), None), ((1, 1), -1)])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_l2_normalize_forward(shape, axis, dtype):
    x = np.asarray(RNG.randn(*shape)).astype(dtype)
    y = ev(K.l2_normalize(c(x, dtype), axis=axis))
    assert y.dtype == dtype and y.shape == shape
    np.testing.assert_allclose(y, np_l2_normalize(x, axis), rtol=1e-5, atol=1e-7)


def test_l2_normalize_checklist():
    np.testing.assert_allclose(ev(K.l2_normalize(c([3., 4.]), 0)), [.6, .8], rtol=1e-6)
    np.testing.assert_array_equal(ev(K.l2_normalize(c([0., 0.]), 0)), [0, 0])
    np.testing.assert_allclose(ev(K.l2_normalize(c([1e-7, 0.]), 0)), [0.1, 0], rtol=1e-5)
    np.testing.assert_allclose(ev(K.l2_normalize(c([[3., 4.], [6., 8.]]))),
                               [[.268328, .357771], [.536656, .715542]], rtol=1e-5)
    y = ev(K.l2_normalize(c([3., 4.], 'float16'), 0))
    assert y.dtype == 'float16'
    np.testing.assert_allclose(y, [.6, .8], rtol=1e-3)


def test_l2_normalize_grad_and_errors():
    grad_check(lambda x: K.l2_normalize(x, axis=-1), RNG.randn(3, 4))
    grad_check(lambda x: K.l2_normalize(x), RNG.randn(2, 3))
    with pytest.raises(ValueError, match='l2_normalize'):
        K.l2_normalize(c([[1., 2.]]), axis=2)


# ---------------------------------------------------------------- in_top_k
def test_in_top_k_checklist():
    p = c([[.1, .5, .5, .2]])

    def f(t, k):
        return bool(ev(K.in_top_k(p, c([t], 'int32'), k))[0])
    assert f(2, 1) and f(1, 1) and not f(3, 2) and f(3, 3) and not f(1, 0) and f(3, 4)


@pytest.mark.parametrize('pdt', ['float32', 'float64'])
@pytest.mark.parametrize('tdt', ['int32', 'int64'])
@pytest.mark.parametrize('k', [-1, 0, 1, 2, 5, 7])
def test_in_top_k_forward(pdt, tdt, k):
    p = RNG.randint(0, 4, size=(6, 5)).astype(pdt)  # many ties
    t = np.array([0, 1, 2, 3, 4, 7], dtype=tdt)     # 7: out of range
    p[1, 2] = np.nan
    p[2, 0] = np.inf
    y = ev(K.in_top_k(c(p, pdt), c(t, tdt), k))
    assert y.dtype == bool and y.shape == (6,)
    np.testing.assert_array_equal(y, np_in_top_k(p, t, k))
    assert not y[1] and not y[2] and not y[5]


def test_in_top_k_placeholders_and_flags():
    p = K.placeholder(shape=(None, 3))
    t = K.placeholder(shape=(None,), dtype='int32')
    f = K.function([p, t], [K.in_top_k(p, t, 2)])
    np.testing.assert_array_equal(f([np.zeros((0, 3)), np.zeros((0,))])[0], np.zeros(0, bool))
    np.testing.assert_array_equal(f([np.array([[1, 2, 3.], [3, 2, 1]]), np.array([0, 0])])[0], [False, True])
    assert _core._ops['in_top_k'][3]  # registered non-differentiable


def test_in_top_k_errors():
    with pytest.raises(ValueError, match='in_top_k'):
        K.in_top_k(c([.1, .2]), c([0], 'int32'), 1)
    with pytest.raises(ValueError, match='in_top_k'):
        K.in_top_k(c([[.1, .2]]), c([0, 1], 'int32'), 1)
    with pytest.raises(TypeError, match='in_top_k'):
        K.in_top_k(c([[.1, .2]]), c([0.]), 1)


# ---------------------------------------------------------------- batch normalization
def test_batch_normalization_checklist():
    one = c(1.)
    assert abs(float(ev(K.batch_normalization(c(2.), one, one, c(.5), c(2.)))) - 2.499001) < 1e-6
    np.testing.assert_allclose(ev(K.batch_normalization(c([2.]), c(1.), c(1.), None, None)), [1 / np.sqrt(1.001)], rtol=1e-6)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('case', ['2d', '4d_last', '4d_first_bcast', '4d_first_1d', 'empty', 'no_gamma', 'no_beta'])
def test_batch_normalization_forward(dtype, case):
    shape, stat, axis = {'2d': ((5, 3), (3,), -1), '4d_last': ((2, 3, 4, 3), (3,), -1),
                         '4d_first_bcast': ((2, 3, 4, 5), (1, 3, 1, 1), 1), '4d_first_1d': ((2, 3, 4, 5), (3,), 1),
                         'empty': ((0, 3), (3,), -1), 'no_gamma': ((4, 2), (2,), -1), 'no_beta': ((4, 2), (2,), 1)}[case]
    x = np.asarray(RNG.randn(*shape)).astype(dtype)
    m, b, g = (RNG.randn(*stat).astype(dtype) for _ in range(3))
    v = RNG.uniform(0.1, 2, size=stat).astype(dtype)
    g = None if case == 'no_gamma' else g
    b = None if case == 'no_beta' else b
    y = ev(K.batch_normalization(c(x, dtype), c(m, dtype), c(v, dtype), None if b is None else c(b, dtype),
                                 None if g is None else c(g, dtype), axis=axis, epsilon=1e-3))
    bshape = [1] * len(shape)
    bshape[axis] = shape[axis]
    rs = (lambda a: a.reshape(bshape)) if case == '4d_first_1d' else (lambda a: a)
    ref = np_batch_normalization(x, rs(m), rs(v), None if b is None else rs(b), None if g is None else rs(g))
    assert y.dtype == dtype and y.shape == shape
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)


def test_batch_normalization_grad_and_errors():
    grad_check(lambda x, m, v, b, g: K.batch_normalization(x, m, v, b, g, epsilon=1e-3),
               RNG.randn(4, 3), RNG.randn(3), RNG.uniform(.5, 2, 3), RNG.randn(3), RNG.randn(3))
    with pytest.raises(ValueError, match='batch_normalization'):
        K.batch_normalization(c([[1.]]), c([1.]), c([1.]), None, None, axis=3)


def test_normalize_batch_in_training_checklist():
    x = c([[1, 10], [3, 30], [5, 20]])
    normed, mean, var = (ev(t) for t in K.normalize_batch_in_training(x, None, None, [0]))
    np.testing.assert_allclose(mean, [3, 20], rtol=1e-6)
    np.testing.assert_allclose(var, [2.666667, 66.666667], rtol=1e-6)
    np.testing.assert_allclose(normed[:, 0], [-1.224515, 0, 1.224515], rtol=1e-5)


@pytest.mark.parametrize('shape,axes', [((5, 3), [0]), ((2, 3, 4, 5), [0, 2, 3]), ((2, 4, 4, 3), [0, 1, 2]),
                                        ((3, 4, 2), [0, 1]), ((2, 3, 4), [0, 2]), ((1, 3), [0])])
@pytest.mark.parametrize('affine', [True, False])
def test_normalize_batch_in_training_forward(shape, axes, affine):
    x = RNG.randn(*shape).astype('float32') * 2 + 1
    kept = [shape[i] for i in range(len(shape)) if i not in axes]
    g = RNG.randn(*kept).astype('float32').reshape(-1) if affine else None  # 1-D over the kept axes
    b = RNG.randn(*kept).astype('float32').reshape(-1) if affine else None
    out = K.normalize_batch_in_training(c(x), None if g is None else c(g), None if b is None else c(b), axes, epsilon=1e-3)
    assert isinstance(out, tuple) and len(out) == 3
    ref = np_normalize_batch_in_training(x, g, b, axes)
    for got, want in zip(out, ref):
        np.testing.assert_allclose(ev(got), want, rtol=1e-4, atol=1e-5)
    assert K.int_shape(out[1]) == tuple(kept)


def test_normalize_batch_in_training_grad_and_errors():
    grad_check(lambda x, g, b: K.normalize_batch_in_training(x, g, b, [0, 2])[0],
               RNG.randn(3, 2, 2), RNG.randn(2), RNG.randn(2))
    grad_check(lambda x: K.normalize_batch_in_training(x, None, None, [0])[2], RNG.randn(4, 2))
    with pytest.raises(ValueError, match='normalize_batch_in_training'):
        K.normalize_batch_in_training(c([[1., 2.]]), None, None, [2])


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


@pytest.mark.parametrize('shape', [(4,), (3, 2), (2, 0), (1, 1, 3), (0, 3)])
def test_map_fn_shapes(shape):
    x = np.asarray(RNG.randn(*shape))
    y = ev(K.map_fn(lambda r: K.square(r) + 1., c(x, 'float64')))
    assert y.dtype == 'float64' and y.shape == shape
    np.testing.assert_allclose(y, x ** 2 + 1)


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


def test_map_fn_grad():
    w = RNG.randn(2, 3)
    grad_check(lambda x, W: K.map_fn(lambda r: K.sin(K.dot(K.expand_dims(r, 0), W)) * K.exp(W[0]), x), RNG.randn(4, 2), w)
    # a tensor the body does not depend on has gradient None
    x, z = K.placeholder(shape=(3,)), K.placeholder(shape=(3,))
    assert K.gradients(K.sum(K.map_fn(lambda r: r * 2., x) + 0. * K.sum(z)), [x, z])[0] is not None
    assert K.gradients(K.sum(K.map_fn(lambda r: r * 2., x)), [z]) == [None]


def test_map_fn_errors():
    with pytest.raises(ValueError, match='map_fn'):
        K.map_fn(lambda r: r, c(1.))
    with pytest.raises(TypeError, match='map_fn'):
        K.map_fn(lambda r: (r, r), c([1., 2.]))


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


def test_fold_grad():
    grad_check(lambda e: K.foldl(lambda a, x: a * x + K.sin(x), e), RNG.randn(4, 2))
    grad_check(lambda e, i, w: K.foldr(lambda a, x: K.tanh(a * w + x), e, initializer=i), RNG.randn(3, 2), RNG.randn(2), RNG.randn(2))
    grad_check(lambda e, w: K.foldl(lambda a, x: a + K.sum(x * w), e, initializer=0.), RNG.randn(3, 2), RNG.randn(2))


def test_fold_errors():
    with pytest.raises(ValueError, match='foldl'):
        K.foldl(lambda a, x: K.sum(a), c([[1., 2.]]))
    with pytest.raises(ValueError, match='foldr'):
        K.foldr(lambda a, x: a, c(3.))
    with pytest.raises(TypeError, match='foldl'):
        K.foldl(lambda a, x: K.cast(a, 'float64'), c([1., 2.]))


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


def test_switch_elementwise_checklist_and_errors():
    y = ev(K.switch(c([1, 0], 'int32'), c(np.ones((2, 3))), c(np.zeros((2, 3)))))
    np.testing.assert_array_equal(y, [[1, 1, 1], [0, 0, 0]])
    y = ev(K.switch(c([[True, False]], 'bool'), c([[1., 2.]]), 0.))
    np.testing.assert_array_equal(y, [[1, 0]])
    assert ev(K.switch(c(True, 'bool'), 1, 0)).dtype == 'int32'
    np.testing.assert_array_equal(ev(K.switch(np.array([True, False]), c([1., 2.]), c([3., 4.]))), [1, 4])
    with pytest.raises(ValueError, match='switch'):
        K.switch(c([[1, 0]], 'int32'), c([1., 2.]), c([3., 4.]))


def test_switch_grad():
    grad_check(lambda a, b: K.switch(K.constant(1, dtype='int32'), a, b) + K.switch(K.constant(0., dtype='float64'), a * 2, b * 3),
               RNG.randn(2, 3), RNG.randn(2, 3))
    grad_check(lambda a, b: K.switch(K.constant([True, False], dtype='bool'), a, b), RNG.randn(2, 3), RNG.randn(2, 3))


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
