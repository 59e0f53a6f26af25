"""Convolution and pooling beyond the op table's sweep (op_table.py compares every conv and pool
with reference_conv.py over strides, paddings, dilations and both data formats, checks their
gradients by finite differences and their bad calls): the semantics_checklist.md "Convolution and
pooling" lines as exact values, the transpose as the adjoint, unknown sizes, second-order
gradients and max-pool ties."""
import numpy as np
import pytest

from keras_cpp import backend as K

import gradcheck
import reference as R
import reference_conv as RC
from float_math import subprocess_env


RNG = np.random.default_rng(1234)


# ---------------------------------------------------------------- helpers
def run(fn, *arrays):
    phs = [K.placeholder(shape=a.shape, dtype=a.dtype.name) for a in arrays]
    return K.function(phs, [fn(*phs)])(list(arrays))[0]


def rand(shape, dtype='float64'):
    return RNG.standard_normal(shape).astype(dtype)


def test_conv2d_transpose_adjoint_and_dynamic_shape():
    """<conv(y), x> == <y, convT(x)>; output_shape with a None batch and scalar tensors (as the
    Conv2DTranspose layer builds it from K.shape)."""
    w, y, x = rand((3, 2, 2, 3)), rand((2, 7, 6, 2)), rand((2, 4, 3, 3))
    cy = run(lambda a, b: K.conv2d(a, b, (2, 2), 'same'), y, w)
    ph = K.placeholder(shape=(None, None, None, 3), dtype='float64')
    s = K.shape(ph)
    t = K.conv2d_transpose(ph, K.constant(w, dtype='float64'), (None, s[1] * 2 - 1, s[2] * 2, 2), (2, 2), 'same')
    ct = K.function([ph], [t])([x])[0]
    assert ct.shape == y.shape
    np.testing.assert_allclose(np.sum(cy * x), np.sum(y * ct), rtol=1e-12)


def test_batch_and_spatial_dims_unknown_until_run_time():
    x, w = rand((3, 7, 6, 2)), rand((3, 3, 2, 4))
    ph = K.placeholder(shape=(None, None, None, 2), dtype='float64')
    y = K.conv2d(ph, K.constant(w, dtype='float64'), (2, 2), 'same')
    p = K.pool2d(ph, (2, 2), (2, 2), 'same', pool_mode='avg')
    assert K.int_shape(y) == (None, None, None, 4)
    g = K.gradients(K.sum(y * y) + K.sum(p), [ph])[0]
    out, gp, gx = K.function([ph], [y, p, g])([x])
    np.testing.assert_allclose(out, R.conv2d(x, w, (2, 2), 'same'), rtol=1e-10)
    np.testing.assert_allclose(gp, R.pool2d(x, (2, 2), (2, 2), 'same', pool_mode='avg'), rtol=1e-10)
    assert gx.shape == x.shape


# ---------------------------------------------------------------- gradients (float64 finite differences)
def test_second_order_gradients():
    """Gradients of gradients (the grad ops are differentiable too): FD of d/dx sum(grad^2)."""
    def conv_gsq(x, w):
        g = K.gradients(K.sum(K.square(K.conv2d(x, w, (2, 1), 'same'))), [x, w])
        return K.sum(K.square(g[0])) + K.sum(K.square(g[1]))
    gradcheck.check_gradients(lambda x, w: K.reshape(conv_gsq(x, w), (1,)), [rand((1, 4, 3, 2)), rand((2, 2, 2, 2))])

    def pool_gsq(x):
        g = K.gradients(K.sum(K.square(K.pool2d(x, (2, 2), (1, 1), 'same'))), [x])[0]
        return K.reshape(K.sum(K.square(g) * x), (1,))
    gradcheck.check_gradients(pool_gsq, [rand((1, 3, 3, 2))])


def test_max_pool_ties_route_to_first_position():
    x = np.ones((1, 2, 2, 1))
    ph = K.placeholder(shape=x.shape, dtype='float64')
    g = K.gradients(K.sum(K.pool2d(ph, (2, 2), (2, 2))), [ph])[0]
    np.testing.assert_array_equal(K.function([ph], [g])([x])[0].reshape(-1), [1, 0, 0, 0])


