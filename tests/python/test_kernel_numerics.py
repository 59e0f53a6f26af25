"""Kernel numerics: exp(-inf) = 0 and NaN propagation in the vector lanes, NaN-propagating
max/min/maximum/minimum/clip in either operand order, logsumexp of integers computed in float,
float32 activations (the TF-backend formulas with each transcendental within 1 ulp, or correctly
rounded where float_math.py says so), and the same checks on the AVX2 kernels when this machine
would pick AVX-512.

References are numpy: transcendental functions evaluated in float64 (and rounded once to float32
where the result must be correctly rounded), arithmetic in float32 in the order TensorFlow's
backend uses (Keras 2.3.1).
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_cpp import backend as K
from keras_cpp import _core

from float_math import assert_float_math, subprocess_env

f32 = np.float32
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
LENGTHS = [1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 65, 100]


def ev(t):
    return K.eval(t)


def cr(fn, x):
    """fn evaluated in float64, rounded once to x's float32: the correctly rounded result."""
    with np.errstate(all='ignore'):
        return fn(np.asarray(x, np.float64)).astype(np.float32)


def sample(n=20000, scale=6.0, seed=0):
    x = (np.random.default_rng(seed).standard_normal(n) * scale).astype(f32)
    x[:4] = [0.0, -0.0, 1e-30, -1e-30]
    return x


