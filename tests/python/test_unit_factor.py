"""x * 1, 1 * x and x / 1 (a constant 1 of x's dtype) run as a copy of x (cpp/exec/fold_unit.cpp):
the same bits, dtype, shape and gradient as the product, and never the caller's memory. Products
the rewrite must leave alone (a widening constant, 1 / x, a near-1 factor) keep their values."""
import numpy as np
import pytest

from keras_cpp import backend as K


def _special(dtype, shape=(5, 7)):
    x = (np.random.default_rng(3).standard_normal(shape) * 50).astype(dtype)
    if np.dtype(dtype).kind == 'f':
        x.flat[:4] = [np.nan, -0.0, np.inf, -np.inf]
    return x


@pytest.mark.parametrize('dtype', ['float16', 'float32', 'float64'])
def test_float_unit_factors_copy_x(dtype):
    x = _special(dtype)
    p = K.placeholder(shape=(None, None), dtype=dtype)
    f = K.function([p], [p * 1.0, 1.0 * p, p / 1.0, K.transpose(p) * 1.0])
    outs = f([x])
    for y in outs[:3]:
        assert y.dtype == x.dtype and y.shape == x.shape
        assert np.array_equal(y.view(np.uint8), x.view(np.uint8))  # bit for bit (-0.0 stays -0.0)
        assert not np.shares_memory(y, x)
    assert np.array_equal(outs[3].view(np.uint8), np.ascontiguousarray(x.T).view(np.uint8))
    assert not any(np.shares_memory(a, b) for i, a in enumerate(outs) for b in outs[i + 1:])
    xt = np.ascontiguousarray(x.T).T  # a fed strided array
    y = f([xt])[0]
    assert np.array_equal(y.view(np.uint8), x.view(np.uint8)) and not np.shares_memory(y, xt)


@pytest.mark.parametrize('dtype', ['int8', 'int32', 'int64', 'uint8'])
def test_int_unit_factor_copies_x(dtype):
    x = np.random.default_rng(1).integers(0, 100, (6, 9)).astype(dtype)
    p = K.placeholder(shape=(None, 9), dtype=dtype)
    y = K.function([p], [p * 1])([x])[0]
    assert y.dtype == x.dtype and not np.shares_memory(y, x)
    np.testing.assert_array_equal(y, x)
    z = K.function([p], [p / 1])([x])[0]  # true division: a float result, not folded
    np.testing.assert_array_equal(z, x / 1)


def test_unit_factor_gradient_and_intermediates():
    x = _special('float32', (4, 6))[:, ::-1].copy()
    x[0, 0] = 2.0  # finite values for the gradient
    x = np.nan_to_num(x, posinf=3.0, neginf=-3.0)
    w = np.random.default_rng(2).standard_normal((6, 5)).astype(np.float32)
    p = K.placeholder(shape=(None, 6))
    y = K.dot(p, K.constant(w)) * 1.0  # the product's buffer, handed over, is the result
    loss = K.sum(K.square(p * 1.0)) + K.sum(y)
    g = K.gradients(loss, [p])[0]
    out_y, out_g = K.function([p], [y, g])([x])
    np.testing.assert_allclose(out_y, x @ w, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(out_g, 2 * x + w.sum(axis=1), rtol=1e-5, atol=1e-5)


def test_unit_factor_of_a_variable_is_a_snapshot():
    x = _special('float32')
    v = K.variable(x)
    f = K.function([], [v * 1.0])
    y = f([])[0]
    K.set_value(v, np.zeros_like(x))
    assert np.array_equal(y.view(np.uint8), x.view(np.uint8))
    np.testing.assert_array_equal(f([])[0], np.zeros_like(x))


def test_products_that_are_not_x_keep_their_values():
    x = _special('float32', (4, 3))
    p = K.placeholder(shape=(None, 3))
    wide = K.constant(np.ones((2, 1, 3), np.float32))  # 1s, but the result is (2, 4, 3)
    one11 = K.constant(np.ones((1, 1), np.float32))  # numel 1 that does not widen: folded
    near = K.constant(np.float32(1.0000001))
    outs = K.function([p], [p * wide, p * one11, 1.0 / p, p * near, p + 0.0])([x])
    with np.errstate(divide='ignore'):
        refs = [x * np.ones((2, 1, 3), np.float32), x * np.ones((1, 1), np.float32), np.float32(1) / x,
                x * np.float32(1.0000001), x + np.float32(0)]
    for got, ref in zip(outs, refs):
        assert got.shape == ref.shape and got.dtype == ref.dtype
        assert np.array_equal(got.view(np.uint8), ref.view(np.uint8))
    p1 = K.placeholder(shape=(None,))
    got = K.function([p1], [p1 * one11])([x[0]])[0]  # a 1 of higher rank widens x: (3,) -> (1, 3)
    assert got.shape == (1, 3)
    np.testing.assert_array_equal(got, x[:1])
