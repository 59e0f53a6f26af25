"""Accuracy contracts of the float32 transcendental kernels, shared by the numerics tests.

By default float32 exp, log, tanh and sigmoid run on float lanes (kernels/vmath_fl.h) and are
faithful: within 1 ulp of the exact value. With KERAS_CPP_EXACT_MATH=1 (read when the library
loads) they run on double lanes (kernels/vmath_f.h) and are correctly rounded, as expm1, log1p
and softplus always are.
"""
import numpy as np

from keras_cpp import _core

f32 = np.float32
EXACT = bool(_core._kernel_info()['exact_math'])
FAITHFUL = frozenset({'exp', 'log', 'tanh', 'sigmoid'})  # the float-lane kernels (default)


def ulp_error(got, want):
    """|got - want| in ulps of float32 at the float64 value want (ulps of the subnormal spacing
    below 2^-126); an infinite got or rounded want counts as 0 when they are equal, else inf."""
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    _, e = np.frexp(np.abs(want))
    ulp = np.ldexp(1.0, np.maximum(e - 24, -149))
    with np.errstate(all='ignore'):
        err = np.abs(got - want) / ulp
        wf = want.astype(f32)
    same = got == wf
    return np.where(same, 0.0, np.where(np.isinf(got) | np.isinf(wf), np.inf, err))


def assert_float_math(name, got, x, ref, rtol=1e-7):
    """got = name(x) for float32 x: NaN exactly where the float64 reference ref is NaN, zeros with
    its sign, and within 1 ulp of it (faithful, the default for FAITHFUL) or equal to it rounded
    once (relative tolerance rtol, which admits the rare result within 1e-14 of a midpoint)."""
    x = np.asarray(x, f32)
    with np.errstate(all='ignore'):
        want64 = ref(x.astype(np.float64))
        want = want64.astype(f32)
    nan = np.isnan(want64)
    assert (np.isnan(got) == nan).all(), (name, x[np.isnan(got) != nan][:8])
    fin = ~nan
    if name in FAITHFUL and not EXACT:
        err = ulp_error(got[fin], want64[fin])
        bad = err > 1.0
        assert not bad.any(), (name, 'beyond 1 ulp at', x[fin][bad][:8], got[fin][bad][:8], want64[fin][bad][:8])
    else:
        np.testing.assert_allclose(got[fin], want[fin], rtol=rtol, atol=0, err_msg=name)
    zero = fin & (want == 0)
    assert (np.signbit(got[zero]) == np.signbit(want[zero])).all(), name


def subprocess_env(**overrides):
    """os.environ with overrides, and PYTHONPATH made to find this keras_cpp from any directory (a
    relative PYTHONPATH such as ../python breaks once the child runs elsewhere)."""
    import os
    import keras_cpp
    env = dict(os.environ, **overrides)
    root = os.path.dirname(os.path.dirname(os.path.abspath(keras_cpp.__file__)))
    env['PYTHONPATH'] = os.pathsep.join([root] + [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p])
    return env
