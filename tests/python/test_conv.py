"""Convolution and pooling (backend_api.md section 11; semantics_checklist.md "Convolution and
pooling"): forward against numpy references written from the definitions (cross-correlation over
explicitly padded inputs), float64 finite-difference gradients, the checklist's exact values, and
bad arguments."""
import numpy as np
import pytest

from keras_cpp import backend as K

COVERED = ['conv1d', 'conv2d', 'conv3d', 'conv2d_transpose', 'conv3d_transpose', 'depthwise_conv2d',
           'separable_conv1d', 'separable_conv2d', 'pool2d', 'pool3d', 'local_conv1d', 'local_conv2d']

RNG = np.random.default_rng(1234)


# ---------------------------------------------------------------- numpy references (channels_last)

def geom(n, k, s, d, padding):
    """(out, pad_before, pad_after) of one spatial dim."""
    ke = (k - 1) * d + 1
    if padding == 'same':
        out = -(-n // s)
        total = max((out - 1) * s + ke - n, 0)
        return out, total // 2, total - total // 2
    pb = ke - 1 if padding == 'causal' else 0
    return (n + pb - ke) // s + 1, pb, 0


def _pad(x, ks, strides, padding, dilation, value=0.0):
    gs = [geom(n, k, s, d, padding) for n, k, s, d in zip(x.shape[1:-1], ks, strides, dilation)]
    xp = np.pad(x, [(0, 0)] + [(g[1], g[2]) for g in gs] + [(0, 0)], constant_values=value)
    return xp, [g[0] for g in gs]


def _window(xp, kpos, outs, strides, dilation):
    sl = tuple(slice(k * d, k * d + (o - 1) * s + 1, s) for k, o, s, d in zip(kpos, outs, strides, dilation))
    return xp[(slice(None),) + sl + (slice(None),)]


def np_conv(x, w, strides, padding, dilation):
    nsp = x.ndim - 2
    xp, outs = _pad(x, w.shape[:nsp], strides, padding, dilation)
    y = np.zeros((x.shape[0],) + tuple(outs) + (w.shape[-1],), dtype=np.float64)
    for kpos in np.ndindex(*w.shape[:nsp]):
        y += _window(xp, kpos, outs, strides, dilation) @ w[kpos]
    return y


def np_depthwise(x, dk, strides, padding, dilation):
    nsp = x.ndim - 2
    xp, outs = _pad(x, dk.shape[:nsp], strides, padding, dilation)
    c, m = dk.shape[-2:]
    y = np.zeros((x.shape[0],) + tuple(outs) + (c, m))
    for kpos in np.ndindex(*dk.shape[:nsp]):
        y += _window(xp, kpos, outs, strides, dilation)[..., None] * dk[kpos]
    return y.reshape(y.shape[:-2] + (c * m,))  # channel c*mult + m


def np_conv_transpose(x, w, out_spatial, strides, padding, dilation):
    """Adjoint of np_conv: kernel (k..., out, in); input i lands on i*s + k*d - pad_before."""
    nsp = x.ndim - 2
    gs = [geom(n, k, s, d, padding) for n, k, s, d in zip(out_spatial, w.shape[:nsp], strides, dilation)]
    full = np.zeros((x.shape[0],) + tuple(n + g[1] + g[2] for n, g in zip(out_spatial, gs)) + (w.shape[-2],))
    for kpos in np.ndindex(*w.shape[:nsp]):
        sl = tuple(slice(k * d, k * d + (o - 1) * s + 1, s) for k, o, s, d in zip(kpos, x.shape[1:-1], strides, dilation))
        full[(slice(None),) + sl + (slice(None),)] += x @ w[kpos].T
    crop = tuple(slice(g[1], g[1] + n) for n, g in zip(out_spatial, gs))
    return full[(slice(None),) + crop + (slice(None),)]


def np_pool(x, ps, strides, padding, mode):
    ones = np.ones(x.shape)
    xp, outs = _pad(x, ps, strides, padding, (1,) * len(ps), -np.inf if mode == 'max' else 0.0)
    mp, _ = _pad(ones, ps, strides, padding, (1,) * len(ps))
    acc = np.full((x.shape[0],) + tuple(outs) + (x.shape[-1],), -np.inf if mode == 'max' else 0.0)
    cnt = np.zeros_like(acc)
    for kpos in np.ndindex(*ps):
        v = _window(xp, kpos, outs, strides, (1,) * len(ps))
        acc = np.maximum(acc, v) if mode == 'max' else acc + v
        cnt += _window(mp, kpos, outs, strides, (1,) * len(ps))
    return acc if mode == 'max' else acc / cnt


def np_local(x, w, ks, strides, outs, fmt):
    """Unshared conv: window flattened (k..., C) channels_last or (C, k...) channels_first."""
    y = np.zeros((x.shape[0], int(np.prod(outs)), w.shape[-1]))
    for p, pos in enumerate(np.ndindex(*outs)):
        sl = tuple(slice(o * s, o * s + k) for o, s, k in zip(pos, strides, ks))
        if fmt == 'channels_last':
            win = x[(slice(None),) + sl + (slice(None),)]
        else:
            win = x[(slice(None), slice(None)) + sl]
        y[:, p] = win.reshape(x.shape[0], -1) @ w[p]
    y = y.reshape((x.shape[0],) + tuple(outs) + (w.shape[-1],))
    return y if fmt == 'channels_last' else np.moveaxis(y, -1, 1)


def to_first(a):
    return np.moveaxis(a, -1, 1)


def to_last(a):
    return np.moveaxis(a, 1, -1)


def run(fn, *arrays):
    phs = [K.placeholder(shape=a.shape, dtype=a.dtype.name) for a in arrays]
    return K.function(phs, [fn(*phs)])(list(arrays))[0]


def tol(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == 'float32' else dict(rtol=1e-10, atol=1e-10)


def rand(shape, dtype='float64'):
    return RNG.standard_normal(shape).astype(dtype)


def check_grad(fn, arrays, eps=1e-6):
    """Central finite differences of sum(fn(...) * w) against K.gradients, float64."""
    arrays = [a.astype('float64') for a in arrays]
    phs = [K.placeholder(shape=a.shape, dtype='float64') for a in arrays]
    out = fn(*phs)
    wts = K.constant(RNG.uniform(0.5, 1.5, size=K.int_shape(out)), dtype='float64')
    loss = K.sum(out * wts)
    grads = K.gradients(loss, phs)
    got = K.function(phs, grads)(arrays)
    floss = K.function(phs, [loss])
    for i, g in enumerate(got):
        assert g.shape == arrays[i].shape
        num = np.zeros(arrays[i].size)
        for j in range(arrays[i].size):
            plus = [a.copy() for a in arrays]
            minus = [a.copy() for a in arrays]
            plus[i].reshape(-1)[j] += eps
            minus[i].reshape(-1)[j] -= eps
            num[j] = (floss(plus)[0] - floss(minus)[0]) / (2 * eps)
        np.testing.assert_allclose(g.reshape(-1), num, rtol=1e-5, atol=1e-6, err_msg='input %d' % i)


# ---------------------------------------------------------------- forward vs numpy

CONV2D = [  # x (channels_last), kernel, strides, padding, dilation
    ((1, 5, 5, 3), (3, 3, 3, 4), (1, 1), 'valid', (1, 1)),
    ((3, 7, 6, 2), (2, 2, 2, 3), (2, 2), 'same', (1, 1)),
    ((2, 8, 7, 3), (3, 3, 3, 2), (1, 1), 'same', (2, 2)),
    ((2, 9, 8, 1), (3, 2, 1, 2), (2, 1), 'valid', (1, 1)),
    ((3, 6, 6, 4), (1, 1, 4, 5), (1, 1), 'valid', (1, 1)),
    ((2, 6, 5, 4), (1, 1, 4, 5), (2, 2), 'same', (1, 1)),
    ((1, 9, 9, 2), (3, 3, 2, 2), (2, 2), 'same', (2, 2)),
    ((3, 4, 4, 2), (4, 4, 2, 3), (1, 1), 'same', (1, 1)),
]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('fmt', ['channels_last', 'channels_first'])
@pytest.mark.parametrize('case', CONV2D)
def test_conv2d(case, fmt, dtype):
    xs, ws, st, pad, dl = case
    x, w = rand(xs, dtype), rand(ws, dtype)
    ref = np_conv(x.astype('float64'), w.astype('float64'), st, pad, dl)
    xin = x if fmt == 'channels_last' else to_first(x).copy()
    y = run(lambda a, b: K.conv2d(a, b, strides=st, padding=pad, data_format=fmt, dilation_rate=dl), xin, w)
    assert y.dtype == dtype
    np.testing.assert_allclose(y if fmt == 'channels_last' else to_last(y), ref, **tol(dtype))


CONV1D = [((2, 9, 3), (3, 3, 4), 1, 'valid', 1), ((3, 8, 2), (2, 2, 2), 2, 'same', 1),
          ((1, 7, 1), (3, 1, 2), 1, 'causal', 2), ((2, 7, 2), (2, 2, 3), 2, 'causal', 1),
          ((2, 10, 2), (3, 2, 2), 1, 'same', 3)]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('case', CONV1D)
def test_conv1d(case, dtype):
    xs, ws, st, pad, dl = case
    x, w = rand(xs, dtype), rand(ws, dtype)
    ref = np_conv(x.astype('float64'), w.astype('float64'), (st,), pad, (dl,))
    y = run(lambda a, b: K.conv1d(a, b, strides=st, padding=pad, data_format='channels_last', dilation_rate=dl), x, w)
    np.testing.assert_allclose(y, ref, **tol(dtype))
    if pad != 'causal':
        y = run(lambda a, b: K.conv1d(a, b, st, pad, 'channels_first', dl), to_first(x).copy(), w)
        np.testing.assert_allclose(to_last(y), ref, **tol(dtype))


@pytest.mark.parametrize('fmt', ['channels_last', 'channels_first'])
@pytest.mark.parametrize('case', [((2, 4, 5, 4, 2), (2, 3, 2, 2, 3), (1, 2, 1), 'same', (1, 1, 1)),
                                  ((1, 5, 5, 5, 1), (3, 3, 3, 1, 2), (1, 1, 1), 'valid', (1, 1, 2))])
def test_conv3d(case, fmt):
    xs, ws, st, pad, dl = case
    x, w = rand(xs), rand(ws)
    ref = np_conv(x, w, st, pad, dl)
    xin = x if fmt == 'channels_last' else to_first(x).copy()
    y = run(lambda a, b: K.conv3d(a, b, st, pad, fmt, dl), xin, w)
    np.testing.assert_allclose(y if fmt == 'channels_last' else to_last(y), ref, **tol('float64'))


TRANSPOSE = [  # output spatial, kernel (kh, kw, out, in), strides, padding, dilation
    ((6, 5), (3, 3, 2, 3), (2, 2), 'same', (1, 1)),
    ((7, 8), (3, 2, 2, 3), (2, 2), 'valid', (1, 1)),
    ((5, 5), (2, 2, 1, 2), (1, 1), 'same', (1, 1)),
    ((8, 7), (4, 3, 3, 2), (3, 2), 'valid', (1, 1)),
    ((7, 7), (3, 3, 2, 2), (1, 1), 'same', (2, 2)),
    ((9, 8), (3, 2, 2, 1), (1, 1), 'valid', (2, 2)),
]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('fmt', ['channels_last', 'channels_first'])
@pytest.mark.parametrize('case', TRANSPOSE)
def test_conv2d_transpose(case, fmt, dtype):
    osp, ws, st, pad, dl = case
    n = 3 if dtype == 'float32' else 1
    ins = [geom(o, k, s, d, pad)[0] for o, k, s, d in zip(osp, ws, st, dl)]
    x, w = rand((n,) + tuple(ins) + (ws[3],), dtype), rand(ws, dtype)
    ref = np_conv_transpose(x.astype('float64'), w.astype('float64'), osp, st, pad, dl)
    if fmt == 'channels_last':
        xin, oshape = x, (n,) + osp + (ws[2],)
    else:
        xin, oshape = to_first(x).copy(), (n, ws[2]) + osp
    y = run(lambda a, b: K.conv2d_transpose(a, b, oshape, st, pad, fmt, dl), xin, w)
    assert y.shape == oshape
    np.testing.assert_allclose(y if fmt == 'channels_last' else to_last(y), ref, **tol(dtype))


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


def test_conv3d_transpose():
    w, x = rand((2, 3, 2, 2, 3)), rand((2, 3, 2, 4, 3))
    osp = (5, 4, 8)
    ref = np_conv_transpose(x, w, osp, (2, 2, 2), 'same', (1, 1, 1))
    y = run(lambda a, b: K.conv3d_transpose(a, b, (2,) + osp + (2,), (2, 2, 2), 'same', 'channels_last'), x, w)
    np.testing.assert_allclose(y, ref, **tol('float64'))
    y = run(lambda a, b: K.conv3d_transpose(a, b, (2, 2) + osp, (2, 2, 2), 'same', 'channels_first'), to_first(x).copy(), w)
    np.testing.assert_allclose(to_last(y), ref, **tol('float64'))


DEPTHWISE = [((2, 6, 5, 3), (3, 3, 3, 2), (1, 1), 'same', (1, 1)),
             ((1, 7, 7, 2), (2, 2, 2, 1), (2, 2), 'same', (1, 1)),
             ((3, 8, 6, 4), (3, 2, 4, 3), (1, 2), 'valid', (1, 1)),
             ((1, 9, 9, 2), (3, 3, 2, 2), (1, 1), 'valid', (2, 2))]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('fmt', ['channels_last', 'channels_first'])
@pytest.mark.parametrize('case', DEPTHWISE)
def test_depthwise_and_separable_conv2d(case, fmt, dtype):
    xs, ks, st, pad, dl = case
    x, dk, pk = rand(xs, dtype), rand(ks, dtype), rand((1, 1, ks[2] * ks[3], 3), dtype)
    ref = np_depthwise(x.astype('float64'), dk.astype('float64'), st, pad, dl)
    sref = ref @ pk[0, 0].astype('float64')
    xin = x if fmt == 'channels_last' else to_first(x).copy()
    back = (lambda a: a) if fmt == 'channels_last' else to_last
    y = run(lambda a, b: K.depthwise_conv2d(a, b, st, pad, fmt, dl), xin, dk)
    np.testing.assert_allclose(back(y), ref, **tol(dtype))
    y = run(lambda a, b, c: K.separable_conv2d(a, b, c, st, pad, fmt, dl), xin, dk, pk)
    np.testing.assert_allclose(back(y), sref, **tol(dtype))


@pytest.mark.parametrize('case', [((2, 9, 3), (3, 3, 2), 1, 'same', 1), ((1, 10, 2), (2, 2, 1), 2, 'valid', 1),
                                  ((2, 9, 2), (3, 2, 2), 1, 'valid', 2)])
def test_separable_conv1d(case):
    xs, ks, st, pad, dl = case
    x, dk, pk = rand(xs), rand(ks), rand((1, ks[1] * ks[2], 4))
    ref = np_depthwise(x, dk, (st,), pad, (dl,)) @ pk[0]
    y = run(lambda a, b, c: K.separable_conv1d(a, b, c, st, pad, 'channels_last', dl), x, dk, pk)
    np.testing.assert_allclose(y, ref, **tol('float64'))
    y = run(lambda a, b, c: K.separable_conv1d(a, b, c, (st,), pad, 'channels_first', (dl,)), to_first(x).copy(), dk, pk)
    np.testing.assert_allclose(to_last(y), ref, **tol('float64'))


POOL2D = [((2, 5, 6, 3), (2, 2), (2, 2), 'same'), ((1, 7, 7, 2), (3, 3), (1, 1), 'same'),
          ((3, 6, 7, 1), (2, 3), (2, 1), 'valid'), ((2, 4, 4, 2), (3, 3), (3, 3), 'same'),
          ((1, 5, 5, 20), (2, 2), (1, 1), 'valid')]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('fmt', ['channels_last', 'channels_first'])
@pytest.mark.parametrize('case', POOL2D)
def test_pool2d(case, fmt, mode, dtype):
    xs, ps, st, pad = case
    x = rand(xs, dtype)
    ref = np_pool(x.astype('float64'), ps, st, pad, mode)
    xin = x if fmt == 'channels_last' else to_first(x).copy()
    y = run(lambda a: K.pool2d(a, ps, st, pad, fmt, mode), xin)
    assert y.dtype == dtype
    np.testing.assert_allclose(y if fmt == 'channels_last' else to_last(y), ref, **tol(dtype))


@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('fmt', ['channels_last', 'channels_first'])
def test_pool3d(fmt, mode):
    x = rand((2, 5, 4, 6, 3))
    for ps, st, pad in [((2, 2, 2), (2, 2, 2), 'same'), ((3, 2, 3), (1, 2, 2), 'valid')]:
        ref = np_pool(x, ps, st, pad, mode)
        xin = x if fmt == 'channels_last' else to_first(x).copy()
        y = run(lambda a: K.pool3d(a, ps, st, pad, fmt, mode), xin)
        np.testing.assert_allclose(y if fmt == 'channels_last' else to_last(y), ref, **tol('float64'))


@pytest.mark.parametrize('fmt', ['channels_last', 'channels_first'])
def test_local_conv(fmt):
    x1 = rand((3, 9, 2))
    w1 = rand((4, 3 * 2, 5))  # kw 3, stride 2 -> 4 positions
    xin = x1 if fmt == 'channels_last' else to_first(x1).copy()
    y = run(lambda a, b: K.local_conv1d(a, b, (3,), (2,), fmt), xin, w1)
    np.testing.assert_allclose(y, np_local(xin, w1, (3,), (2,), (4,), fmt), rtol=1e-10)
    x2 = rand((2, 6, 7, 3))
    w2 = rand((2 * 3, 3 * 2 * 3, 4))  # kernel (3, 2), strides (2, 2) -> (2, 3)
    xin = x2 if fmt == 'channels_last' else to_first(x2).copy()
    y = run(lambda a, b: K.local_conv2d(a, b, (3, 2), (2, 2), (2, 3), fmt), xin, w2)
    np.testing.assert_allclose(y, np_local(xin, w2, (3, 2), (2, 2), (2, 3), fmt), rtol=1e-10)


def test_batch_and_spatial_dims_unknown_until_run_time():
    x, w = rand((3, 7, 6, 2)), rand((3, 3, 2, 4))
    ph = K.placeholder(shape=(None, None, None, 2), dtype='float64')
    y = K.conv2d(ph, K.constant(w, dtype='float64'), (2, 2), 'same')
    p = K.pool2d(ph, (2, 2), (2, 2), 'same', pool_mode='avg')
    assert K.int_shape(y) == (None, None, None, 4)
    g = K.gradients(K.sum(y * y) + K.sum(p), [ph])[0]
    out, gp, gx = K.function([ph], [y, p, g])([x])
    np.testing.assert_allclose(out, np_conv(x, w, (2, 2), 'same', (1, 1)), rtol=1e-10)
    np.testing.assert_allclose(gp, np_pool(x, (2, 2), (2, 2), 'same', 'avg'), rtol=1e-10)
    assert gx.shape == x.shape


def test_inputs_not_modified_and_float16():
    x, w = rand((1, 5, 5, 2), 'float32'), rand((3, 3, 2, 2), 'float32')
    x0, w0 = x.copy(), w.copy()
    run(lambda a, b: K.conv2d(a, b, padding='same'), x, w)
    assert np.array_equal(x, x0) and np.array_equal(w, w0)
    y = run(lambda a, b: K.conv2d(a, b, padding='same'), x.astype('float16'), w.astype('float16'))
    assert y.dtype == np.float16
    np.testing.assert_allclose(y, np_conv(x, w, (1, 1), 'same', (1, 1)), rtol=2e-2, atol=2e-2)


# ---------------------------------------------------------------- gradients (float64 finite differences)

GRADS = {
    'conv2d_same_s2': (lambda x, w: K.conv2d(x, w, (2, 2), 'same'), [(2, 5, 4, 2), (2, 3, 2, 2)]),
    'conv2d_cf_dilated': (lambda x, w: K.conv2d(x, w, (1, 1), 'valid', 'channels_first', (2, 1)), [(1, 2, 6, 4), (2, 2, 2, 3)]),
    'conv2d_1x1': (lambda x, w: K.conv2d(x, w), [(2, 3, 3, 2), (1, 1, 2, 3)]),
    'conv1d_causal': (lambda x, w: K.conv1d(x, w, 1, 'causal', dilation_rate=2), [(2, 6, 2), (2, 2, 2)]),
    'conv3d': (lambda x, w: K.conv3d(x, w, (1, 2, 1), 'same'), [(1, 3, 4, 3, 1), (2, 2, 2, 1, 2)]),
    'conv2d_transpose': (lambda x, w: K.conv2d_transpose(x, w, (2, 5, 6, 2), (2, 2), 'same'), [(2, 3, 3, 3), (3, 2, 2, 3)]),
    'depthwise': (lambda x, w: K.depthwise_conv2d(x, w, (2, 1), 'same'), [(2, 5, 4, 3), (2, 3, 3, 2)]),
    'separable': (lambda x, d, p: K.separable_conv2d(x, d, p, (1, 1), 'valid', 'channels_first'),
                  [(1, 2, 4, 4), (2, 2, 2, 2), (1, 1, 4, 3)]),
    'separable1d': (lambda x, d, p: K.separable_conv1d(x, d, p, 2, 'same'), [(2, 7, 2), (3, 2, 1), (1, 2, 2)]),
    'pool2d_max': (lambda x: K.pool2d(x, (2, 2), (2, 1), 'same', pool_mode='max'), [(2, 5, 4, 2)]),
    'pool2d_avg': (lambda x: K.pool2d(x, (3, 2), (2, 2), 'same', 'channels_first', 'avg'), [(1, 2, 5, 5)]),
    'pool3d_max': (lambda x: K.pool3d(x, (2, 2, 2), (1, 2, 1), 'valid'), [(1, 3, 4, 3, 2)]),
    'local_conv2d': (lambda x, w: K.local_conv2d(x, w, (2, 2), (1, 2), (2, 2), 'channels_first'), [(2, 2, 3, 4), (4, 8, 2)]),
    'local_conv1d': (lambda x, w: K.local_conv1d(x, w, (2,), (1,)), [(2, 4, 2), (3, 4, 2)]),
}


@pytest.mark.parametrize('name', sorted(GRADS))
def test_gradient(name):
    fn, shapes = GRADS[name]
    check_grad(fn, [rand(s) for s in shapes])


def test_second_order_gradients():
    """Gradients of gradients (the grad ops are differentiable too): FD of d/dx sum(grad^2)."""
    def conv_gsq(x, w):
        g = K.gradients(K.sum(K.square(K.conv2d(x, w, (2, 1), 'same'))), [x, w])
        return K.sum(K.square(g[0])) + K.sum(K.square(g[1]))
    check_grad(lambda x, w: K.reshape(conv_gsq(x, w), (1,)), [rand((1, 4, 3, 2)), rand((2, 2, 2, 2))])

    def pool_gsq(x):
        g = K.gradients(K.sum(K.square(K.pool2d(x, (2, 2), (1, 1), 'same'))), [x])[0]
        return K.reshape(K.sum(K.square(g) * x), (1,))
    check_grad(pool_gsq, [rand((1, 3, 3, 2))])


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
    assert geom(n, k, s, d, 'same') == (out, before, after)
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


def test_pool_invalid_args():
    x = ph((1, 4, 4, 2))
    with pytest.raises(ValueError, match=r'\[pool2d\].*median'):
        K.pool2d(x, (2, 2), pool_mode='median')
    with pytest.raises(ValueError, match=r'\[pool2d\].*twice'):
        K.pool2d(x, (2, 2), padding='twice')
    with pytest.raises(ValueError, match=r'\[pool2d\].*channels_middle'):
        K.pool2d(x, (2, 2), data_format='channels_middle')
    with pytest.raises(ValueError, match=r'\[pool3d\].*rank 5'):
        K.pool3d(x, (2, 2, 2))


def test_conv_errors():
    x, w = ph((1, 5, 5, 3)), ph((3, 3, 4, 2))
    with pytest.raises(ValueError, match=r"\[conv2d\].*\(3, 3, 4, 2\).*\(1, 5, 5, 3\).*channels_last"):
        K.conv2d(x, w)
    with pytest.raises(ValueError, match=r"\[conv2d\].*\(1, 5, 5, 3\).*channels_first"):
        K.conv2d(x, ph((3, 3, 3, 2)), data_format='channels_first')
    with pytest.raises(ValueError, match=r'\[conv2d\].*causal'):
        K.conv2d(x, ph((3, 3, 3, 2)), padding='causal')
    with pytest.raises(ValueError, match=r'\[conv2d\].*SAME'):
        K.conv2d(x, ph((3, 3, 3, 2)), padding='SAME')
    with pytest.raises(ValueError, match=r'\[conv2d\].*channels_middle'):
        K.conv2d(x, ph((3, 3, 3, 2)), data_format='channels_middle')
    with pytest.raises(ValueError, match=r'\[conv3d\].*rank 5'):
        K.conv3d(x, ph((3, 3, 3, 3, 2)))
    with pytest.raises(ValueError, match=r'\[conv1d\].*rank 3'):
        K.conv1d(ph((1, 5, 3)), ph((3, 3)))
    with pytest.raises(ValueError, match=r'\[conv2d\].*smaller'):
        K.conv2d(ph((1, 2, 2, 3)), ph((3, 3, 3, 2)))
    with pytest.raises(ValueError, match=r'\[conv2d\].*strides'):
        K.conv2d(x, ph((3, 3, 3, 2)), strides=(1, 1, 1))
    with pytest.raises(TypeError, match=r'\[conv2d\]'):
        K.conv2d(ph((1, 5, 5, 3), 'int32'), ph((3, 3, 3, 2), 'int32'))
    with pytest.raises(ValueError, match=r'\[depthwise_conv2d\].*\(3, 3, 2, 2\)'):
        K.depthwise_conv2d(x, ph((3, 3, 2, 2)))
    with pytest.raises(ValueError, match=r'\[separable_conv2d\].*pointwise'):
        K.separable_conv2d(x, ph((3, 3, 3, 2)), ph((1, 1, 5, 4)))
    with pytest.raises(ValueError, match=r'\[local_conv1d\]'):
        K.local_conv1d(ph((2, 9, 2)), ph((4, 5, 3)), (3,), (2,))


def test_conv_transpose_errors():
    x, w = ph((1, 3, 3, 2)), ph((3, 3, 4, 2))
    with pytest.raises(ValueError, match=r'\[conv2d_transpose\].*inconsistent'):
        K.conv2d_transpose(x, w, (1, 9, 6, 4), (2, 2), 'same')
    with pytest.raises(ValueError, match=r'\[conv2d_transpose\].*channels'):
        K.conv2d_transpose(x, w, (1, 6, 6, 3), (2, 2), 'same')
    with pytest.raises(ValueError, match=r'\[conv2d_transpose\].*\(3, 3, 4, 5\)'):
        K.conv2d_transpose(x, ph((3, 3, 4, 5)), (1, 6, 6, 4), (2, 2), 'same')
    with pytest.raises(ValueError, match=r'\[conv2d_transpose\].*dilation'):
        K.conv2d_transpose(x, w, (1, 5, 5, 4), (1, 1), 'same', dilation_rate=(2, 1))
    with pytest.raises(ValueError, match=r'\[conv3d_transpose\].*rank 5'):
        K.conv3d_transpose(x, w, (1, 6, 6, 4))
    # inconsistent tensor-valued output_shape: caught when it runs
    p = ph((None, 3, 3, 2))
    t = K.conv2d_transpose(p, K.constant(np.ones((3, 3, 4, 2))), (None, K.shape(p)[1] * 3, 6, 4), (2, 2), 'same')
    with pytest.raises(ValueError, match='inconsistent'):
        K.function([p], [t])([np.ones((1, 3, 3, 2), 'float32')])
