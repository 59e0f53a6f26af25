"""The float32 transcendental kernels and the fused softmax / logsumexp rows (ew::exp_shift_sum):
exp, log, tanh and sigmoid within 1 ulp of float64 (float lanes, kernels/vmath_fl.h, the default)
or correctly rounded (rtol 1e-7 against float64 rounded once: KERAS_CPP_EXACT_MATH=1, double lanes,
kernels/vmath_f.h), expm1, log1p and softplus correctly rounded always, over the whole float range,
at every length and start offset (vector body, pair loop and tail), with the IEEE special values
in any lane; softmax and logsumexp rows of every length with -inf, inf and NaN entries. Everything
runs again on the AVX2 table and with exact math in subprocesses, and the two ISAs' results are
compared bit for bit.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_cpp import _core
from keras_cpp import backend as K

from float_math import EXACT, FAITHFUL, assert_float_math, subprocess_env, ulp_error

f32 = np.float32
INF, NAN = np.inf, np.nan


def cr(fn, x):
    with np.errstate(all='ignore'):
        return fn(np.asarray(x, np.float64)).astype(f32)


def _sigmoid(v):
    with np.errstate(over='ignore'):
        return 1 / (1 + np.exp(-v))


FUNCS = {  # name: (keras_cpp op, float64 reference, domain of the random inputs)
    'exp': (K.exp, np.exp, 'any'),
    'expm1': (_core._expm1, np.expm1, 'any'),
    'log': (K.log, np.log, 'pos'),
    'log1p': (_core._log1p, np.log1p, 'gt-1'),
    'tanh': (K.tanh, np.tanh, 'any'),
    'sigmoid': (K.sigmoid, _sigmoid, 'any'),
    'softplus': (K.softplus, lambda v: np.logaddexp(0, v), 'any'),
}

SPECIALS = np.array([0.0, -0.0, INF, -INF, NAN, 1e-45, -1e-45, 1.17e-38, 3.4e38, -3.4e38, 88.72, 88.73, -87.3,
                     -103.9, -104.5, 1.0, -1.0, 1e-30, -1e-30, 2.0 ** -29, -0.9999999, 20.0, -20.0, 9.5], f32)


def wide_sample(domain, n=60000, seed=0):
    """Magnitudes spread over the float exponent range plus a dense normal core."""
    rng = np.random.default_rng(seed)
    mag = (rng.random(n) + 1) * np.float64(2.0) ** rng.integers(-149, 128, n)
    x = np.concatenate([mag, rng.standard_normal(n) * 8, rng.standard_normal(n) * 0.05]).astype(f32)
    x = x[np.isfinite(x)]
    sign = np.where(rng.random(x.size) < 0.5, -1, 1).astype(f32)
    if domain == 'pos':
        return np.abs(x)
    if domain == 'gt-1':
        x = x * sign
        return x[x > -1]
    return x * sign


def check(name, got, x):
    assert_float_math(name, got, x, FUNCS[name][1])


@pytest.mark.parametrize('name', sorted(FUNCS))
def test_accurate_over_the_float_range(name):
    op, _, domain = FUNCS[name]
    x = wide_sample(domain, seed=len(name))
    check(name, K.eval(op(K.constant(x))), x)


def bit_sweep(domain, stride=4093, lo=0x00000000, hi=0x100000000):
    """Every stride-th float32 bit pattern in [lo, hi) (both signs when the range covers them)."""
    x = np.arange(lo, hi, stride, dtype=np.uint64).astype(np.uint32).view(f32)
    x = x[np.isfinite(x)]
    if domain == 'pos':
        return x[x > 0]
    if domain == 'gt-1':
        return x[x > -1]
    return x


@pytest.mark.parametrize('name', sorted(FUNCS))
def test_accurate_on_a_bit_pattern_sweep(name):
    """~1e6 bit patterns spread evenly over all floats, and every float in [1, 1 + 2^-9) and around
    the reduction and clamp thresholds (ln2/32 steps of exp, 20 for tanh, 104 for exp)."""
    op, _, domain = FUNCS[name]
    x = np.concatenate([bit_sweep(domain), bit_sweep(domain, 1, 0x3F800000, 0x3F804000),
                        bit_sweep(domain, 1, 0xBF800000, 0xBF804000), bit_sweep(domain, 7, 0x41A00000 - 4096, 0x41A00000 + 4096),
                        bit_sweep(domain, 7, 0x42D00000 - 4096, 0x42D00000 + 4096), bit_sweep(domain, 7, 0xC2D00000 - 4096, 0xC2D00000 + 4096)])
    check(name, K.eval(op(K.constant(x))), x)


@pytest.mark.parametrize('name', sorted(FUNCS))
def test_special_values_in_every_lane_at_every_length_and_offset(name):
    op, _, _ = FUNCS[name]
    px = K.placeholder(shape=(None,))
    f = K.function([px], [op(px)])
    rng = np.random.default_rng(7)
    for n in list(range(1, 41)) + [63, 64, 65, 100]:
        for off in range(4):
            buf = (rng.standard_normal(n + off) * 10).astype(f32)
            x = buf[off:]  # a view starting `off` floats past the allocation
            mask = rng.random(n) < 0.4
            x[mask] = rng.choice(SPECIALS, int(mask.sum()))
            check(name, f([x])[0], x)


def test_specials_exactly():
    x = np.array([0.0, -0.0, INF, -INF, NAN, 1e-45, -1.0, -2.0], f32)
    ev = lambda op: K.eval(op(K.constant(x)))
    with np.errstate(all='ignore'):
        np.testing.assert_array_equal(ev(K.exp)[:6], np.array([1, 1, INF, 0, NAN, 1], f32))
        check('exp', ev(K.exp), x)
        np.testing.assert_array_equal(ev(K.log)[:5], np.array([-INF, -INF, INF, NAN, NAN], f32))
        check('log', ev(K.log)[5:6], x[5:6])
        assert np.isnan(ev(K.log)[6:]).all()
        lp = ev(_core._log1p)
        np.testing.assert_array_equal(lp[[0, 1, 2, 4, 6]], np.array([0, -0.0, INF, NAN, -INF], f32))
        assert np.signbit(lp[1]) and np.signbit(ev(_core._expm1)[1])
        assert np.isnan(ev(_core._log1p)[[3, 7]]).all()
        t = ev(K.tanh)
        np.testing.assert_array_equal(t[:5], np.array([0, -0.0, 1, -1, NAN], f32))
        assert np.signbit(t[1]) and not np.signbit(t[0])
        np.testing.assert_array_equal(ev(K.sigmoid)[2:5], np.array([1, 0, NAN], f32))
        np.testing.assert_array_equal(ev(K.softplus)[2:5], np.array([INF, 0, NAN], f32))
        np.testing.assert_array_equal(ev(_core._expm1)[2:5], np.array([INF, -1, NAN], f32))


# ---------------------------------------------------------------- softmax / logsumexp rows
def _rows(cols, dtype, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((6, cols)) * 5).astype(dtype)
    x[1, ::3] = -INF            # masked logits: exactly 0 in softmax
    x[2, :] = -INF              # all -inf: logsumexp -inf, softmax NaN (as numpy)
    x[3, cols // 2] = INF       # logsumexp inf
    x[4, cols - 1] = NAN        # NaN row
    return x


def _lse_ref(x):
    with np.errstate(all='ignore'):
        z = x.astype(np.float64)
        m = z.max(axis=-1, keepdims=True)
        fm = np.where(np.isfinite(m), m, 0)
        return (np.log(np.exp(z - fm).sum(axis=-1, keepdims=True)) + fm)[:, 0]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_logsumexp_and_softmax_rows_at_every_length(dtype):
    rtol = 1e-6 if dtype == 'float32' else 1e-13
    px = K.placeholder(shape=(None, None), dtype=dtype)
    f = K.function([px], [K.logsumexp(px, axis=-1), K.logsumexp(px, axis=1, keepdims=True), K.softmax(px)])
    for cols in list(range(1, 41)) + [63, 64, 65, 1000]:
        x = _rows(cols, dtype, cols)
        lse, lse_k, sm = f([x])
        want = _lse_ref(x)
        np.testing.assert_allclose(lse, want, rtol=rtol, atol=0)
        np.testing.assert_array_equal(lse_k[:, 0], lse)
        assert lse.dtype == np.dtype(dtype) and np.isneginf(lse[2]) and np.isnan(lse[4])
        assert np.isposinf(lse[3]) or cols == 1
        z = x[[0, 1, 5]].astype(np.float64)
        with np.errstate(invalid='ignore'):  # row 1 is all -inf when cols == 1
            d = z - z.max(axis=-1, keepdims=True)
            e = np.exp(d)
            want_sm = e / e.sum(axis=-1, keepdims=True)
            # float32 on float lanes computes x - max in float32 (as TensorFlow and PyTorch do): its
            # rounding, up to |x - max| 2^-25, is a relative error of e^(x - max); exact math and
            # float64 subtract exactly.
            scale = 2.0 ** -25 if dtype == 'float32' and not EXACT else 0.0
            tol = (rtol + np.abs(np.where(np.isfinite(d), d, 0)) * scale) * want_sm
            got_sm = sm[[0, 1, 5]]
            fin = np.isfinite(want_sm)
            assert (np.abs(got_sm - want_sm)[fin] <= tol[fin]).all(), cols
            assert (np.isnan(got_sm) == np.isnan(want_sm)).all()
        assert ((sm[1, ::3] == 0).all() or cols == 1) and np.isnan(sm[4]).all()


def test_logsumexp_of_an_empty_last_axis_and_other_axes():
    assert np.isneginf(K.eval(K.logsumexp(K.constant(np.zeros((3, 0), f32)), axis=-1))).all()
    x = np.random.default_rng(1).standard_normal((4, 5, 6)).astype(f32)
    for axis in [-1, 2, 1, 0, [1, 2], None]:
        want = np.log(np.exp(x.astype(np.float64)).sum(axis=None if axis is None else tuple(np.atleast_1d(axis))))
        np.testing.assert_allclose(K.eval(K.logsumexp(K.constant(x), axis=axis)), want, rtol=1e-6)


def test_logsumexp_gradient_is_softmax():
    x = np.random.default_rng(2).standard_normal((7, 33)).astype(f32)
    x[0, 3] = -INF
    v = K.variable(x)
    w = np.random.default_rng(3).standard_normal((7,)).astype(f32)
    g = K.eval(K.gradients(K.sum(K.logsumexp(v, axis=-1) * K.constant(w)), [v])[0])
    z = x.astype(np.float64)
    sm = np.exp(z - z.max(axis=-1, keepdims=True))
    sm /= sm.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(g, sm * w[:, None], rtol=1e-5, atol=1e-7)
    assert g[0, 3] == 0


def test_crossentropy_from_logits_uses_the_fused_rows():
    rng = np.random.default_rng(5)
    z = (rng.standard_normal((9, 37)) * 3).astype(f32)
    t = np.eye(37, dtype=f32)[rng.integers(0, 37, 9)]
    got = K.eval(K.categorical_crossentropy(K.constant(t), K.constant(z), from_logits=True))
    zz = z.astype(np.float64)
    m = zz.max(axis=-1, keepdims=True)
    want = -(t * (zz - m - np.log(np.exp(zz - m).sum(axis=-1, keepdims=True)))).sum(axis=-1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- the same on the AVX2 table
# (on a machine without AVX-512 this repeats the default run, which is harmless)
@pytest.mark.skipif(os.environ.get('KERAS_CPP_ISA') == 'avx2', reason='already the AVX2 run')
def test_this_file_on_the_avx2_kernels():
    env = subprocess_env(KERAS_CPP_ISA='avx2')
    out = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', __file__],
                         env=env, capture_output=True, text=True, timeout=300, cwd=os.path.dirname(__file__))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]


# ---------------------------------------------------------------- edge rows, exact math, ISAs bit for bit
def test_edge_rows():
    """Subnormal results and inputs, saturation, exact zeros and ones, on whichever path is active."""
    ev = lambda op, v: K.eval(op(K.constant(np.array(v, f32))))
    sub_in = [1e-45, 3e-42, 1.1e-38, 5.9e-39]  # subnormal inputs
    for name, v in [('exp', [-100.0, -103.0, -87.5, -104.0, -103.97, 88.72, 88.73, 1e-30, -1e-30] + sub_in),
                    ('log', sub_in + [1.0, 2.0, 0.5, 3.4e38, 1.0000001, 0.99999994]),
                    ('sigmoid', [-100.0, -103.0, -87.5, -104.0, -17.0, 17.0, 17.4, 88.0] + sub_in),
                    ('tanh', [9.0, 9.1, 10.0, 20.0, 88.0, -9.1, 1.0, -1.0, 0.99999994, 1e-30, -1e-30] + sub_in)]:
        check(name, ev(FUNCS[name][0], v), np.array(v, f32))
    np.testing.assert_array_equal(ev(K.exp, [0.0, -0.0, -INF, 89.0, -105.0]), np.array([1, 1, 0, INF, 0], f32))
    assert not np.signbit(ev(K.log, [1.0]))[0] and ev(K.log, [1.0])[0] == 0
    np.testing.assert_array_equal(ev(K.tanh, [1e-30, -1e-30, 1e-45, 9.1, -20.0]), np.array([1e-30, -1e-30, 1e-45, 1, -1], f32))
    np.testing.assert_array_equal(ev(K.sigmoid, [-INF, INF, 0.0, -0.0, 30.0, -105.0]), np.array([0, 1, 0.5, 0.5, 1, 0], f32))
    assert ev(K.exp, [-100.0])[0] > 0 and ev(K.sigmoid, [-100.0])[0] > 0  # not flushed


def switch_windows():
    """Every float (or every third) around the points where sigmoid's and tanh's float-lane forms
    change regime: sigmoid's 2^m of 2^24 and 2^25 (x ~ +-16.6, +-17.3, where D = 2^m + 1 + s loses
    bits), its subnormal results (x ~ -87.3, where AVX2 switches from one product to ldexp within a
    vector) and clamps (20, -104); tanh's |x| = 1 switch and its clamp at 10."""
    spans = [(0x41800000, 0x41900000, 3), (0xC1800000, 0xC1900000, 3), (0xC2AE0000 - 65536, 0xC2AE0000 + 65536, 1),
             (0x41A00000 - 4096, 0x41A00000 + 4096, 1), (0xC2D00000 - 4096, 0xC2D00000 + 4096, 1),
             (0x3F800000 - 65536, 0x3F800000 + 65536, 1), (0xBF800000 - 65536, 0xBF800000 + 65536, 1),
             (0x41200000 - 4096, 0x41200000 + 4096, 1)]
    return np.concatenate([bit_sweep('any', st, lo, hi) for lo, hi, st in spans])


