"""Numpy reference implementations of the keras_cpp backend ops, written like Keras 2.3.1's
numpy_backend.py but following the TF-backend semantics of ../shared/spec (where Keras's numpy
reference differs, e.g. clip with min > max or relu at the threshold, the spec wins)."""
import numpy as np

EPSILON = 1e-7


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _float(x):
    x = np.asarray(x)
    return x.astype('float32') if x.dtype.kind in 'biu' else x


# ---------------------------------------------------------------- elementwise
def abs(x):
    return np.abs(x)


def negative(x):
    return np.negative(x)


def square(x):
    return np.square(x)


def sqrt(x):
    x = _float(x)
    return np.sqrt(np.maximum(x, 0))


def exp(x):
    return np.exp(_float(x))


def log(x):
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.log(_float(x))


def sin(x):
    return np.sin(_float(x))


def cos(x):
    return np.cos(_float(x))


def tanh(x):
    return np.tanh(_float(x))


def sigmoid(x):
    x = _float(x)
    return 1.0 / (1.0 + np.exp(-x))


def softplus(x):
    x = _float(x)
    return np.logaddexp(0, x).astype(x.dtype)


def softsign(x):
    x = _float(x)
    return x / (1 + np.abs(x))


def sign(x):
    return np.sign(x)


def round(x):
    return np.round(x)


def identity(x, name=None):
    return np.array(x)


def stop_gradient(x):
    return np.array(x)


def print_tensor(x, message=''):
    return np.array(x)


def cast(x, dtype):
    return np.asarray(x).astype(dtype)


def clip(x, min_value=None, max_value=None):
    """Keras: max_value is raised to min_value when both are numbers and max < min."""
    if (min_value is not None and max_value is not None and np.isscalar(min_value)
            and np.isscalar(max_value) and max_value < min_value):
        max_value = min_value
    lo = -np.inf if min_value is None else min_value
    hi = np.inf if max_value is None else max_value
    x = np.asarray(x)
    return np.maximum(np.minimum(x.astype('float64'), hi), lo).astype(x.dtype)


def logical_not(x):
    return np.logical_not(x)


# ---------------------------------------------------------------- binary
def add(x, y):
    return np.add(x, y)


def subtract(x, y):
    return np.subtract(x, y)


def multiply(x, y):
    return np.multiply(x, y)


def divide(x, y):
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.true_divide(x, y)


def floordiv(x, y):
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.floor_divide(x, y)


def mod(x, y):
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.mod(x, y)


def pow(x, a):
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.power(x, a)


def maximum(x, y):
    return np.maximum(x, y)


def minimum(x, y):
    return np.minimum(x, y)


def equal(x, y):
    return np.equal(x, y)


def not_equal(x, y):
    return np.not_equal(x, y)


def greater(x, y):
    return np.greater(x, y)


def greater_equal(x, y):
    return np.greater_equal(x, y)


def less(x, y):
    return np.less(x, y)


def less_equal(x, y):
    return np.less_equal(x, y)


def logical_and(x, y):
    return np.logical_and(x, y)


def logical_or(x, y):
    return np.logical_or(x, y)


# ---------------------------------------------------------------- reductions
def sum(x, axis=None, keepdims=False):
    return np.sum(x, axis=_axis(axis), keepdims=keepdims)