# ---------------------------------------------------------------- semantics checklist (exact values)

def conv1(x, w, stride=1, padding='valid', dilation=1):
    x = np.asarray(x, 'float64').reshape(1, -1, 1)
    w = np.asarray(w, 'float64').reshape(-1, 1, 1)
    return run(lambda a, b: K.conv1d(a, b, stride, padding, 'channels_last', dilation), x, w).reshape(-1)


@pytest.mark.parametrize('case', [((5, 3, 2, 1), (3, 1, 1)), ((6, 3, 2, 1), (3, 0, 1)), ((5, 4, 1, 1), (5, 1, 2)),
                                  ((7, 2, 2, 1), (4, 0, 1)), ((4, 2, 2, 1), (2, 0, 0)), ((5, 1, 2, 1), (3, 0, 0)),
                                  ((8, 3, 1, 2), (8, 2, 2)), ((9, 3, 2, 2), (5, 2, 2))])
def test_same_padding_is_asymmetric(case):
    (n, k, s, d), (out, before, after) = case
    assert R.geom(n, k, s, d, 'same') == (out, before, after)
    x = np.arange(1, n + 1, dtype='float64')
    w = 10.0 ** np.arange(k)  # distinct taps reveal the alignment
    xp = np.concatenate([np.zeros(before), x, np.zeros(after)])
    ref = [sum(w[j] * xp[o * s + j * d] for j in range(k)) for o in range(out)]
    np.testing.assert_array_equal(conv1(x, w, s, 'same', d), ref)


@pytest.mark.parametrize('case', [((5, 3, 2, 1), 2), ((6, 3, 2, 1), 2), ((8, 3, 1, 2), 4), ((7, 2, 2, 1), 3)])
def test_valid_length(case):
    (n, k, s, d), out = case
    assert conv1(np.ones(n), np.ones(k), s, 'valid', d).shape == (out,)


def test_checklist_conv1d_values():
    np.testing.assert_array_equal(conv1(range(1, 7), [1, 0, -1]), [-2, -2, -2, -2])  # cross-correlation
    np.testing.assert_array_equal(conv1(range(1, 7), [1, 1, 1], 2, 'same'), [6, 12, 11])
    np.testing.assert_array_equal(conv1(range(1, 6), [1, 1, 1], 2, 'same'), [3, 9, 9])
    np.testing.assert_array_equal(conv1(range(1, 7), [1, 2], 1, 'same'), [5, 8, 11, 14, 17, 6])
    np.testing.assert_array_equal(conv1([1, 2, 3, 4], [1, 10], 1, 'causal'), [10, 21, 32, 43])
    np.testing.assert_array_equal(conv1([1, 2, 3, 4], [1, 10], 1, 'causal', 2), [10, 20, 31, 42])
    np.testing.assert_array_equal(conv1(range(1, 7), [1, 1], 1, 'valid', 2), [4, 6, 8, 10])
    with pytest.raises(ValueError, match='conv1d'):
        K.conv1d(K.placeholder((1, 1, 4)), K.placeholder((2, 1, 1)), 1, 'causal', 'channels_first')


def test_checklist_depthwise_channel_order():
    x = np.ones((1, 1, 1, 2))
    dk = np.arange(1, 7, dtype='float64').reshape(1, 1, 2, 3)  # in 2, mult 3
    y = run(lambda a, b: K.depthwise_conv2d(a, b), x, dk)
    np.testing.assert_array_equal(y.reshape(-1), [1, 2, 3, 4, 5, 6])  # channel c*mult + m = dk[c, m]


def test_checklist_transpose_values():
    x = np.array([1, 2, 3], 'float64').reshape(1, 1, 3, 1)
    w = np.array([1, 10, 100], 'float64').reshape(1, 3, 1, 1)
    same = run(lambda a, b: K.conv2d_transpose(a, b, (1, 1, 6, 1), (1, 2), 'same'), x, w)
    np.testing.assert_array_equal(same.reshape(-1), [1, 10, 102, 20, 203, 30])
    valid = run(lambda a, b: K.conv2d_transpose(a, b, (1, 1, 7, 1), (1, 2), 'valid'), x, w)
    np.testing.assert_array_equal(valid.reshape(-1), [1, 10, 102, 20, 203, 30, 300])