@pytest.mark.parametrize('name', ['sigmoid', 'tanh'])
def test_sigmoid_and_tanh_around_their_switch_points(name):
    x = switch_windows()
    check(name, K.eval(FUNCS[name][0](K.constant(x))), x)


@pytest.mark.parametrize('name', sorted(FAITHFUL))
def test_float_lanes_are_mostly_correctly_rounded(name):
    """The faithful kernels round correctly almost always (a guard against a sloppier kernel
    slipping in under the 1 ulp bound): >= 99% of a bit-pattern sweep, and never worse than 1 ulp."""
    op, ref, domain = FUNCS[name]
    x = bit_sweep(domain, stride=8191)
    with np.errstate(all='ignore'):
        want = ref(x.astype(np.float64))
    got = K.eval(op(K.constant(x)))
    fin = np.isfinite(want) & (np.abs(want) < 3e38)
    err = ulp_error(got[fin], want[fin])
    assert err.max() <= 1.0
    assert (got[fin] == want[fin].astype(f32)).mean() >= (0.9999 if EXACT else 0.99)


SWEEP_SCRIPT = r'''
import sys
import numpy as np
from keras_cpp import _core
from keras_cpp import backend as K
x = np.arange(0, 2 ** 32, 1021, dtype=np.uint64).astype(np.uint32).view(np.float32)
ops = [K.exp, _core._expm1, K.log, _core._log1p, K.tanh, K.sigmoid, K.softplus]
outs = [K.eval(op(K.constant(x))) for op in ops]
rows = (x[:200 * 1021].reshape(200, 1021) % 50).astype(np.float32)
outs += [K.eval(K.softmax(K.constant(rows))), K.eval(K.logsumexp(K.constant(rows), axis=-1))]
w = np.concatenate([np.arange(lo, hi, st, dtype=np.uint64).astype(np.uint32).view(np.float32) for lo, hi, st in
                    [(0x41800000, 0x41900000, 3), (0xC1800000, 0xC1900000, 3), (0xC2AE0000 - 65536, 0xC2AE0000 + 65536, 1),
                     (0x3F800000 - 65536, 0x3F800000 + 65536, 1), (0x41200000 - 4096, 0x41200000 + 4096, 1)]])
outs += [K.eval(K.sigmoid(K.constant(w))), K.eval(K.tanh(K.constant(w)))]  # the regime switches, densely
bits = [np.where(np.isnan(o), np.float32(np.nan), o).view(np.uint32).ravel() for o in outs]
np.save(sys.argv[1], np.concatenate(bits))
print(_core._kernel_info()['isa'], _core._kernel_info()['exact_math'])
'''


