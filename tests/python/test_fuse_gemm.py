"""The plan passes beside elementwise fusion: add(X, matmul(a, b)) and + bias folded into one GEMM
(cpp/exec/fuse_gemm.cpp), and slice gradients summed in place (cpp/exec/fuse_slices.cpp). The
rewritten plan gives the same bits as the unfused one (KERAS_CPP_FUSION=0); the GEMM's members run
one by one (same bits again) when the product is cut into k slices, is a GEMV, or the run-time
shapes broadcast; chains that are not pure slice gradients are left alone."""
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_cpp import backend as K

from test_fusion import build, compare, same_bits
from float_math import subprocess_env


def _data(rng, m, k, n, dtype='float32'):
    return (rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype) * 0.2,
            rng.standard_normal((m, n)).astype(dtype), rng.standard_normal(n).astype(dtype))


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('form', ['x+ab+b', 'ab+x+b', 'b+(x+ab)', 'x+ab', 'ab+b', 'b+ab'])
def test_folded_product_has_the_unfused_bits(form, dtype):
    rng = np.random.default_rng(len(form))
    a, w, x, b = _data(rng, 32, 96, 80, dtype)
    pa, px = K.placeholder(shape=(None, 96), dtype=dtype), K.placeholder(shape=(None, 80), dtype=dtype)
    W, B = K.variable(w, dtype=dtype), K.variable(b, dtype=dtype)
    ab = K.dot(pa, W)
    out = {'x+ab+b': (px + ab) + B, 'ab+x+b': (ab + px) + B, 'b+(x+ab)': B + (px + ab), 'x+ab': px + ab,
           'ab+b': ab + B, 'b+ab': B + ab}[form]
    n1, n0 = compare([pa, px], [out], [a, x])
    assert n1 == n0 - form.count('+')  # the adds run inside the GEMM
    ref = a.astype('float64') @ w + (x if 'x' in form else 0) + (b if 'b' in form.replace('ab', '') else 0)
    np.testing.assert_allclose(build(True, [pa, px], [out])([a, x])[0], ref, rtol=1e-4, atol=1e-4)


def _strided_addend_case(m, k, n, dtype):
    # X is the middle time step of a (M, 3, N) tensor: a slice with row stride 3N, read by the
    # GEMM where it lies (no copy into the output), as a recurrent step's hoisted x_t W is.
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a, w, _, b = _data(rng, m, k, n, dtype)
    x3 = rng.standard_normal((m, 3, n)).astype(dtype)
    pa, px = K.placeholder(shape=(None, k), dtype=dtype), K.placeholder(shape=(None, 3, n), dtype=dtype)
    out = px[:, 1, :] + K.dot(pa * 1.5, K.variable(w, dtype=dtype)) + K.variable(b, dtype=dtype)
    n1, n0 = compare([pa, px], [out], [a, x3])
    got = build(True, [pa, px], [out])([a, x3])[0]
    np.testing.assert_allclose(got, 1.5 * a.astype('float64') @ w + x3[:, 1, :] + b, rtol=1e-4, atol=1e-4)
    return n1, n0


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_a_strided_addend_is_read_in_place_with_the_unfused_bits(dtype):
    for m in (1, 7, 33):
        for k in (1, 7, 33):
            for n in (1, 7, 33):
                _strided_addend_case(m, k, n, dtype)


def test_a_strided_addend_on_the_avx2_kernels():
    """KERAS_CPP_ISA=avx2 in a fresh process: the AVX2 micro-kernels read the addend too."""
    if os.environ.get('KERAS_CPP_ISA') == 'avx2':
        pytest.skip('already the AVX2 run')
    env = subprocess_env(KERAS_CPP_ISA='avx2')
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', os.path.abspath(__file__),
                          '-k', 'strided_addend_is_read'], env=env, cwd=here, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]


@pytest.mark.parametrize('m, k, xrows', [(1, 64, 1), (16, 1024, 16), (16, 64, 1)])
def test_gemv_k_slices_and_broadcast_x_fall_back_to_the_members(m, k, xrows):
    # M == 1 (GEMV), K above any k slice (the sum would be cut), X (1, N) broadcast at run time.
    rng = np.random.default_rng(k)
    a, w, x, b = _data(rng, m, k, 48)
    pa, px = K.placeholder(shape=(None, k)), K.placeholder(shape=(None, 48))
    out = px + K.dot(pa, K.variable(w)) + K.variable(b)
    compare([pa, px], [out], [a, x[:xrows]])
    got = build(True, [pa, px], [out])([a, x[:xrows]])[0]
    np.testing.assert_allclose(got, a.astype('float64') @ w + x[:xrows] + b, rtol=1e-4, atol=1e-4)