def pool1(x, p, s, padding, mode):
    x = np.asarray(x, 'float64').reshape(1, 1, -1, 1)
    return run(lambda a: K.pool2d(a, (1, p), (1, s), padding, 'channels_last', mode), x).reshape(-1)


def test_checklist_pool_values():
    np.testing.assert_array_equal(pool1(range(1, 6), 2, 2, 'same', 'max'), [2, 4, 5])
    np.testing.assert_array_equal(pool1(range(1, 6), 2, 2, 'same', 'avg'), [1.5, 3.5, 5])
    np.testing.assert_array_equal(pool1(range(1, 6), 3, 1, 'same', 'avg'), [1.5, 2, 3, 4, 4.5])
    np.testing.assert_array_equal(pool1([-1, -2, -3], 2, 1, 'same', 'max'), [-1, -2, -3])
    np.testing.assert_array_equal(pool1(range(1, 6), 2, 2, 'valid', 'max'), [2, 4])


# ---------------------------------------------------------------- errors

def ph(shape, dtype='float32'):
    return K.placeholder(shape=shape, dtype=dtype)


def test_conv_transpose_tensor_output_shape_checked_at_run_time():
    # inconsistent tensor-valued output_shape: caught when it runs
    p = ph((None, 3, 3, 2))
    t = K.conv2d_transpose(p, K.constant(np.ones((3, 3, 4, 2))), (None, K.shape(p)[1] * 3, 6, 4), (2, 2), 'same')
    with pytest.raises(ValueError, match='inconsistent'):
        K.function([p], [t])([np.ones((1, 3, 3, 2), 'float32')])


# Channel counts only known when the function runs (issue 10 item 6): every convolution checks them
# instead of reading past its buffers or using only the kernel's channels.
_K3 = np.ones((3, 3, 3, 4), 'float32')


@pytest.mark.parametrize('name,nd,build', [
    ('conv1d', 3, lambda p: K.conv1d(p, K.constant(np.ones((3, 3, 4), 'float32')))),
    ('conv2d', 4, lambda p: K.conv2d(p, K.constant(_K3))),
    ('conv2d', 4, lambda p: K.conv2d(p, K.constant(_K3), padding='same', data_format='channels_first')),
    ('conv3d', 5, lambda p: K.conv3d(p, K.constant(np.ones((3, 3, 3, 3, 4), 'float32')))),
    ('conv2d_transpose', 4, lambda p: K.conv2d_transpose(p, K.constant(np.ones((3, 3, 4, 3), 'float32')), (1, 7, 7, 4))),
    ('conv3d_transpose', 5, lambda p: K.conv3d_transpose(p, K.constant(np.ones((3, 3, 3, 4, 3), 'float32')), (1, 7, 7, 7, 4))),
    ('depthwise_conv2d', 4, lambda p: K.depthwise_conv2d(p, K.constant(np.ones((3, 3, 3, 2), 'float32')))),
    ('separable_conv2d', 4, lambda p: K.separable_conv2d(p, K.constant(np.ones((3, 3, 3, 2), 'float32')),
                                                        K.constant(np.ones((1, 1, 6, 4), 'float32')))),
])
def test_channel_count_checked_at_run_time(name, nd, build):
    p = ph((None,) * nd)
    f = K.function([p], [build(p)])
    with pytest.raises(ValueError, match=r'\[%s\] .*expects 3 input channels but x .* has 5' % name):
        f([np.ones((1,) + (5,) * (nd - 1), 'float32')])
    good = (1, 3) + (5,) * (nd - 2) if 'channels_first' in repr(build.__code__.co_consts) else (1,) + (5,) * (nd - 2) + (3,)
    ok = f([np.ones(good, 'float32')])[0]  # the same function with 3 channels runs
    assert np.all(np.isfinite(ok))