# ---------------------------------------------------------------- exp(-inf) and logsumexp
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('n', LENGTHS)
def test_exp_of_minus_inf_is_zero_in_every_lane(dtype, n):
    x = np.full(n, -np.inf, dtype)
    y = ev(K.exp(K.constant(x, dtype=dtype)))
    assert (y == 0).all() and not np.signbit(y).any()
    x = np.linspace(-800, 800, n).astype(dtype)
    x[n // 2] = np.nan
    got = ev(K.exp(K.constant(x, dtype=dtype)))
    if dtype == 'float32':
        assert_float_math('exp', got, x, np.exp)
    else:
        with np.errstate(all='ignore'):
            np.testing.assert_allclose(got, np.exp(x), rtol=1e-15)


def test_exp_keeps_subnormal_results():
    x = np.array([-100.0, -103.0, -87.5, -104.0], f32)
    got = ev(K.exp(K.constant(x)))
    assert_float_math('exp', got, x, np.exp)
    assert (got[:3] > 0).all()


@pytest.mark.parametrize('axis', [0, 1, -1, None])
def test_logsumexp_of_an_all_minus_inf_slice_is_minus_inf(axis):
    x = np.full((5, 33), -np.inf, f32)
    x[1:, 3] = 2.0
    x[2, :] = 1.0
    got = ev(K.logsumexp(K.constant(x), axis=axis))
    with np.errstate(divide='ignore'):
        want = np.log(np.sum(np.exp(x.astype(np.float64)), axis=axis))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.isneginf(ev(K.logsumexp(K.constant(np.full((4, 3), -np.inf, f32)), axis=0))).all()


@pytest.mark.parametrize('dtype', ['uint8', 'int8', 'int32', 'bool'])
def test_logsumexp_of_integers_is_computed_in_float(dtype):
    x = np.array([[0, 200, 1], [3, 2, 1]]).astype(dtype)
    got = ev(K.logsumexp(K.constant(x, dtype=dtype), axis=-1))
    want = np.log(np.exp(x.astype(np.float64)).sum(axis=-1))
    assert got.dtype == np.dtype(K.floatx())
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert abs(float(ev(K.logsumexp(K.constant(np.array([0, 200], 'uint8'), dtype='uint8')))) - 200.0) < 1e-4


@pytest.mark.parametrize('axis', [-1, 0])
def test_softmax_of_minus_inf_logits_is_exactly_zero(axis):
    x = np.random.default_rng(4).standard_normal((37, 41)).astype(f32)
    x[::3, ::2] = -np.inf
    got = ev(K.softmax(K.constant(x), axis=axis))
    z = x.astype(np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    want = e / e.sum(axis=axis, keepdims=True)
    assert (got[::3, ::2] == 0).all()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)


# ---------------------------------------------------------------- NaN propagation
@pytest.mark.parametrize('n', LENGTHS)
@pytest.mark.parametrize('red', ['max', 'min'])
def test_max_min_reductions_propagate_nan_from_any_position(n, red):
    base = np.arange(n, dtype=f32)
    for pos in range(n):
        x = base.copy()
        x[pos] = np.nan
        assert np.isnan(ev(getattr(K, red)(K.constant(x)))), (n, pos)
        # along a non-last axis (column reduction) too
        m = np.tile(x[:, None], (1, 5))
        assert np.isnan(ev(getattr(K, red)(K.constant(m), axis=0))).all()
    np.testing.assert_array_equal(ev(getattr(K, red)(K.constant(base))), getattr(np, red)(base))


def test_the_issue_reproducers_give_nan_in_both_orders():
    assert np.isnan(ev(K.max(K.constant([1, np.nan, 2])))) and np.isnan(ev(K.max(K.constant([np.nan, 1, 2]))))
    a, b = K.constant([1, np.nan, np.nan, 3]), K.constant([np.nan, 1, np.nan, 2])
    for f, npf in [(K.maximum, np.maximum), (K.minimum, np.minimum)]:
        np.testing.assert_array_equal(ev(f(a, b)), npf([1, np.nan, np.nan, 3], [np.nan, 1, np.nan, 2]))
        np.testing.assert_array_equal(ev(f(b, a)), npf([np.nan, 1, np.nan, 2], [1, np.nan, np.nan, 3]))
    np.testing.assert_array_equal(ev(K.clip(K.constant([np.nan, -1, 0.3, 2]), 0, 1)), np.array([np.nan, 0, 0.3, 1], f32))


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('shapes', [((37,), (37,)), ((4, 37), (37,)), ((37,), ()), ((), (5, 3)), ((6, 1), (1, 9))])
def test_maximum_minimum_broadcast_follow_numpy_with_nan(dtype, shapes):
    rng = np.random.default_rng(3)
    a = rng.standard_normal(shapes[0]).astype(dtype)
    b = rng.standard_normal(shapes[1]).astype(dtype)
    a[rng.random(a.shape) < 0.2] = np.nan
    b[rng.random(b.shape) < 0.2] = np.nan
    for f, npf in [(K.maximum, np.maximum), (K.minimum, np.minimum)]:
        np.testing.assert_array_equal(ev(f(K.constant(a, dtype=dtype), K.constant(b, dtype=dtype))), npf(a, b))
        np.testing.assert_array_equal(ev(f(K.constant(b, dtype=dtype), K.constant(a, dtype=dtype))), npf(b, a))


def test_nan_passes_through_unary_kernels():
    x = np.array([np.nan, 1.0, -np.inf, np.inf] * 9, f32)
    for name in ['exp', 'log', 'tanh', 'sigmoid', 'softplus', 'softsign', 'sqrt', 'abs', 'square', 'sign', 'round',
                 'relu', 'sin', 'cos']:
        y = ev(getattr(K, name)(K.constant(x)))
        assert np.isnan(y[::4]).all(), name


# ---------------------------------------------------------------- exact float32 activations
def test_selu_matches_tf_formula_exactly():
    """keras.activations.selu = scale * K.elu(x, alpha); TF: where(x > 0, x, alpha * expm1(x))."""
    x = sample()
    got = ev(SELU_SCALE * K.elu(K.constant(x), SELU_ALPHA))
    inner = np.where(x > 0, x, f32(SELU_ALPHA) * cr(np.expm1, x))
    np.testing.assert_allclose(got, f32(SELU_SCALE) * inner, rtol=1e-7, atol=0)


@pytest.mark.parametrize('alpha', [1.0, 0.3])
def test_elu_matches_exactly(alpha):
    x = sample(seed=1)
    got = ev(K.elu(K.constant(x), alpha))
    em1 = cr(np.expm1, x)
    want = np.where(x > 0, x, em1 if alpha == 1.0 else f32(alpha) * em1)
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=0)


@pytest.mark.parametrize('name,ref', [
    ('sigmoid', lambda v: 1 / (1 + np.exp(-v))),
    ('tanh', np.tanh),
    ('softplus', lambda v: np.logaddexp(0, v)),
    ('exp', np.exp),
    ('log', lambda v: np.log(np.abs(v))),
])
def test_transcendental_activations_are_accurate(name, ref):
    x = sample(seed=2)
    if name == 'log':
        x = np.abs(x)
    assert_float_math(name, ev(getattr(K, name)(K.constant(x))), x, ref)


