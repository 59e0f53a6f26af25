"""Data-movement kernels against numpy at odd shapes: concatenate joined row by row, elementwise ops
on transposed/permuted/sliced views (gathered panel by panel through the blocked transpose,
16x16 AVX-512 tiles or 8x8 AVX2 ones), and column reductions over wide blocks, with NaN kept.
Every check also runs in a fresh process with KERAS_CPP_ISA=avx2."""
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_cpp import backend as K
from float_math import subprocess_env

SHAPES_2D = [(1, 1), (1, 7), (7, 1), (7, 33), (33, 7), (16, 16), (17, 31), (64, 48), (129, 300), (300, 129)]


def _run(expr_fn, *arrays):
    ps = [K.placeholder(shape=a.shape, dtype=a.dtype.name) for a in arrays]
    return K.function(ps, [expr_fn(*ps)])(list(arrays))[0]


@pytest.mark.parametrize('shape', SHAPES_2D + [(3, 5, 17), (2, 33, 40), (0, 5), (5, 0)])
@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.int32, np.int8])
def test_concatenate_every_axis_matches_numpy(shape, dtype):
    rng = np.random.default_rng(len(shape) * 100 + shape[-1])
    for ax in range(-len(shape), len(shape)):
        sizes = [1, 3, 2]
        xs = []
        for s in sizes:
            sh = list(shape)
            sh[ax] = s if shape[ax] else 0
            xs.append((rng.standard_normal(sh) * 50).astype(dtype))
        got = _run(lambda *ps: K.concatenate(list(ps), axis=ax), *xs)
        np.testing.assert_array_equal(got, np.concatenate(xs, axis=ax))


def test_concatenate_mixed_dtypes_views_and_empty_parts():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((33, 7)).astype(np.float32)
    b = rng.standard_normal((33, 0)).astype(np.float32)
    c = rng.standard_normal((5, 33)).astype(np.float32)
    d = rng.integers(-9, 9, (33, 4)).astype(np.int32)
    pa, pb, pc, pd = K.constant(a), K.constant(b), K.constant(c), K.constant(d, dtype='int32')
    got = K.eval(K.concatenate([pa, pb, K.transpose(pc), pa[:, 1:6:2]], axis=-1))
    np.testing.assert_array_equal(got, np.concatenate([a, b, c.T, a[:, 1:6:2]], axis=-1))
    got = K.eval(K.concatenate([pa, K.cast(pd, 'float32')], axis=1))
    np.testing.assert_array_equal(got, np.concatenate([a, d.astype(np.float32)], axis=1))
    nan = a.copy()
    nan[3] = np.nan
    np.testing.assert_array_equal(K.eval(K.concatenate([K.constant(nan), pa], axis=0)), np.concatenate([nan, a]))


def _views(x):
    """(name, keras view, numpy view) of x that are not dense along their rows."""
    perm = list(range(x.ndim))[::-1]
    pk = K.constant(x, dtype=x.dtype.name)
    yield 'transpose', K.permute_dimensions(pk, perm), x.transpose(perm)
    if x.ndim == 3:
        yield 'permute021', K.permute_dimensions(pk, (0, 2, 1)), x.transpose(0, 2, 1)
        yield 'permute102', K.permute_dimensions(pk, (1, 0, 2)), x.transpose(1, 0, 2)
    if x.shape[-1] > 2:
        yield 'column_step', pk[..., ::2], x[..., ::2]