def test_window_larger_than_input_checked_at_run_time():
    p = ph((None,) * 4)
    f = K.function([p], [K.conv2d(p, K.constant(_K3))])
    with pytest.raises(ValueError, match=r'\[conv2d\] spatial dimension 0 of size 2 is smaller than the \(dilated\) window 3'):
        f([np.ones((1, 2, 5, 3), 'float32')])


def test_gradients_of_a_run_time_mismatch_raise_too():
    p, w = ph((None,) * 4), K.variable(_K3)
    g = K.gradients(K.sum(K.conv2d(p, w)), [p, w])
    with pytest.raises(ValueError, match=r'\[conv2d\] .*expects 3 input channels'):
        K.function([p], g)([np.ones((1, 5, 5, 5), 'float32')])


@pytest.mark.parametrize('fn,ks', [(K.conv1d, (1,)), (K.conv2d, (1, 1)), (K.conv3d, (1, 1, 1))])
def test_pointwise_channels_first_is_one_product(fn, ks):
    """1x1 unit-stride channels_first convolutions run as W^T x per sample (no transposes):
    values, unknown batch/spatial dims, gradients."""
    nsp = len(ks)
    x, w = rand((2, 5) + (4, 3, 2)[:nsp]), rand(ks + (5, 7))
    ref = getattr(RC, fn.__name__)(x, w, padding='same', data_format='channels_first')
    p = K.placeholder(shape=(None, 5) + (None,) * nsp, dtype='float64')
    y = fn(p, K.constant(w, dtype='float64'), padding='same', data_format='channels_first')
    assert K.int_shape(y) == (None, 7) + (None,) * nsp
    np.testing.assert_allclose(K.function([p], [y])([x])[0], ref, rtol=1e-12)
    gradcheck.check_gradients(lambda a, b: fn(a, b, data_format='channels_first'), [x, w])


def _max_pool_grad_ref(x, gy, ps, strides, padding):
    """d sum(pool(x) * gy) / dx by loops: each window's gy goes to its first max (scan order) among
    the real (unpadded) positions; NaN compares false, so a NaN first element keeps the window."""
    nsp = len(ps)
    gs = [RC.geom(n, k, s, 1, padding) for n, k, s in zip(x.shape[1:-1], ps, strides)]
    gx = np.zeros_like(x)
    for n in range(x.shape[0]):
        for o in np.ndindex(*[g[0] for g in gs]):
            pos = [p for p in np.ndindex(*ps)
                   if all(0 <= o[d] * strides[d] + p[d] - gs[d][1] < x.shape[1 + d] for d in range(nsp))]
            pos = [tuple(o[d] * strides[d] + p[d] - gs[d][1] for d in range(nsp)) for p in pos]
            for c in range(x.shape[-1]):
                best = pos[0]
                for q in pos[1:]:
                    if x[(n,) + q + (c,)] > x[(n,) + best + (c,)]:
                        best = q
                gx[(n,) + best + (c,)] += gy[(n,) + o + (c,)]
    return gx


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('shape,ps,strides,padding', [
    ((2, 6, 6, 5), (2, 2), (2, 2), 'valid'),     # windows tile the input
    ((2, 7, 5, 3), (2, 2), (2, 2), 'valid'),     # last row/column in no window
    ((1, 7, 5, 17), (2, 2), (2, 2), 'same'),     # padded edge windows
    ((1, 9, 8, 4), (2, 3), (3, 4), 'valid'),     # stride > pool: gaps between windows
    ((2, 6, 7, 3), (3, 3), (2, 2), 'same'),      # overlapping windows (scatter-add path)
    ((1, 5, 6, 4, 3), (2, 2, 2), (2, 2, 2), 'valid'),
])
def test_max_pool_gradient_matches_loops(shape, ps, strides, padding, dtype):
    x = RNG.standard_normal(shape).astype(dtype)
    x.flat[::7] = x.flat[1]  # ties
    x.flat[3] = np.nan
    pool = K.pool2d if len(ps) == 2 else K.pool3d
    ph = K.placeholder(shape=shape, dtype=dtype)
    y = pool(ph, ps, strides, padding, pool_mode='max')
    gph = K.placeholder(shape=K.int_shape(y), dtype=dtype)
    f = K.function([ph, gph], K.gradients(K.sum(y * gph), [ph]))
    gy = RNG.standard_normal(K.int_shape(y)).astype(dtype)
    got = f([x, gy])[0]
    np.testing.assert_array_equal(got, _max_pool_grad_ref(x, gy, ps, strides, padding).astype(dtype))