@pytest.mark.skipif(os.environ.get('KERAS_CPP_ISA') == 'avx2' or EXACT, reason='run once, from the default process')
@pytest.mark.parametrize('exact', ['0', '1'])
def test_avx2_and_avx512_give_identical_bits(exact, tmp_path):
    """Every float32 transcendental, softmax and logsumexp, on a sweep of 4.2e6 bit patterns: the
    AVX2 table's results equal the default (AVX-512 where available) table's bit for bit (NaNs
    compared as NaN), with float-lane and with exact math."""
    if not _core._kernel_info()['avx512_available']:
        pytest.skip('no AVX-512: one table only')
    res = {}
    for isa in ['avx512', 'avx2']:
        env = subprocess_env(KERAS_CPP_EXACT_MATH=exact)
        env.pop('KERAS_CPP_ISA', None)
        if isa == 'avx2':
            env['KERAS_CPP_ISA'] = 'avx2'
        out_file = str(tmp_path / (isa + '.npy'))
        out = subprocess.run([sys.executable, '-c', SWEEP_SCRIPT, out_file], env=env, capture_output=True, text=True,
                             timeout=300, cwd=os.path.dirname(__file__))
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.split() == [isa, 'True' if exact == '1' else 'False']
        res[isa] = np.load(out_file)
    diff = np.flatnonzero(res['avx512'] != res['avx2'])
    assert diff.size == 0, (diff.size, diff[:8])


@pytest.mark.skipif(EXACT, reason='already the exact-math run')
def test_this_file_with_exact_math():
    """KERAS_CPP_EXACT_MATH=1: the double-lane kernels, correctly rounded (and again on AVX2)."""
    env = subprocess_env(KERAS_CPP_EXACT_MATH='1')
    out = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', __file__],
                         env=env, capture_output=True, text=True, timeout=600, cwd=os.path.dirname(__file__))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
