"""Forward sweep of op_table.py: every row's samples and dtypes against its numpy reference.

'pure' rows run in five ways: fed placeholders, numpy arrays passed directly (constants),
non-contiguous and Fortran-ordered fed arrays, and transposed tensors (K.permute_dimensions views);
the static shape must agree with the value and no input may be modified. 'random' rows check the
distribution and that a seed gives the same numbers; 'contract' rows call the name and check what
it returned or did, with the configuration restored afterwards."""
import numpy as np
import pytest

from keras_cpp import backend as K

import reference as R
from op_info import BIG_TOL, FLOATS, noncontig, rng_for  # noqa: F401  (BIG_TOL: parallel_sweep)
from op_table import OPS


def params(kind):
    return [pytest.param(op, d, id='%s-%s' % (op.name, d), marks=op.marks('forward-%s' % d))
            for op in OPS if op.kind == kind for d in op.dtypes]


MODES = ('feed', 'const', 'noncontig', 'fortran', 'permuted')


def _ref(op, sample):
    """The reference in float64 for float inputs (int and bool inputs as they are)."""
    args, kwargs = sample.cast_floats('float64').bind(R, values=lambda a: a)
    return op.ref(*args, **kwargs)


def leaves(out):
    if isinstance(out, (list, tuple)):
        return [x for o in out for x in leaves(o)]
    return [out]


def _feed_value(a, mode):
    if mode == 'noncontig':
        return noncontig(a)
    if mode == 'fortran' and a.ndim >= 2:
        return np.asfortranarray(a)
    return a


def placeholders(arrays, mode):
    """A placeholder per array, its feed laid out like the mode, and the tensor the op gets
    (for 'permuted': the placeholder holds the transposed array and the op reads it permuted back)."""
    phs, feeds, tensors = [], [], []
    for a in arrays:
        if mode == 'permuted' and a.ndim >= 2:
            perm = tuple(reversed(range(a.ndim)))
            p = K.placeholder(shape=tuple(reversed(a.shape)), dtype=a.dtype.name)
            tensors.append(K.permute_dimensions(p, perm))
            feeds.append(np.ascontiguousarray(a.transpose(perm)))
        else:
            p = K.placeholder(shape=a.shape, dtype=a.dtype.name)
            tensors.append(p)
            feeds.append(_feed_value(a, mode))
        phs.append(p)
    return phs, feeds, tensors


def run(op, sample, mode):
    """Evaluate the op on the sample in `mode`: (list of output leaves as numpy / Python values,
    list of the symbolic leaves)."""
    arrays = sample.arrays()
    values = lambda a: _feed_value(a, mode)  # noqa: E731  (Val arrays: laid out like the mode)
    if mode == 'const' or not op.feed:
        args, kwargs = sample.bind(K, values=values)
        out = leaves(op.op(*args, **kwargs))
        return [K.eval(t) if K.is_tensor(t) else t for t in out], out
    phs, feeds, tensors = placeholders(arrays, mode)
    args, kwargs = sample.bind(K, tensors, values=values)
    out = leaves(op.op(*args, **kwargs))
    syms = [t for t in out if K.is_tensor(t)]
    keep = [np.array(v, copy=True) for v in feeds]
    vals = iter(K.function(phs, syms)(feeds) if syms else [])
    for v, k in zip(feeds, keep):  # nothing the caller passed is modified
        np.testing.assert_array_equal(v, k)
    return [next(vals) if K.is_tensor(t) else t for t in out], out


def _dtypes_wanted(op, dtype, n):
    if op.out_dtype is None:
        return [None] * n
    want = op.out_dtype(dtype)
    return list(want) if isinstance(want, (list, tuple)) else [want] * n


def check(op, sample, dtype, outs, syms, where, tol=None):
    expected = leaves(_ref(op, sample))
    assert len(outs) == len(expected), '%s %s: %d outputs, expected %d' % (where, sample, len(outs), len(expected))
    for k, (out, exp, sym, want) in enumerate(zip(outs, expected, syms, _dtypes_wanted(op, dtype, len(outs)))):
        msg = '%s %s output %d' % (where, sample, k)
        if not K.is_tensor(sym) and not isinstance(exp, np.ndarray) and not isinstance(out, np.ndarray):
            assert out == exp and type(out) == type(exp), '%s: %r, expected %r' % (msg, out, exp)
            continue
        if K.is_tensor(sym) and np.ndim(out) == 0:  # as TF's Session.run: a numpy scalar, not a 0-d array
            assert isinstance(out, np.generic), '%s: a 0-d result came back as %s' % (msg, type(out).__name__)
        out, exp = np.asarray(out), np.asarray(exp)
        assert out.shape == exp.shape, '%s: shape %s, expected %s' % (msg, out.shape, exp.shape)
        if K.is_tensor(sym):
            static = K.int_shape(sym)
            assert static is None or (len(static) == out.ndim and all(
                s is None or s == v for s, v in zip(static, out.shape))), '%s: static shape %s, value %s' % (
                    msg, static, out.shape)
        if want == 'ref':  # the reference's dtype, exactly
            want = exp.dtype
        if want is not None:
            assert out.dtype == np.dtype(want), '%s: dtype %s, expected %s' % (msg, out.dtype, want)
        if exp.dtype.kind in 'bU' or out.dtype.kind in 'bU':
            np.testing.assert_array_equal(out, exp, err_msg=msg)
            continue
        tol = tol or op.tol
        rtol, atol = tol.get(out.dtype.name, tol['float32']) if out.dtype.kind == 'f' else (0, 0)
        if out.dtype.kind == 'f':  # computed in the inputs' dtype, or float32 from ints
            rtol, atol = [max(a, b) for a, b in zip((rtol, atol), tol.get(dtype, tol['float32']))]
        np.testing.assert_allclose(out.astype('float64'), exp.astype('float64'), rtol=rtol, atol=atol,
                                   equal_nan=True, err_msg=msg)