# ---------------------------------------------------------------- depthwise float32 kernels
# float32 with multiplier 1 runs the register-blocked kernels (vectors over channels, blocks of
# output columns, masked channel tails); float64 runs the general loops that the op table checks
# by finite differences. The float32 forward and both gradients must match numpy's reference
# and the float64 gradients, on each ISA (KERAS_CPP_ISA=avx2 in a fresh process).
DEPTHWISE_F32_SCRIPT = r'''
import numpy as np
from keras_cpp import backend as K
import reference_conv as RC
rng = np.random.default_rng(7)
cases = [((2, 7, 33, 19), 3, (1, 1), 'same', (1, 1)), ((1, 9, 17, 33), 5, (2, 2), 'same', (1, 1)),
         ((1, 6, 12, 16), 3, (1, 2), 'valid', (2, 1)), ((3, 5, 1, 7), 3, (1, 1), 'same', (1, 1)),
         ((1, 8, 56, 64), 3, (1, 1), 'same', (1, 1)), ((2, 5, 9, 1), 5, (1, 1), 'valid', (1, 1)),
         ((1, 6, 30, 24), 3, (2, 2), 'valid', (1, 1)),
         # wide rows: the forward's prefetch runs several blocks ahead, past the last row's end
         ((1, 3, 150, 20), 3, (1, 1), 'same', (1, 1)), ((1, 4, 101, 17), 3, (1, 2), 'same', (1, 1)),
         # outputs of >= 8 MiB go out with non-temporal stores (odd width: edge and overlap blocks)
         ((1, 35, 61, 1024), 3, (1, 1), 'same', (1, 1)), ((2, 25, 131, 384), 5, (1, 1), 'valid', (1, 1))]
for xs, k, st, pad, dl in cases:
    x = rng.standard_normal(xs)
    dk = rng.standard_normal((k, k, xs[3], 1)) * 0.3
    out = {}
    for dt in ('float32', 'float64'):
        px, pk = K.placeholder(shape=xs, dtype=dt), K.placeholder(shape=dk.shape, dtype=dt)
        y = K.depthwise_conv2d(px, pk, st, pad, dilation_rate=dl)
        g = rng.standard_normal(K.int_shape(y)) if dt == 'float32' else out['g']
        out['g'] = g
        gx, gk = K.gradients(K.sum(y * K.constant(g.astype(dt))), [px, pk])
        out[dt] = K.function([px, pk], [y, gx, gk])([x.astype(dt), dk.astype(dt)])
    ref = RC.depthwise_conv2d(x, dk, st, pad, dilation_rate=dl)
    what = '%s k=%d strides=%s %s dilation=%s' % (xs, k, st, pad, dl)
    np.testing.assert_allclose(out['float32'][0], ref, rtol=1e-4, atol=1e-4, err_msg='forward ' + what)
    for i, name in ((1, 'input grad'), (2, 'kernel grad')):
        scale = np.abs(out['float64'][i]).max() + 1
        np.testing.assert_allclose(out['float32'][i], out['float64'][i], rtol=1e-4, atol=1e-5 * scale, err_msg=name + ' ' + what)
print("ok")
'''


