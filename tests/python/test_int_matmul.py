"""Integer dot/matmul (kernels/gemm_int.cpp): every integer dtype, odd sizes, transposed operands
read in place, and wrap-around on overflow (as numpy's and TF's integer matmul)."""
import numpy as np
import pytest

from keras_cpp import backend as K

INTS = ['int8', 'int16', 'int32', 'int64', 'uint8']
SIZES = [(1, 1, 1), (7, 33, 5), (64, 70, 130), (257, 3, 9), (3, 0, 4)]


def _ints(rng, shape, dt):
    info = np.iinfo(dt)
    return rng.integers(info.min, int(info.max) + 1, shape, dtype='int64').astype(dt)


@pytest.mark.parametrize('dt', INTS)
@pytest.mark.parametrize('m,k,n', SIZES)
def test_int_dot_layouts_and_wraparound(dt, m, k, n):
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    a, b = _ints(rng, (m, k), dt), _ints(rng, (k, n), dt)
    want = (a.astype('uint64') @ b.astype('uint64')).astype(dt)  # exact modulo 2**64, then wrapped
    plain = K.eval(K.dot(K.constant(a, dtype=dt), K.constant(b, dtype=dt)))
    b_t = K.eval(K.dot(K.constant(a, dtype=dt), K.transpose(K.constant(np.ascontiguousarray(b.T), dtype=dt))))
    a_t = K.eval(K.dot(K.transpose(K.constant(np.ascontiguousarray(a.T), dtype=dt)), K.constant(b, dtype=dt)))
    for got in (plain, b_t, a_t):
        assert got.dtype == np.dtype(dt)
        np.testing.assert_array_equal(got, want)


def test_int_batch_dot_parallel_rows():
    rng = np.random.default_rng(1)
    a, b = _ints(rng, (4, 300, 20), 'int32'), _ints(rng, (4, 20, 50), 'int32')
    want = np.einsum('bij,bjk->bik', a.astype('uint64'), b.astype('uint64')).astype('int32')
    np.testing.assert_array_equal(K.eval(K.batch_dot(K.constant(a, dtype='int32'), K.constant(b, dtype='int32'))), want)