def _modes(op):
    if not op.feed:
        return ('const', 'noncontig', 'fortran')
    return [m for m in MODES if m != 'permuted' or op.permutable]


FORWARD = [pytest.param(op, d, m, id='%s-%s-%s' % (op.name, d, m), marks=op.marks('forward-%s-%s' % (d, m)))
           for op in OPS if op.kind == 'pure' for d in op.dtypes for m in _modes(op)]


@pytest.mark.parametrize('op,dtype,mode', FORWARD)
def test_forward(op, dtype, mode):
    for sample in op.samples(dtype, rng_for(op.name, dtype)):
        outs, syms = run(op, sample, mode)
        check(op, sample, dtype, outs, syms, mode)


@pytest.mark.parametrize('op,dtype', params('print'))
def test_print_forward(op, dtype, capfd):
    for sample in op.samples(dtype, rng_for(op.name, dtype)):
        outs, syms = run(op, sample, 'feed')
        check(op, sample, dtype, outs, syms, 'print')
        assert sample.kwargs['message'] in capfd.readouterr().out


@pytest.mark.parametrize('op,dtype', params('update'))
def test_update_forward(op, dtype):
    for sample in op.samples(dtype, rng_for(op.name, dtype)):
        x0 = sample.args[0]
        expected = np.asarray(_ref(op, sample)).astype(dtype)
        tol = op.tol.get(dtype, (0, 0))
        # eval applies the handle once and yields the new value
        v = K.variable(x0, dtype=dtype)
        h = op.op(v, *sample.args[1:], **sample.kwargs)
        np.testing.assert_array_equal(K.get_value(v), x0)  # building the handle does nothing
        out = K.eval(h)
        np.testing.assert_allclose(np.asarray(out, 'float64'), expected.astype('float64'), *tol)
        np.testing.assert_allclose(K.get_value(v).astype('float64'), expected.astype('float64'), *tol)
        assert K.get_value(v).dtype == np.dtype(dtype)
        # as a Function update, fed with a (non-contiguous) placeholder value
        v2 = K.variable(x0, dtype=dtype)
        p = K.placeholder(shape=sample.args[1].shape, dtype=dtype)
        f = K.function([p], [K.identity(v2)], updates=[op.op(v2, p, *sample.args[2:], **sample.kwargs)])
        before = f([noncontig(sample.args[1])])[0]
        np.testing.assert_array_equal(before, x0)
        np.testing.assert_allclose(K.get_value(v2).astype('float64'), expected.astype('float64'), *tol)


def _random_values(op, sample, mode):
    outs, _ = run(op, sample, mode)
    return outs[0]


@pytest.mark.parametrize('op,dtype', params('random'))
def test_random_forward(op, dtype):
    for sample in op.samples(dtype, rng_for(op.name, dtype)):
        args, kwargs = sample.bind(R, values=lambda a: a)
        for mode in ('feed', 'const', 'noncontig') if sample.arrays() else ('const',):
            v = _random_values(op, sample, mode)
            op.ref(v, *args, **kwargs)  # asserts the distribution, shape and dtype
        if kwargs.get('seed') is not None:  # a seed gives the same numbers in a fresh graph
            np.testing.assert_array_equal(_random_values(op, sample, 'feed'), _random_values(op, sample, 'feed'),
                                          err_msg='%s %s: seed %r' % (op.name, sample, kwargs['seed']))


class _Config(object):
    """Snapshot and restore of the global state a contract row may change."""

    def __enter__(self):
        self.state = (K.floatx(), K.epsilon(), K.image_data_format(), K.learning_phase())
        return self

    def __exit__(self, *exc):
        floatx, eps, fmt, phase = self.state
        K.set_floatx(floatx)
        K.set_epsilon(eps)
        K.set_image_data_format(fmt)
        if isinstance(phase, int):
            K.set_learning_phase(phase)
        elif K.learning_phase() is not phase:
            K.clear_session()
        return False


@pytest.mark.parametrize('op,dtype', params('contract'))
def test_contract(op, dtype):
    for sample in op.samples(dtype, rng_for(op.name, dtype)):
        with _Config():
            if sample.setup:
                sample.setup()
            args, kwargs = sample.make_args() if sample.make_args else sample.bind(K)
            result = op.op(*args, **kwargs)
            op.ref(result, sample.expect, *args, **kwargs)
