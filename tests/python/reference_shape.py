"""Numpy references for shape manipulation, padding, resizing, arange and size (part of
reference.py), written like Keras's numpy_backend.py."""
import builtins

import numpy as np


def _fmt(data_format):
    return (data_format or 'channels_last').lower()


def _spatial_axes(data_format, n):
    return list(range(2, 2 + n)) if _fmt(data_format) == 'channels_first' else list(range(1, 1 + n))


def concatenate(tensors, axis=-1):
    return np.concatenate([np.asarray(t) for t in tensors], axis=axis)


def stack(x, axis=0):
    return np.stack([np.asarray(t) for t in x], axis=axis)


def repeat_elements(x, rep, axis):
    return np.repeat(x, rep, axis=axis)


def repeat(x, n):
    return np.repeat(np.expand_dims(x, 1), n, axis=1)


def tile(x, n):
    x = np.asarray(x)
    n = (n,) if isinstance(n, (int, np.integer)) else tuple(int(v) for v in np.ravel(n))
    return np.tile(x, (1,) * (x.ndim - len(n)) + n)


def flatten(x):
    return np.reshape(x, (-1,))


def batch_flatten(x):
    x = np.asarray(x)
    return np.reshape(x, (x.shape[0], int(np.prod(x.shape[1:]))))


def reverse(x, axes):
    axes = [axes] if isinstance(axes, (int, np.integer)) else list(axes)
    return np.flip(x, axes) if axes else np.array(x)


def slice(x, start, size):
    return np.asarray(x)[tuple(builtins.slice(b, None if n == -1 else b + n) for b, n in zip(start, size))]


def gather(reference, indices):
    return np.asarray(reference)[np.asarray(indices).astype(np.int64)]


def _pad(x, axes, pairs):
    pad = [(0, 0)] * np.ndim(x)
    for a, p in zip(axes, pairs):
        pad[a] = tuple(p)
    return np.pad(x, pad, mode='constant')


def temporal_padding(x, padding=(1, 1)):
    return _pad(x, [1], [padding])


def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    return _pad(x, _spatial_axes(data_format, 2), padding)


def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    return _pad(x, _spatial_axes(data_format, 3), padding)


def _nearest(x, factors, axes):
    for f, a in zip(factors, axes):
        x = np.repeat(x, f, axis=a)
    return x


def _lerp_axis(x, f, axis):
    """Legacy TF resize_bilinear along one axis: source i/f, neighbours clamped at the edge."""
    x = np.moveaxis(np.asarray(x, np.float64), axis, 0)
    n = x.shape[0]
    i = np.arange(n * f)
    y0 = i // f
    y1 = np.minimum(y0 + 1, n - 1)
    w = ((i % f) / f).reshape((-1,) + (1,) * (x.ndim - 1))
    return np.moveaxis(x[y0] + (x[y1] - x[y0]) * w, 0, axis)


def resize_images(x, height_factor, width_factor, data_format, interpolation='nearest'):
    axes = _spatial_axes(data_format, 2)
    if interpolation == 'nearest':
        return _nearest(np.asarray(x), (height_factor, width_factor), axes)
    return _lerp_axis(_lerp_axis(x, height_factor, axes[0]), width_factor, axes[1])


def resize_volumes(x, depth_factor, height_factor, width_factor, data_format):
    return _nearest(np.asarray(x), (depth_factor, height_factor, width_factor), _spatial_axes(data_format, 3))


def arange(start, stop=None, step=1, dtype='int32'):
    """Keras/TF: the range takes its arguments' dtype and is cast only when dtype != 'int32'."""
    start, stop, step = [None if v is None else np.asarray(v).item() for v in (start, stop, step)]
    if stop is None:
        start, stop = 0, builtins.max(start, 0)
    natural = 'float32' if builtins.any(isinstance(v, float) for v in (start, stop, step)) else 'int32'
    return np.arange(start, stop, step).astype(natural if dtype == 'int32' else dtype)


def size(x, name=None):
    return np.array(np.size(x), dtype='int32')