def test_softsign_and_hard_sigmoid_follow_tf_arithmetic_exactly():
    x = sample(seed=3)
    np.testing.assert_array_equal(ev(K.softsign(K.constant(x))), x / (f32(1) + np.abs(x)))
    np.testing.assert_array_equal(ev(K.hard_sigmoid(K.constant(x))), np.clip(f32(0.2) * x + f32(0.5), f32(0), f32(1)))


def test_elu_gradient_stays_finite_for_large_inputs():
    x = K.constant(np.array([-50.0, -1.0, 0.0, 1.0, 100.0], f32))
    g = ev(K.gradients(K.sum(K.elu(x, 0.5)), [x])[0])
    np.testing.assert_allclose(g, [0.5 * np.exp(-50.0), 0.5 * np.exp(-1.0), 0.5, 1.0, 1.0], rtol=1e-6)


# ---------------------------------------------------------------- the AVX2 kernels on an AVX-512 machine
AVX2_SCRIPT = r'''
import numpy as np
from keras_cpp import backend as K
from keras_cpp import _core
f32 = np.float32
x = (np.random.default_rng(0).standard_normal(5003) * 6).astype(f32)
cr = lambda f, v: f(v.astype(np.float64)).astype(f32)
ev = K.eval
def near(got, f, v):  # within 1 ulp of float64 (float lanes), or correctly rounded (exact math)
    w = f(v.astype(np.float64))
    if _core._kernel_info()['exact_math']:
        return np.testing.assert_allclose(got, w.astype(f32), rtol=1e-7, atol=0)
    ulp = np.ldexp(1.0, np.maximum(np.frexp(np.abs(w))[1] - 24, -149))
    assert (np.abs(got - w) <= ulp).all()
np.testing.assert_array_equal(ev(K.exp(K.constant(np.full(33, -np.inf, f32)))), np.zeros(33, f32))
near(ev(K.tanh(K.constant(x))), np.tanh, x)
near(ev(K.sigmoid(K.constant(x))), lambda v: 1 / (1 + np.exp(-v)), x)
np.testing.assert_allclose(ev(K.softplus(K.constant(x))), cr(lambda v: np.logaddexp(0, v), x), rtol=1e-7, atol=0)
y = x.copy(); y[::7] = np.nan
np.testing.assert_array_equal(ev(K.maximum(K.constant(y), K.constant(x[::-1].copy()))), np.maximum(y, x[::-1]))
assert np.isnan(ev(K.max(K.constant(y)))) and np.isnan(ev(K.min(K.constant(y.reshape(-1, 1)), axis=0)))[0]
np.testing.assert_allclose(ev(K.sum(K.constant(x.reshape(-1, 1)), axis=0)), x.astype(np.float64).sum(keepdims=True), rtol=1e-5)
print("ok")
'''


def test_avx2_kernels_when_the_machine_has_avx512():
    """KERAS_CPP_ISA=avx2 makes a fresh process use the AVX2 table; the same checks must hold."""
    env = subprocess_env(KERAS_CPP_ISA='avx2')
    out = subprocess.run([sys.executable, '-c', AVX2_SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == 'ok', out.stderr[-2000:]


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('red', ['max', 'min', 'sum'])
def test_row_reductions_at_every_alignment_and_length(dtype, red):
    # Rows of odd length start at every offset from a vector boundary (head, body and tail paths);
    # one NaN per row, moving through the row, must reach that row's result and no other.
    rng = np.random.default_rng(3)
    for cols in (61, 64, 67, 130, 1000):
        rows = 24
        buf = rng.standard_normal(rows * cols + 1).astype(dtype)
        x = buf[1:].reshape(rows, cols)  # not vector-aligned
        if red != 'sum':
            for r in range(0, rows, 2):
                x[r, (r * 7) % cols] = np.nan
        p = K.placeholder(shape=(None, cols), dtype=np.dtype(dtype).name)
        got = K.function([p], [getattr(K, red)(p, axis=-1)])([x])[0]
        want = getattr(np, red)(x, axis=-1)
        if red == 'sum':
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
        else:
            np.testing.assert_array_equal(got, want)
            assert np.isnan(got[::2]).all() and not np.isnan(got[1::2]).any()
            col = K.function([p], [getattr(K, red)(p, axis=0)])([x.T.copy().T])[0]
            np.testing.assert_array_equal(col, getattr(np, red)(x, axis=0))