def prod(x, axis=None, keepdims=False):
    return np.prod(x, axis=_axis(axis), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return np.mean(_float(x), axis=_axis(axis), keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    return np.var(_float(x), axis=_axis(axis), keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    return np.std(_float(x), axis=_axis(axis), keepdims=keepdims)


def max(x, axis=None, keepdims=False):
    return np.max(x, axis=_axis(axis), keepdims=keepdims)


def min(x, axis=None, keepdims=False):
    return np.min(x, axis=_axis(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    return np.any(x, axis=_axis(axis), keepdims=keepdims)


def all(x, axis=None, keepdims=False):
    return np.all(x, axis=_axis(axis), keepdims=keepdims)


def argmax(x, axis=-1):
    return np.argmax(x, axis=axis)


def argmin(x, axis=-1):
    return np.argmin(x, axis=axis)


def logsumexp(x, axis=None, keepdims=False):
    x = _float(x)
    m = np.max(x, axis=_axis(axis), keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=_axis(axis), keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=_axis(axis)) if axis is not None else out.reshape(())


def cumsum(x, axis=0):
    return np.cumsum(x, axis=axis)


def cumprod(x, axis=0):
    return np.cumprod(x, axis=axis)


# ---------------------------------------------------------------- linear algebra
def dot(x, y):
    """Theano/numpy N-d dot: contract x's last axis with y's second-to-last."""
    return np.dot(x, y)


def matmul(a, b):
    return np.matmul(a, b)


def batch_dot(x, y, axes=None):
    """Keras 2.3.1 batch_dot (TF semantics), written out with einsum."""
    x, y = np.asarray(x), np.asarray(y)
    xn, yn = x.ndim, y.ndim
    if axes is None:
        axes = (xn - 1, yn - 1) if yn == 2 else (xn - 1, yn - 2)
    if isinstance(axes, int):
        axes = (axes, axes)
    a0, a1 = axes[0] % xn, axes[1] % yn
    letters = 'bcdefghijklmnopqrstuvwxyz'
    xs = ['a'] + [letters[i] for i in range(xn - 1)]
    ys = ['a'] + [letters[xn - 1 + i] for i in range(yn - 1)]
    ys[a1] = xs[a0]
    out = [c for i, c in enumerate(xs) if i != a0] + [c for i, c in enumerate(ys) if i not in (0, a1)]
    r = np.einsum('%s,%s->%s' % (''.join(xs), ''.join(ys), ''.join(out)), x, y)
    if xn == 2 and yn == 2:
        r = r.reshape(-1, 1)
    return r


def transpose(x):
    return np.transpose(x)


# ---------------------------------------------------------------- shapes
def reshape(x, shape):
    return np.reshape(x, shape)


def permute_dimensions(x, pattern):
    return np.transpose(x, pattern)


def expand_dims(x, axis=-1):
    return np.expand_dims(x, axis)


def squeeze(x, axis):
    return np.squeeze(x, axis)


def shape(x):
    return np.array(np.shape(x), dtype='int32')


def zeros_like(x, dtype=None, name=None):
    return np.zeros(np.shape(x), dtype=dtype or 'float32')


def ones_like(x, dtype=None, name=None):
    return np.ones(np.shape(x), dtype=dtype or 'float32')


def one_hot(indices, num_classes):
    indices = np.asarray(indices)
    return (indices[..., None] == np.arange(num_classes)).astype('float32')


# ---------------------------------------------------------------- nn
def relu(x, alpha=0., max_value=None, threshold=0.):
    """Spec order: neg part from raw x, positive part thresholded, clip, subtract alpha*neg."""
    x = np.asarray(x)
    neg = np.maximum(threshold - x, 0) if alpha != 0 else 0
    pos = x * (x > threshold) if threshold != 0 else np.maximum(x, 0)
    if max_value is not None:
        pos = np.clip(pos, 0, max_value)
    return (pos - alpha * neg).astype(x.dtype)


def softmax(x, axis=-1):
    y = np.exp(x - np.max(x, axis, keepdims=True))
    return y / np.sum(y, axis, keepdims=True)


def bias_add(x, bias, data_format=None):
    x, bias = np.asarray(x), np.asarray(bias)
    data_format = data_format or 'channels_last'
    if bias.ndim == 1:
        if data_format == 'channels_first' and x.ndim in (3, 4, 5):
            return x + bias.reshape((1, -1) + (1,) * (x.ndim - 2))
        return x + bias
    if data_format == 'channels_first':
        return x + bias.reshape((1, bias.shape[-1]) + bias.shape[:-1])
    return x + bias.reshape((1,) + bias.shape)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target, output = np.asarray(target), np.asarray(output)
    if from_logits:
        m = np.max(output, axis, keepdims=True)
        logp = output - m - np.log(np.sum(np.exp(output - m), axis, keepdims=True))
        return -np.sum(target * logp, axis)
    output = output / np.sum(output, axis, keepdims=True)
    output = np.clip(output, EPSILON, 1 - EPSILON)
    return -np.sum(target * np.log(output), axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    output = np.moveaxis(np.asarray(output), axis, -1)
    if not from_logits:
        output = np.log(np.clip(output, EPSILON, 1 - EPSILON))
    m = np.max(output, -1, keepdims=True)
    logp = output - m - np.log(np.sum(np.exp(output - m), -1, keepdims=True))
    t = np.asarray(target).astype('int64')
    if t.ndim != output.ndim - 1:
        t = t.reshape(output.shape[:-1])
    r = -np.take_along_axis(logp, t[..., None], -1)[..., 0]
    return r.reshape(1) if output.ndim == 1 else r  # Keras/TF: logits reshaped to (-1, classes)


def binary_crossentropy(target, output, from_logits=False):
    target, output = np.asarray(target), np.asarray(output)
    if from_logits:
        z = output
        return np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z)))
    p = np.clip(output, EPSILON, 1 - EPSILON)
    return -(target * np.log(p) + (1 - target) * np.log(1 - p))


def moving_average_update(x, value, momentum):
    return x * momentum + value * (1 - momentum)


def update(x, new_x):
    return np.array(new_x)


def update_add(x, increment):
    return x + increment


def update_sub(x, decrement):
    return x - decrement


def elu(x, alpha=1.):
    x = _float(x)
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))


def hard_sigmoid(x):
    return np.clip(0.2 * _float(x) + 0.5, 0., 1.)


def l2_normalize(x, axis=None):
    """x / sqrt(max(sum(x^2), 1e-12)) over axis (all axes for None)."""
    x = _float(x)
    return x / np.sqrt(np.maximum(np.sum(x ** 2, axis=_axis(axis), keepdims=True), 1e-12))


def in_top_k(predictions, targets, k):
    """TF: target t is in the top k when fewer than k classes score strictly higher; a target out
    of range or a row with a non-finite score is never in."""
    p, t = np.asarray(predictions), np.asarray(targets)
    out = np.zeros(len(t), bool)
    for b in range(len(t)):
        if 0 <= t[b] < p.shape[1] and np.all(np.isfinite(p[b])):
            out[b] = np.sum(p[b] > p[b, t[b]]) < k
    return out


def _bn_stat(s, x, axis):
    """A 1-D statistic of a batch_normalization along `axis`, shaped to broadcast with x."""
    if s is None:
        return None
    s = np.asarray(s)
    if s.ndim == 1 and x.ndim > 1:
        shape = [1] * x.ndim
        shape[axis % x.ndim] = s.shape[0]
        return s.reshape(shape)
    return s


def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=1e-3):
    x = np.asarray(x)
    mean, var = _bn_stat(mean, x, axis), _bn_stat(var, x, axis)
    beta, gamma = _bn_stat(beta, x, axis), _bn_stat(gamma, x, axis)
    y = (x - mean) / np.sqrt(var + epsilon)
    if gamma is not None:
        y = y * gamma
    return y + beta if beta is not None else y


