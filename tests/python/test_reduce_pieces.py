"""Reductions whose reduced run is long enough to be cut into pieces (cpp/ops/reduce.cpp): a
reduction over the leading axes of a wide tensor reads row pieces into partial rows, and a full
reduction sums spans. The pieces come from the sizes alone, so every thread count gives the same
bits; results are compared with numpy (float64 references for float sums), with NaN, integer,
bool, empty, size-1, negative-axis and non-contiguous cases.
"""
import numpy as np
import pytest

import keras_cpp
from keras_cpp import backend as K

# (shape, axis): leading-axis reductions with few column blocks (pieces), one of odd width over
# 1024 (two column blocks of 750), a middle axis with 3 outer rows, full reductions.
CASES = [((1037, 1500), 0), ((3, 700, 131), 1), ((5000, 17), -2), ((4100, 1, 33), 0),
         ((333, 1001), None), ((2, 200000), -1), ((1, 5000), 0), ((70001,), 0)]
REDS = ['sum', 'mean', 'max', 'min', 'prod', 'any', 'all']


def data(shape, dtype, red, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == 'bool':
        return rng.random(shape) < (0.999 if red == 'all' else 0.001)
    if dtype == 'int32':
        return rng.integers(-3, 4, shape).astype(np.int32)
    lo, hi = (0.999, 1.001) if red == 'prod' else (-2, 2)
    return rng.uniform(lo, hi, shape).astype(dtype)


def run(red, x, axis):
    p = K.placeholder(shape=x.shape, dtype=x.dtype.name)
    return K.function([p], [getattr(K, red)(p, axis=axis)])([x])[0]


def ref(red, x, axis):
    if red in ('any', 'all'):
        return getattr(np, red)(x, axis=axis)
    v = x.astype(np.float64) if x.dtype.kind == 'f' else x
    return getattr(np, red)(v, axis=axis)


@pytest.mark.parametrize('shape,axis', CASES)
@pytest.mark.parametrize('red', REDS)
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int32', 'bool'])
def test_long_reductions_match_numpy(shape, axis, red, dtype):
    if (red in ('any', 'all')) != (dtype == 'bool') and not (dtype == 'bool' and red in ('max', 'min')):
        pytest.skip('any/all are checked on bools; bools take max/min/any/all')
    if dtype == 'int32' and red == 'prod':
        pytest.skip('integer products of thousands of values overflow')
    x = data(shape, dtype, red)
    got, want = run(red, x, axis), ref(red, x, axis)
    assert got.shape == np.shape(want)
    if dtype in ('float32', 'float64') and red in ('sum', 'mean', 'prod'):
        tol = 1e-5 if dtype == 'float32' else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.sqrt(x.size))
    else:
        np.testing.assert_array_equal(got, np.asarray(want).astype(got.dtype))


@pytest.mark.parametrize('red', ['max', 'min'])
@pytest.mark.parametrize('shape,axis', [((1037, 1500), 0), ((4100, 1, 33), 0), ((333, 1001), None)])
def test_a_nan_in_one_piece_reaches_only_its_column(red, shape, axis):
    x = data(shape, 'float32', red)
    flat = x.reshape(shape[0], -1)
    flat[shape[0] // 2 + 7, 5] = np.nan  # inside a middle piece
    got = run(red, x, axis)
    want = getattr(np, red)(x, axis=axis)
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got).sum() == 1


@pytest.mark.parametrize('shape,axis', [((1037, 1500), 0), ((333, 1001), None), ((3, 700, 131), 1)])
def test_every_thread_count_gives_the_same_bits(shape, axis):
    x = data(shape, 'float32', 'sum', seed=1)
    before = keras_cpp.get_num_threads() if hasattr(keras_cpp, 'get_num_threads') else None
    try:
        outs = []
        for n in (1, 2, 3):
            keras_cpp.set_num_threads(n)
            outs.append([run(r, x, axis) for r in ('sum', 'mean', 'max')])
    finally:
        keras_cpp.set_num_threads(before or 2)
    for o in outs[1:]:
        for a, b in zip(outs[0], o):
            np.testing.assert_array_equal(a, b)


def test_leading_axis_sum_is_at_least_as_accurate_as_numpy():
    # 65536 rows of 0.1: a row-by-row float32 sum drifts (numpy 6e-4, one pass down the rows
    # 2.6e-4); six pieces of ~11000 rows summed apart drift ten times less (2.5e-5).
    x = np.full((65536, 3), 0.1, np.float32)
    got = run('sum', x, 0)
    exact = x.astype(np.float64).sum(axis=0)
    assert (np.abs(got - exact) <= np.abs(x.sum(axis=0) - exact)).all()
    assert (np.abs(got - exact) / exact < 1e-4).all()


def test_non_contiguous_empty_and_size_one():
    x = data((1500, 1037), 'float32', 'sum')
    p = K.placeholder(shape=x.shape)
    got = K.function([p], [K.sum(K.transpose(p), axis=-1)])([x])[0]  # a transposed view
    np.testing.assert_allclose(got, x.astype(np.float64).sum(axis=0), rtol=1e-5, atol=1e-3)
    assert run('sum', np.zeros((0, 1500), np.float32), 0).tolist() == [0.0] * 1500
    assert run('max', np.zeros((40000, 0), np.float32), 0).shape == (0,)
    assert np.isnan(run('mean', np.zeros((0, 3), np.float32), None))
    y = data((40000, 1), 'float64', 'sum')
    np.testing.assert_allclose(run('sum', y, 0), y.sum(axis=0), rtol=1e-12)