def test_a_product_that_is_also_read_elsewhere_is_not_folded():
    rng = np.random.default_rng(2)
    a, w, x, _ = _data(rng, 8, 16, 24)
    pa, px = K.placeholder(shape=(8, 16)), K.placeholder(shape=(8, 24))
    ab = K.dot(pa, K.constant(w))
    n1, n0 = compare([pa, px], [px + ab, ab], [a, x])
    assert n1 == n0
    s = px + ab
    n1, n0 = compare([pa, px], [s * 2.0, s], [a, x])  # the sum is an output: only the product's add folds
    assert n1 == n0 - 1


def test_sum_of_two_products_folds_one():
    rng = np.random.default_rng(3)
    a, w, x, _ = _data(rng, 8, 16, 24)
    pa = K.placeholder(shape=(8, 16))
    out = K.dot(pa, K.constant(w)) + K.dot(pa * 2.0, K.constant(w[::-1].copy()))
    n1, n0 = compare([pa], [out], [a])
    assert n1 == n0 - 1


def test_integer_and_batched_products_are_left_alone():
    pa, pi = K.placeholder(shape=(2, 8, 16)), K.placeholder(shape=(8, 16), dtype='int32')
    a = np.random.default_rng(4).standard_normal((2, 8, 16)).astype('float32')
    n1, n0 = compare([pa], [K.batch_dot(pa, K.constant(np.ones((2, 16, 4), 'float32'))) + 1.0], [a])
    ai = np.arange(128, dtype='int32').reshape(8, 16) % 7
    n1, n0 = compare([pi], [K.dot(pi, K.constant(np.ones((16, 4), "int32"), dtype="int32")) + K.constant(np.ones((8, 4), "int32"), dtype="int32")], [ai])
    assert n1 == n0


@pytest.mark.parametrize('cell', ['lstm', 'simplernn'])
def test_recurrent_step_forward_and_gradients_match_the_unfused_plan(cell):
    rng = np.random.default_rng(5)
    T, I, H = 6, 12, 8
    g = 4 if cell == 'lstm' else 1
    x = rng.standard_normal((5, T, I)).astype('float32')
    W, U, b = (K.variable(rng.standard_normal(s).astype('float32') * 0.3) for s in [(I, g * H), (H, g * H), (g * H,)])

    def step(xt, states):
        z = K.dot(xt, W) + K.dot(states[0], U) + b
        if cell == 'simplernn':
            h = K.tanh(z)
            return h, [h]
        c = K.sigmoid(z[:, H:2 * H]) * states[1] + K.sigmoid(z[:, :H]) * K.tanh(z[:, 2 * H:3 * H])
        h = K.sigmoid(z[:, 3 * H:]) * K.tanh(c)
        return h, [h, c]
    px = K.placeholder(shape=(None, T, I))
    h0 = K.zeros((5, H))
    _, ys, _ = K.rnn(step, px, [h0] * (2 if cell == 'lstm' else 1))
    loss = K.mean(K.square(ys))
    outs = [ys] + K.gradients(loss, [W, U, b])
    r1, r0 = build(True, [px], outs)([x]), build(False, [px], outs)([x])
    assert same_bits(r1[0], r0[0])
    for p, q in zip(r1[1:], r0[1:]):
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-6)


def _slice_grad_case(slices, extra=False):
    z = np.random.default_rng(7).standard_normal((6, 40)).astype('float32')
    pz = K.placeholder(shape=(None, 40))
    parts = [K.sigmoid(pz[:, a:b]) * float(k + 1) for k, (a, b) in enumerate(slices)]
    loss = sum(K.sum(p * p) for p in parts) + (K.sum(K.exp(pz)) if extra else 0.0)
    return pz, K.gradients(loss, [pz])[0], z


@pytest.mark.parametrize('slices', [[(0, 10), (10, 20), (20, 30), (30, 40)], [(0, 25), (15, 40)], [(5, 9), (20, 21)]])
def test_slice_gradients_are_summed_in_place_with_the_unfused_bits(slices):
    # Disjoint tiles (an LSTM's gates), overlapping slices, and slices leaving zeros.
    pz, g, z = _slice_grad_case(slices)
    n1, n0 = compare([pz], [g], [z])
    # the L leaves and their (fused) adds become one step. The loss's forward (sums, squares, their
    # adds) is read only for its shape: those steps skip their kernels and are not fused (8 / 4 steps).
    assert (n1, n0) == ((63, 85) if len(slices) == 4 else (33, 43))
    ref = np.zeros_like(z, dtype='float64')
    for k, (a, b) in enumerate(slices):
        s = 1 / (1 + np.exp(-z[:, a:b].astype('float64')))
        ref[:, a:b] += 2 * (k + 1) ** 2 * s * s * (1 - s)
    np.testing.assert_allclose(build(True, [pz], [g])([z])[0], ref, rtol=1e-5, atol=1e-6)


def test_a_gradient_sum_with_other_terms_is_left_to_the_adds():
    pz, g, z = _slice_grad_case([(0, 20), (20, 40)], extra=True)
    compare([pz], [g], [z])
    f = build(True, [pz], [g])
    assert f._fn.num_steps > 0