def _run_script_on_isa(script, isa):
    """Run script in a child process on the given kernels ('auto' or 'avx2'); it prints 'ok'."""
    import os
    import subprocess
    import sys
    env = subprocess_env()
    env.pop('KERAS_CPP_ISA', None)
    if isa != 'auto':
        env['KERAS_CPP_ISA'] = isa
    here = os.path.dirname(os.path.abspath(__file__))
    env['PYTHONPATH'] = os.pathsep.join([here, env.get('PYTHONPATH', '')])
    out = subprocess.run([sys.executable, '-c', script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == 'ok', out.stderr[-3000:]


@pytest.mark.parametrize('isa', ['auto', 'avx2'])
def test_depthwise_float32_kernels_on_each_isa(isa):
    _run_script_on_isa(DEPTHWISE_F32_SCRIPT, isa)


SEPARABLE_F32_SCRIPT = r'''
import numpy as np
from keras_cpp import backend as K
import reference_conv as RC
rng = np.random.default_rng(11)
# (x shape channels_last, kernel size, pointwise out, strides, padding, data_format): the fused
# depthwise-then-1x1 step (exec/fuse_conv.cpp) over odd widths (edge columns, row groups of 4 cut
# short), channel tails, one row per GEMM block and many, stride 2, and channels_first.
cases = [((2, 7, 33, 19), 3, 5, (1, 1), 'same', 'channels_last'), ((1, 9, 17, 33), 5, 40, (2, 2), 'same', 'channels_last'),
         ((3, 5, 1, 7), 3, 3, (1, 1), 'same', 'channels_last'), ((1, 11, 56, 64), 3, 64, (1, 1), 'same', 'channels_last'),
         ((2, 6, 300, 16), 3, 17, (1, 1), 'same', 'channels_last'), ((2, 5, 9, 3), 5, 2, (1, 1), 'valid', 'channels_last'),
         ((1, 6, 30, 24), 3, 8, (1, 2), 'valid', 'channels_first'), ((2, 13, 10, 8), 3, 9, (1, 1), 'same', 'channels_first')]
for xs, k, o, st, pad, fmt in cases:
    x = rng.standard_normal(xs).astype(np.float32)
    dk = (rng.standard_normal((k, k, xs[3], 1)) * 0.3).astype(np.float32)
    pk = (rng.standard_normal((1, 1, xs[3], o)) * 0.3).astype(np.float32)
    xin = np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if fmt == 'channels_first' else x
    px = K.placeholder(shape=(None,) + xin.shape[1:])
    y = K.separable_conv2d(px, K.variable(dk), K.variable(pk), st, pad, fmt)
    got = K.function([px], [y])([xin])[0]
    ref = RC.separable_conv2d(xin.astype(np.float64), dk.astype(np.float64), pk.astype(np.float64), st, pad, fmt)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4, err_msg='%s k=%d o=%d %s %s %s' % (xs, k, o, st, pad, fmt))
# separable_conv1d, and the depthwise result also returned (no fusion: both values as computed alone)
x = rng.standard_normal((3, 41, 12)).astype(np.float32)
dk, pk = rng.standard_normal((3, 12, 1)).astype(np.float32), rng.standard_normal((1, 12, 7)).astype(np.float32)
px = K.placeholder(shape=(None, 41, 12))
got = K.function([px], [K.separable_conv1d(px, K.variable(dk), K.variable(pk), 1, 'same')])([x])[0]
np.testing.assert_allclose(got, RC.separable_conv1d(x.astype(np.float64), dk, pk, 1, 'same'), rtol=1e-4, atol=1e-4)
px = K.placeholder(shape=(None, 9, 20, 16))
x = rng.standard_normal((2, 9, 20, 16)).astype(np.float32)
dk, pk = rng.standard_normal((3, 3, 16, 1)).astype(np.float32), rng.standard_normal((1, 1, 16, 4)).astype(np.float32)
d = K.depthwise_conv2d(px, K.variable(dk), padding='same')
both = K.function([px], [d, K.conv2d(d, K.variable(pk))])([x])
np.testing.assert_allclose(both[1], RC.separable_conv2d(x.astype(np.float64), dk, pk, padding='same'), rtol=1e-4, atol=1e-4)
np.testing.assert_allclose(both[0], RC.depthwise_conv2d(x.astype(np.float64), dk, padding='same'), rtol=1e-4, atol=1e-4)
print("ok")
'''


@pytest.mark.parametrize('isa', ['auto', 'avx2'])
def test_separable_fused_forward_on_each_isa(isa):
    """The forward of separable_conv2d/1d in float32 runs depthwise and pointwise as one step."""
    _run_script_on_isa(SEPARABLE_F32_SCRIPT, isa)