@pytest.mark.parametrize('shape', SHAPES_2D + [(1030, 17), (17, 1030), (3, 5, 17), (4, 33, 20), (2, 20, 1100)])
@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.int32, np.int8])
def test_elementwise_on_strided_views_matches_numpy(shape, dtype):
    rng = np.random.default_rng(shape[0] * 7 + shape[-1])
    x = (rng.standard_normal(shape) * 20).astype(dtype)
    if np.issubdtype(dtype, np.floating):
        x.flat[::13] = np.nan
    for name, kv, nv in _views(x):
        row = (rng.standard_normal(nv.shape[-1]) * 20).astype(dtype)
        cases = [
            ('times_scalar', kv * K.constant(3, dtype=x.dtype.name), nv * dtype(3)),
            ('plus_self', kv + kv, nv + nv),
            ('max_row', K.maximum(kv, K.constant(row, dtype=x.dtype.name)), np.maximum(nv, row)),
            ('greater', K.greater(kv, K.constant(row, dtype=x.dtype.name)), nv > row),
            ('abs', K.abs(kv), np.abs(nv)),
            ('square', K.square(kv), np.square(nv)),
        ]
        for what, ke, ne in cases:
            got = K.eval(ke)
            assert got.shape == ne.shape, (name, what)
            np.testing.assert_array_equal(got, ne, err_msg='%s %s %s' % (name, what, shape))


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_exp_and_relu_of_a_transposed_view(dtype):
    x = np.random.default_rng(9).standard_normal((37, 1029)).astype(dtype)
    x[:, 7] = -np.inf
    x[5, :] = np.nan
    got = K.eval(K.relu(K.transpose(K.constant(x, dtype=x.dtype.name))))
    np.testing.assert_array_equal(got, np.where(np.isnan(x.T), x.T, np.maximum(x.T, 0)))
    got = K.eval(K.exp(K.transpose(K.constant(x, dtype=x.dtype.name))))
    assert (np.delete(got[7], 5) == 0).all() and np.isnan(got[:, 5]).all()
    np.testing.assert_allclose(got, np.exp(x.T.astype(np.float64)), rtol=2e-7 if dtype == np.float32 else 1e-15)


def test_placeholder_fed_a_transposed_numpy_array():
    x = np.random.default_rng(2).standard_normal((300, 257)).astype(np.float32)
    got = _run(lambda p: K.transpose(p) * 2.0 - 1.0, x)
    np.testing.assert_array_equal(got, x.T * np.float32(2) - np.float32(1))
    got = _run(lambda p: p * 2.0, np.asfortranarray(x))
    np.testing.assert_array_equal(got, x * np.float32(2))


