"""Gradients of every op in op_table.py: float64 central finite differences against K.gradients
(run through K.function) for differentiable ops; None for ops marked non-differentiable."""
import numpy as np
import pytest

from keras_cpp import backend as K

from op_table import OPS

DIFF = [pytest.param(op, id=op.name) for op in OPS if op.differentiable]
NONDIFF = [pytest.param(op, id=op.name) for op in OPS if not op.differentiable and op.grad_samples]
EPS = 1e-6


def _build(op, sample, rng):
    """Placeholders for the array arguments; loss = sum(op(...) * w) with fixed random weights w."""
    phs, vals, call_args = [], [], []
    for a in sample.args:
        if isinstance(a, np.ndarray):
            p = K.placeholder(shape=a.shape, dtype=a.dtype.name)
            phs.append(p)
            vals.append(a.astype('float64') if a.dtype.kind == 'f' else a)
            call_args.append(p)
        else:
            call_args.append(a)
    out = op.op(*call_args, **sample.kwargs)
    return phs, vals, out


def _wrt(op, phs):
    return list(range(len(phs))) if op.grad_wrt is None else list(op.grad_wrt)


@pytest.mark.parametrize('op', DIFF)
def test_gradient_matches_finite_differences(op):
    rng = np.random.default_rng(7)
    for sample in op.grad_samples(rng):
        phs, vals, out = _build(op, sample, rng)
        w = K.constant(rng.uniform(0.5, 1.5, size=out.shape), dtype='float64')
        loss = K.sum(K.cast(out, 'float64') * w)
        wrt = _wrt(op, phs)
        grads = K.gradients(loss, [phs[i] for i in wrt])
        assert all(g is not None for g in grads), '%s %s: gradient is None' % (op.name, sample)
        for i, g in zip(wrt, grads):
            assert g.shape == phs[i].shape, '%s: gradient shape %s for input %s' % (op.name, g.shape, phs[i].shape)
        f = K.function(phs, [loss] + grads)
        res = f(vals)
        floss = K.function(phs, [loss])
        for i, g in zip(wrt, res[1:]):
            num = np.zeros_like(vals[i])
            flat = num.reshape(-1)
            for j in range(vals[i].size):
                plus = [v.copy() for v in vals]
                minus = [v.copy() for v in vals]
                plus[i].reshape(-1)[j] += EPS
                minus[i].reshape(-1)[j] -= EPS
                flat[j] = (floss(plus)[0] - floss(minus)[0]) / (2 * EPS)
            np.testing.assert_allclose(g, num, rtol=op.grad_tol[0] * 100, atol=op.grad_tol[1] * 100,
                                       err_msg='%s %s input %d' % (op.name, sample, i))


@pytest.mark.parametrize('op', NONDIFF)
def test_non_differentiable_gives_none(op):
    rng = np.random.default_rng(7)
    for sample in op.grad_samples(rng):
        phs, vals, out = _build(op, sample, rng)
        loss = K.sum(K.cast(out, 'float64'))
        grads = K.gradients(loss, phs)
        assert grads == [None] * len(phs), '%s %s: %s' % (op.name, sample, grads)


def test_gradient_dtype_float32():
    x = K.placeholder((2, 3), dtype='float32')
    g = K.gradients(K.sum(K.square(x)), [x])[0]
    assert g.dtype == 'float32'
    np.testing.assert_allclose(K.function([x], [g])([np.ones((2, 3), 'float32')])[0], 2 * np.ones((2, 3)))
