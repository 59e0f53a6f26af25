"""Forward values of every op in op_table.py against its numpy reference, over the row's shape
cases and dtypes, in four ways: fed placeholders, numpy arrays passed directly (constants),
non-contiguous fed arrays, and transposed tensors (K.permute_dimensions views)."""
import numpy as np
import pytest

from keras_cpp import backend as K
from keras_cpp import _core

import op_table
from op_table import OPS, FLOATS

PARAMS = [pytest.param(op, d, id='%s-%s' % (op.name, d)) for op in OPS for d in op.dtypes]
MODES = ('feed', 'const', 'noncontig', 'fortran', 'permuted')


def _rng(name, dtype):
    return np.random.default_rng(abs(hash((name, dtype))) % (2 ** 32))


def _ref(op, sample):
    """The reference computed in float64 for float inputs (int and bool inputs as they are)."""
    args = [a.astype('float64') if isinstance(a, np.ndarray) and a.dtype.kind == 'f' else a for a in sample.args]
    return np.asarray(op.ref(*args, **sample.kwargs))


def _noncontig(a):
    """The same values in a non-C-contiguous buffer."""
    if a.ndim == 0:
        return a
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    big[..., ::2] = a
    v = big[..., ::2]
    if a.size > 1:
        assert not v.flags.c_contiguous or a.shape[-1] <= 1
    return v


def _run(op, sample, mode):
    """Evaluate op on the sample in `mode`; returns a numpy array."""
    args = sample.args
    if mode == 'const':
        return K.eval(op.op(*args, **sample.kwargs))
    phs, feeds, call_args = [], [], []
    for a in args:
        if not isinstance(a, np.ndarray):
            call_args.append(a)
            continue
        if mode == 'permuted' and a.ndim >= 2:
            perm = tuple(reversed(range(a.ndim)))
            p = K.placeholder(shape=tuple(reversed(a.shape)), dtype=a.dtype.name)
            call_args.append(K.permute_dimensions(p, perm))
            feeds.append(np.ascontiguousarray(a.transpose(perm)))
        else:
            p = K.placeholder(shape=a.shape, dtype=a.dtype.name)
            call_args.append(p)
            # 'fortran': the transpose of a C array, i.e. a transposed numpy array as input
            if mode == 'noncontig':
                a = _noncontig(a)
            elif mode == 'fortran' and a.ndim >= 2:
                a = np.asfortranarray(a)
            feeds.append(a)
        phs.append(p)
    out = op.op(*call_args, **sample.kwargs)
    f = K.function(phs, [out])
    keep = [np.array(v, copy=True) for v in feeds]
    r = f(feeds)[0]
    for v, k in zip(feeds, keep):  # nothing the caller passed is modified
        np.testing.assert_array_equal(v, k)
    return r


def _check(op, sample, dtype, out, where):
    expected = _ref(op, sample)
    assert np.shape(out) == expected.shape, '%s %s: shape %s, expected %s' % (where, sample, np.shape(out), expected.shape)
    if op.out_dtype is not None:
        want = op.out_dtype(dtype)
        if want is not None:
            assert out.dtype == np.dtype(want), '%s %s: dtype %s, expected %s' % (where, sample, out.dtype, want)
    if expected.dtype.kind == 'b' or out.dtype.kind == 'b':
        np.testing.assert_array_equal(out, expected, err_msg='%s %s' % (where, sample))
        return
    rtol, atol = op.tol.get(out.dtype.name, op.tol.get(dtype, (0, 0))) if out.dtype.kind == 'f' else (0, 0)
    if out.dtype.kind == 'f' and dtype not in FLOATS:
        rtol, atol = op.tol['float32']
    np.testing.assert_allclose(out.astype('float64'), expected.astype('float64'), rtol=rtol, atol=atol,
                               equal_nan=True, err_msg='%s %s' % (where, sample))


@pytest.mark.parametrize('op,dtype', [p for p in PARAMS if p.values[0].kind == 'pure'])
def test_forward(op, dtype):
    for sample in op.samples(dtype, _rng(op.name, dtype)):
        for mode in MODES:
            if mode == 'permuted' and not op.permutable:
                continue
            out = _run(op, sample, mode)
            _check(op, sample, dtype, np.asarray(out), mode)


@pytest.mark.parametrize('op,dtype', [p for p in PARAMS if p.values[0].kind == 'print'])
def test_print_forward(op, dtype, capfd):
    for sample in op.samples(dtype, _rng(op.name, dtype)):
        out = _run(op, sample, 'feed')
        _check(op, sample, dtype, np.asarray(out), 'print')
    captured = capfd.readouterr()
    assert 'value:' in captured.out


@pytest.mark.parametrize('op,dtype', [p for p in PARAMS if p.values[0].kind == 'update'])
def test_update_forward(op, dtype):
    for sample in op.samples(dtype, _rng(op.name, dtype)):
        x0 = sample.args[0]
        expected = _ref(op, sample).astype(dtype)
        # eval applies the handle once and yields the new value
        v = K.variable(x0, dtype=dtype)
        h = op.op(v, *sample.args[1:], **sample.kwargs)
        np.testing.assert_array_equal(K.get_value(v), x0)  # building the handle does nothing
        out = K.eval(h)
        tol = op.tol.get(dtype, (0, 0))
        np.testing.assert_allclose(np.asarray(out, 'float64'), expected.astype('float64'), *tol)
        np.testing.assert_allclose(K.get_value(v).astype('float64'), expected.astype('float64'), *tol)
        assert K.get_value(v).dtype == np.dtype(dtype)
        # as a Function update, fed with a placeholder
        v2 = K.variable(x0, dtype=dtype)
        p = K.placeholder(shape=sample.args[1].shape, dtype=dtype)
        f = K.function([p], [K.identity(v2)], updates=[op.op(v2, p, *sample.args[2:], **sample.kwargs)])
        before = f([sample.args[1]])[0]
        np.testing.assert_array_equal(before, x0)
        np.testing.assert_allclose(K.get_value(v2).astype('float64'), expected.astype('float64'), *tol)


def test_op_table_rows_name_registered_ops():
    # Coverage of every public op (here or in a test module's COVERED list) is checked by
    # test_api_coverage.py.
    extra = [n for n in op_table.OP_BY_NAME if n not in _core._ops]
    assert not extra, 'rows for unknown ops: %s' % extra


def test_rows_are_complete():
    for op in OPS:
        assert op.errors, '%s has no error case' % op.name
        if op.kind == 'pure':
            for d in op.dtypes:
                assert len(op.samples(d, _rng(op.name, d))) >= 4 or op.name == 'shape' or op.name == 'one_hot', op.name
        if op.differentiable:
            assert op.grad_samples is not None, op.name


def test_non_differentiable_flags_match_registry():
    for op in OPS:
        sig, primitive, has_grad, nondiff = _core._ops[op.name]
        if primitive and op.kind == 'pure' and op.name not in ('cast',):
            assert (not op.differentiable) == nondiff or (op.differentiable and has_grad), op.name