def normalize_batch_in_training(x, gamma, beta, reduction_axes, epsilon=1e-3):
    """(normalized x, mean, variance) over reduction_axes; gamma/beta hold the kept axes' values."""
    x = np.asarray(x)
    axes = tuple(a % x.ndim for a in reduction_axes)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    shape = [1 if i in axes else x.shape[i] for i in range(x.ndim)]
    g = None if gamma is None else np.asarray(gamma).reshape(shape)
    b = None if beta is None else np.asarray(beta).reshape(shape)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + epsilon)
    if g is not None:
        y = y * g
    if b is not None:
        y = y + b
    return y, mean, var


def int_shape(x):
    return tuple(np.shape(x))


# ---------------------------------------------------------------- creation (dtype None: floatx)
def floatx():
    from keras_cpp import backend as K
    return K.floatx()


def constant(value, dtype=None, shape=None, name=None):
    """TF's constant: a scalar fills `shape`, a value of the same size is reshaped to it."""
    v = np.asarray(value, dtype=dtype or floatx())
    if shape is not None:
        v = np.full(shape, v.reshape(()), v.dtype) if v.size == 1 else v.reshape(shape)
    return v


def variable(value, dtype=None, name=None, constraint=None):
    return np.array(value, dtype=dtype or floatx())


def _shape(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)


def zeros(shape, dtype=None, name=None):
    return np.zeros(_shape(shape), dtype=dtype or floatx())


def ones(shape, dtype=None, name=None):
    return np.ones(_shape(shape), dtype=dtype or floatx())


def eye(size, dtype=None, name=None):
    n, m = (size, size) if np.isscalar(size) else tuple(size)
    return np.eye(n, m, dtype=dtype or floatx())


def cast_to_floatx(x):
    return np.asarray(x, dtype=floatx())


def in_train_phase(x, alt, training=None):
    """training: 0/1 (or a scalar tensor's value); None is the learning phase, 0 when unfed."""
    return np.array(x if (0 if training is None else np.asarray(training).item()) else alt)


def in_test_phase(x, alt, training=None):
    return in_train_phase(alt, x, training)


def to_dense(tensor):
    return np.array(tensor)


from reference_conv import *  # noqa: E402,F401,F403  (conv*, depthwise/separable, pool*, local_conv*)
from reference_shape import *  # noqa: E402,F401,F403  (concatenate ... resize_volumes, arange, size)
from reference_random import *  # noqa: E402,F401,F403  (checkers: random_*, dropout)
from reference_seq import *  # noqa: E402,F401,F403  (rnn, map_fn, foldl, foldr, switch, ctc_*)
