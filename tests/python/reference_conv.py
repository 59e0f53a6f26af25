"""Numpy references for convolution and pooling (part of reference.py), written from the
definitions: cross-correlation over explicitly padded channels_last inputs (TF's 'same' puts the
odd pad element after), channels_first by moving the channel axis. Loops run over kernel
positions only, so they stay fast at parallel sizes."""
import numpy as np


def _tuple(v, n):
    return tuple(v) if isinstance(v, (list, tuple)) else (v,) * n


def _first(data_format):
    return (data_format or 'channels_last').lower() == 'channels_first'


def to_last(a):
    return np.moveaxis(a, 1, -1)


def to_first(a):
    return np.moveaxis(a, -1, 1)


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


def _conv_last(x, w, strides, padding, dilation):
    nsp = x.ndim - 2
    xp, outs = _pad(x, w.shape[:nsp], strides, padding, dilation)
    y = np.zeros((x.shape[0],) + tuple(outs) + (w.shape[-1],), dtype=np.float64)
    for kpos in np.ndindex(*w.shape[:nsp]):
        y += _window(xp, kpos, outs, strides, dilation) @ w[kpos]
    return y


def _nd(fn, x, data_format, *args):
    """Run a channels_last reference on x in data_format."""
    x = np.asarray(x, np.float64)
    if _first(data_format):
        return to_first(fn(to_last(x), *args))
    return fn(x, *args)


def _conv(nsp, x, kernel, strides, padding, data_format, dilation_rate):
    return _nd(_conv_last, x, data_format, np.asarray(kernel, np.float64), _tuple(strides, nsp), padding,
               _tuple(dilation_rate, nsp))


def conv1d(x, kernel, strides=1, padding='valid', data_format=None, dilation_rate=1):
    return _conv(1, x, kernel, strides, padding, data_format, dilation_rate)


def conv2d(x, kernel, strides=(1, 1), padding='valid', data_format=None, dilation_rate=(1, 1)):
    return _conv(2, x, kernel, strides, padding, data_format, dilation_rate)


def conv3d(x, kernel, strides=(1, 1, 1), padding='valid', data_format=None, dilation_rate=(1, 1, 1)):
    return _conv(3, x, kernel, strides, padding, data_format, dilation_rate)


def _depthwise_last(x, dk, strides, padding, dilation):
    nsp = x.ndim - 2
    xp, outs = _pad(x, dk.shape[:nsp], strides, padding, dilation)
    c, m = dk.shape[-2:]
    y = np.zeros((x.shape[0],) + tuple(outs) + (c, m))
    for kpos in np.ndindex(*dk.shape[:nsp]):
        y += _window(xp, kpos, outs, strides, dilation)[..., None] * dk[kpos]
    return y.reshape(y.shape[:-2] + (c * m,))  # channel c*mult + m


def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding='valid', data_format=None, dilation_rate=(1, 1)):
    return _nd(_depthwise_last, x, data_format, np.asarray(depthwise_kernel, np.float64), _tuple(strides, 2), padding,
               _tuple(dilation_rate, 2))


def _separable(nsp, x, dk, pk, strides, padding, data_format, dilation_rate):
    def last(x):
        y = _depthwise_last(x, np.asarray(dk, np.float64), _tuple(strides, nsp), padding, _tuple(dilation_rate, nsp))
        return y @ np.asarray(pk, np.float64).reshape(pk.shape[-2:])
    return _nd(last, x, data_format)


def separable_conv1d(x, depthwise_kernel, pointwise_kernel, strides=1, padding='valid', data_format=None,
                     dilation_rate=1):
    return _separable(1, x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate)


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1), padding='valid', data_format=None,
                     dilation_rate=(1, 1)):
    return _separable(2, x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate)


def _transpose_last(x, w, out_spatial, strides, padding, dilation):
    """Adjoint of the conv: kernel (k..., out, in); input i lands on i*s + k*d - pad_before."""
    nsp = x.ndim - 2
    gs = [geom(n, k, s, d, padding) for n, k, s, d in zip(out_spatial, w.shape[:nsp], strides, dilation)]
    full = np.zeros((x.shape[0],) + tuple(n + g[1] + g[2] for n, g in zip(out_spatial, gs)) + (w.shape[-2],))
    for kpos in np.ndindex(*w.shape[:nsp]):
        sl = tuple(slice(k * d, k * d + (o - 1) * s + 1, s) for k, o, s, d in zip(kpos, x.shape[1:-1], strides, dilation))
        full[(slice(None),) + sl + (slice(None),)] += x @ w[kpos].T
    crop = tuple(slice(g[1], g[1] + n) for n, g in zip(out_spatial, gs))
    return full[(slice(None),) + crop + (slice(None),)]


def _conv_transpose(nsp, x, kernel, output_shape, strides, padding, data_format, dilation_rate):
    out_spatial = tuple(output_shape[2:] if _first(data_format) else output_shape[1:-1])
    return _nd(_transpose_last, x, data_format, np.asarray(kernel, np.float64), out_spatial, _tuple(strides, nsp),
               padding, _tuple(dilation_rate, nsp))


def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding='valid', data_format=None, dilation_rate=(1, 1)):
    return _conv_transpose(2, x, kernel, output_shape, strides, padding, data_format, dilation_rate)


def conv3d_transpose(x, kernel, output_shape, strides=(1, 1, 1), padding='valid', data_format=None):
    return _conv_transpose(3, x, kernel, output_shape, strides, padding, data_format, 1)


def _pool_last(x, ps, strides, padding, mode):
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


def pool2d(x, pool_size, strides=(1, 1), padding='valid', data_format=None, pool_mode='max'):
    return _nd(_pool_last, x, data_format, _tuple(pool_size, 2), _tuple(strides, 2), padding, pool_mode)


def pool3d(x, pool_size, strides=(1, 1, 1), padding='valid', data_format=None, pool_mode='max'):
    return _nd(_pool_last, x, data_format, _tuple(pool_size, 3), _tuple(strides, 3), padding, pool_mode)


def _local(x, w, ks, strides, outs, data_format):
    """Unshared conv: the window flattened (k..., C) for channels_last or (C, k...) for channels_first."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    y = np.zeros((x.shape[0], int(np.prod(outs)), w.shape[-1]))
    for p, pos in enumerate(np.ndindex(*outs)):
        sl = tuple(slice(o * s, o * s + k) for o, s, k in zip(pos, strides, ks))
        win = x[(slice(None), slice(None)) + sl] if _first(data_format) else x[(slice(None),) + sl + (slice(None),)]
        y[:, p] = win.reshape(x.shape[0], -1) @ w[p]
    y = y.reshape((x.shape[0],) + tuple(outs) + (w.shape[-1],))
    return to_first(y) if _first(data_format) else y


def local_conv1d(inputs, kernel, kernel_size, strides, data_format=None):
    ks, st = _tuple(kernel_size, 1), _tuple(strides, 1)
    n = inputs.shape[2] if _first(data_format) else inputs.shape[1]
    return _local(inputs, kernel, ks, st, ((n - ks[0]) // st[0] + 1,), data_format)


def local_conv2d(inputs, kernel, kernel_size, strides, output_shape, data_format=None):
    return _local(inputs, kernel, _tuple(kernel_size, 2), _tuple(strides, 2), tuple(output_shape), data_format)
