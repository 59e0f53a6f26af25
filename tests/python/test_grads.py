"""Gradient sweep of op_table.py through the one finite-difference checker (gradcheck.py):
float64 central differences against K.gradients for every differentiable row, the float32
gradient against the float64 one, and None for rows marked non-differentiable."""
import numpy as np
import pytest

from keras_cpp import backend as K

import gradcheck
from op_table import OPS


def _params(test, pred):
    return [pytest.param(op, id=op.name, marks=op.marks(test)) for op in OPS if pred(op)]


DIFF = _params('grad', lambda op: op.differentiable)
LOW = _params('grad-float32', lambda op: op.differentiable and 'float32' in op.dtypes)
NONDIFF = _params('nondiff', lambda op: not op.differentiable and op.grad_samples)


def _calls(op, sample):
    """build(*placeholders) for gradcheck: the sample's fed arrays replaced by the placeholders."""
    def build(*phs):
        args, kwargs = sample.bind(K, phs)
        return op.op(*args, **kwargs)
    return build


@pytest.mark.parametrize('op', DIFF)
def test_gradient_matches_finite_differences(op):
    for k, sample in enumerate(op.grad_samples(np.random.default_rng(7))):
        gradcheck.check_gradients(_calls(op, sample), sample.arrays(), wrt=op.grad_wrt, seed=k,
                                  err_msg='%s %s' % (op.name, sample))


@pytest.mark.parametrize('op', LOW)
def test_float32_gradient_matches_float64(op):
    for k, sample in enumerate(op.grad_samples(np.random.default_rng(7))):
        gradcheck.check_low_precision(_calls(op, sample), sample.arrays(), 'float32', wrt=op.grad_wrt, seed=k,
                                      err_msg='%s %s' % (op.name, sample))


@pytest.mark.parametrize('op', NONDIFF)
def test_non_differentiable_gives_none(op):
    for sample in op.grad_samples(np.random.default_rng(7)):
        arrays = sample.arrays()
        phs = [K.placeholder(shape=a.shape, dtype=a.dtype.name) for a in arrays]
        args, kwargs = sample.bind(K, phs)
        outs = gradcheck.flat_tensors(op.op(*args, **kwargs))
        loss = K.sum(K.cast(outs[0], 'float64'))
        for t in outs[1:]:
            loss = loss + K.sum(K.cast(t, 'float64'))
        grads = K.gradients(loss, phs)
        assert grads == [None] * len(phs), '%s %s: %s' % (op.name, sample, grads)


def test_gradient_dtype_float32():
    x = K.placeholder((2, 3), dtype='float32')
    g = K.gradients(K.sum(K.square(x)), [x])[0]
    assert g.dtype == 'float32'
    np.testing.assert_allclose(K.function([x], [g])([np.ones((2, 3), 'float32')])[0], 2 * np.ones((2, 3)))


@pytest.mark.parametrize('batch', [(3, 5), (0, 4), (7,)])
def test_dot_of_a_batch_with_a_weight_matrix_has_one_product_weight_gradient(batch):
    # The weight gradient folds a's batch into the contracted rows (matmul_grad): a (batch..., K)
    # with a 2-D weight, batch dims unknown statically, and an empty batch.
    rng = np.random.default_rng(len(batch))
    a = rng.standard_normal(batch + (6,)).astype('float64')
    r = rng.standard_normal(batch + (4,)).astype('float64')
    W = K.variable(rng.standard_normal((6, 4)), dtype='float64')
    pa = K.placeholder(shape=(None,) * len(batch) + (6,), dtype='float64')
    pr = K.placeholder(shape=(None,) * len(batch) + (4,), dtype='float64')
    ga, gw = K.gradients(K.sum(K.dot(pa, W) * pr), [pa, W])
    got_a, got_w = K.function([pa, pr], [ga, gw])([a, r])
    np.testing.assert_allclose(got_w, a.reshape(-1, 6).T @ r.reshape(-1, 4), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_a, r @ K.get_value(W).T, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('dtypes', [('float32', 'float32'), ('float64', 'float64'), ('float32', 'float64')])
def test_gradient_of_the_sum_of_a_product_is_the_other_factor(dtypes):
    # sum(x * c): x's gradient is c broadcast to the product's shape (multiply_grad skips the
    # multiplication by the all-ones cotangent there), c's is x summed over the broadcast axes;
    # mixed dtypes take the general path. Bits and shapes as numpy's, for several batches.
    rng = np.random.default_rng(3)
    c = rng.standard_normal((1, 4)).astype(dtypes[1])
    px = K.placeholder(shape=(None, 4), dtype=dtypes[0])
    pc = K.placeholder(shape=(1, 4), dtype=dtypes[1])
    gx, gc = K.gradients(K.sum(px * pc), [px, pc])
    f = K.function([px, pc], [gx, gc])
    for n in (3, 1, 0):
        x = rng.standard_normal((n, 4)).astype(dtypes[0])
        got_x, got_c = f([x, c])
        assert got_x.shape == (n, 4) and got_c.shape == (1, 4)
        assert got_x.dtype == x.dtype and got_c.dtype == c.dtype  # each gradient in its input's dtype
        np.testing.assert_array_equal(got_x, np.broadcast_to(c.astype(x.dtype), (n, 4)))
        np.testing.assert_allclose(got_c, x.astype('float64').sum(axis=0, keepdims=True), rtol=1e-6, atol=1e-6)