@pytest.mark.parametrize('cols', [1, 7, 33, 1000, 1024, 1030, 2100])
@pytest.mark.parametrize('red', ['sum', 'mean', 'max', 'min'])
def test_column_reductions_of_wide_blocks(cols, red):
    rng = np.random.default_rng(cols)
    for rows in (1, 5, 67):
        x = rng.standard_normal((rows, cols)).astype(np.float32)
        if red in ('max', 'min'):
            x[rows // 2, ::5] = np.nan
        got = _run(lambda p: getattr(K, red)(p, axis=0), x)
        want = getattr(np, red)(x.astype(np.float64), axis=0).astype(np.float32)
        if red in ('max', 'min'):
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
        x3 = rng.standard_normal((3, rows, cols)).astype(np.float32)
        got = _run(lambda p: K.sum(p, axis=1), x3)
        np.testing.assert_allclose(got, x3.astype(np.float64).sum(axis=1), rtol=1e-5, atol=1e-4)


def test_column_reduction_of_an_empty_axis():
    x = np.zeros((0, 1030), np.float32)
    np.testing.assert_array_equal(_run(lambda p: K.sum(p, axis=0), x), np.zeros(1030, np.float32))
    assert np.isnan(_run(lambda p: K.mean(p, axis=0), x)).all()


@pytest.mark.parametrize('dtype,rows', [(np.float32, 2100), (np.float64, 1100)])
def test_broadcast_rows_past_the_streaming_threshold(dtype, rows):
    # Outputs of 8 MiB or more are written with non-temporal stores, row by row here: 1030-element
    # rows start off 64-byte boundaries, so every row has an unaligned head and tail.
    rng = np.random.default_rng(rows)
    x = rng.standard_normal((rows, 1030)).astype(dtype)
    row = rng.standard_normal(1030).astype(dtype)
    col = rng.standard_normal((rows, 1)).astype(dtype)
    x[7, 3] = np.nan
    for f, ref in [(lambda p, q: p * q, np.multiply), (lambda p, q: q - p, lambda a, b: b - a),
                   (lambda p, q: K.maximum(p, q), np.maximum), (lambda p, q: p + q, np.add)]:
        for other in (row, col):
            np.testing.assert_array_equal(_run(f, x, other), ref(x, other))


@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.int8])
def test_copies_past_the_streaming_threshold(dtype):
    # Dense rows of copies of 8 MiB or more are written with non-temporal stores (pad's interior,
    # a slice made contiguous); a padding of 1 puts each row's start off a 64-byte boundary.
    # tile doubles blocks it has written and keeps cached stores: checked at the same size.
    n = (9 << 20) // np.dtype(dtype).itemsize // 1030
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((1, n, 1025, 1)) * 50).astype(dtype)
    got = _run(lambda p: K.spatial_2d_padding(p, ((1, 2), (1, 0))), x)
    np.testing.assert_array_equal(got, np.pad(x, ((0, 0), (1, 2), (1, 0), (0, 0))))
    y = x[0, :, :, 0]
    np.testing.assert_array_equal(_run(lambda p: p[:, 1:] * 1, y), y[:, 1:])
    np.testing.assert_array_equal(_run(lambda p: K.tile(p, (3, 1)), y[:n // 2]), np.tile(y[:n // 2], (3, 1)))


def test_the_same_checks_on_the_avx2_kernels():
    """KERAS_CPP_ISA=avx2: the transposes use 8x8 AVX2 tiles instead of 16x16 AVX-512 ones."""
    if os.environ.get('KERAS_CPP_ISA') == 'avx2':
        pytest.skip('already running with the AVX2 kernels')
    env = subprocess_env(KERAS_CPP_ISA='avx2')
    args = [sys.executable, '-m', 'pytest', '-q', '-x', '-p', 'no:cacheprovider', __file__,
            '-k', 'not avx2 and (float32 or float64 or placeholder or mixed or empty or streaming)']
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600,
                         cwd=os.path.dirname(os.path.abspath(__file__)))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]


@pytest.mark.parametrize('threads', [1, 2, 3])
@pytest.mark.parametrize('shape,reps,view', [((300, 257), (5, 3), None), ((1, 1000), (700, 1), None),
                                             ((257, 300), (4, 2), 'T'), ((6, 70, 130), (3, 1, 2), None),
                                             ((2, 3), (40000, 1), None)])
def test_tile_outer_repeats_split_over_threads(threads, shape, reps, view):
    # Large enough (>= 256 KB) that the copy runs on threads, which may split the outer repeats.
    import keras_cpp
    x = np.random.default_rng(len(shape) + threads).standard_normal(shape).astype('float32')
    src = x.T if view == 'T' else x
    old = keras_cpp.get_num_threads()
    keras_cpp.set_num_threads(threads)
    try:
        p = K.placeholder(shape=(None,) * src.ndim)
        got = K.function([p], [K.tile(p, list(reps))])([src])[0]
    finally:
        keras_cpp.set_num_threads(old)
    np.testing.assert_array_equal(got, np.tile(src, reps))


# Row widths in bytes around the inline row copy's edges (32 B vectors, 128 B blocks, 4 KiB).
@pytest.mark.parametrize('dtype', [np.int8, np.int16, np.float32, np.float64])
@pytest.mark.parametrize('row_bytes', [(8, 24, 40), (32, 31, 33), (127, 128, 129), (1024, 1024, 1024), (4096, 4104, 96)])
def test_concatenate_placeholder_row_widths(dtype, row_bytes):
    isz = np.dtype(dtype).itemsize
    widths = [max(1, b // isz) for b in row_bytes]
    rng = np.random.default_rng(sum(widths))
    xs = [(rng.standard_normal((37, w)) * 50).astype(dtype) for w in widths]
    xs[1] = np.asfortranarray(xs[1])  # a non-contiguous part (fed as is, packed by the op)
    got = _run(lambda *ps: K.concatenate(list(ps), axis=-1), *xs)
    np.testing.assert_array_equal(got, np.concatenate(xs, axis=-1))


# Materialized transposes (x.T * 1: one packed copy) across the 128 x 128 tiles' edges and tails,
# for 1-, 2-, 4- and 8-byte elements.
@pytest.mark.parametrize('shape', [(257, 130), (128, 256), (129, 1031), (8, 300), (300, 8), (1, 200), (200, 1)])
@pytest.mark.parametrize('dtype', [np.int8, np.int16, np.float16, np.float32, np.int64, np.float64])
def test_transpose_placeholder_tiles(shape, dtype):
    x = (np.random.default_rng(shape[0]).standard_normal(shape) * 50).astype(dtype)
    got = _run(lambda p: K.transpose(p) * 1, x)
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(got, np.ascontiguousarray(x.T))
    got = _run(lambda p: K.permute_dimensions(K.reshape(p, (1,) + shape), (2, 0, 1)) * 1, x)
    np.testing.assert_array_equal(got, x.T.reshape(shape[1], 1, shape[0]))
