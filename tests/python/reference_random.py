"""Checkers for the random ops (part of reference.py): each takes the drawn values and the call's
arguments and asserts the shape, dtype, support and, for large draws, the moments at the
tolerances Keras's own backend tests accept (semantics_checklist.md "Training-time randomness")."""
import numpy as np

TRUNC_STD = 0.8796256610  # std of N(0, 1) cut at +-2 (scipy truncnorm)
MOMENT_TOL = 0.015        # of the scale, for draws of >= 10000 numbers
MOMENTS_FROM = 10000


def _floatx():
    from keras_cpp import backend as K
    return K.floatx()


def _static(shape):
    return tuple(int(s) for s in np.ravel(np.asarray(shape))) if np.ndim(shape) else (int(shape),)


def _frame(v, shape, dtype):
    v = np.asarray(v)
    assert v.shape == _static(shape), 'shape %s, expected %s' % (v.shape, _static(shape))
    assert v.dtype == np.dtype(dtype or _floatx()), 'dtype %s, expected %s' % (v.dtype, dtype or _floatx())
    return v.astype('float64'), v.size >= MOMENTS_FROM


def _moments(v, mean, std, scale):
    assert abs(v.mean() - mean) < MOMENT_TOL * scale, 'mean %r, expected %r' % (v.mean(), mean)
    assert abs(v.std() - std) < MOMENT_TOL * scale, 'std %r, expected %r' % (v.std(), std)


def random_uniform(values, shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    v, big = _frame(values, shape, dtype)
    lo, hi = float(np.asarray(minval)), float(np.asarray(maxval))
    assert v.size == 0 or (v.min() >= lo and v.max() < hi), 'values outside [%r, %r)' % (lo, hi)
    if np.dtype(dtype or _floatx()).kind in 'iu':
        if big:
            assert set(np.unique(v)) == set(range(int(lo), int(hi))), 'not every integer of [%r, %r) drawn' % (lo, hi)
    elif big:
        _moments(v, (lo + hi) / 2, (hi - lo) / np.sqrt(12), hi - lo)


def random_normal(values, shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    v, big = _frame(values, shape, dtype)
    assert np.all(np.isfinite(v))
    if big:
        _moments(v, float(np.asarray(mean)), float(np.asarray(stddev)), float(np.asarray(stddev)))


def truncated_normal(values, shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    v, big = _frame(values, shape, dtype)
    m, s = float(np.asarray(mean)), float(np.asarray(stddev))
    assert np.all(np.abs(v - m) <= 2 * s * (1 + 1e-3)), 'a draw beyond 2 stddev'
    if big:
        _moments(v, m, TRUNC_STD * s, s)


def random_binomial(values, shape, p=0.0, dtype=None, seed=None):
    v, big = _frame(values, shape, dtype)
    assert set(np.unique(v)) <= {0.0, 1.0}, 'values other than 0 and 1'
    if big:
        assert abs(v.mean() - float(np.asarray(p))) < MOMENT_TOL, 'mean %r, expected p=%r' % (v.mean(), p)


def random_uniform_variable(values, shape, low, high, dtype=None, name=None, seed=None):
    random_uniform(values, shape, low, high, dtype)


def random_normal_variable(values, shape, mean, scale, dtype=None, name=None, seed=None):
    random_normal(values, shape, mean, scale, dtype)


def dropout(values, x, level, noise_shape=None, seed=None):
    """Each entry is 0 or x / (1 - level); whole blocks along noise_shape's 1-axes together."""
    v, x = np.asarray(values), np.asarray(x)
    assert v.shape == x.shape and v.dtype == x.dtype, '%s %s for x %s %s' % (v.shape, v.dtype, x.shape, x.dtype)
    kept = v != 0
    tol = {'float16': 2e-3, 'float32': 1e-6, 'float64': 1e-12}[x.dtype.name]
    np.testing.assert_allclose(v[kept].astype('float64'), x[kept].astype('float64') / (1 - level), rtol=tol)
    if noise_shape is not None:
        for axis, n in enumerate(noise_shape):
            if n == 1:
                assert np.all(kept == kept.take([0], axis=axis)), 'the mask varies along axis %d' % axis
    if v.size >= MOMENTS_FROM and np.all(x != 0) and noise_shape is None:
        assert abs((~kept).mean() - level) < 2 * MOMENT_TOL, 'dropped %r, expected %r' % ((~kept).mean(), level)
