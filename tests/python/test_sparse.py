"""Sparse tensors: scipy.sparse feeds (CSR borrowed, COO/CSC converted), sparse variables,
to_dense, dot without densifying, concatenate, gradients, and the errors of ops that take no
sparse input. References are numpy/scipy computations."""
import numpy as np
import pytest

from keras_cpp import backend as K

sp = pytest.importorskip('scipy.sparse')


def rand_csr(rows, cols, density=0.3, seed=0, dtype='float32'):
    return sp.random(rows, cols, density=density, format='csr', dtype=dtype, random_state=seed)


def test_placeholder_and_variable_are_sparse():
    p = K.placeholder(shape=(None, 4), sparse=True)
    assert K.is_sparse(p) and not K.is_sparse(K.placeholder(shape=(2, 4)))
    assert K.int_shape(p) == (None, 4) and K.ndim(p) == 2 and K.dtype(p) == 'float32'
    m = rand_csr(3, 4)
    v = K.variable(m)
    assert K.is_sparse(v) and K.int_shape(v) == (3, 4)
    got = K.get_value(v)
    assert sp.issparse(got) and got.format == 'csr'
    np.testing.assert_array_equal(got.toarray(), m.toarray())
    assert not K.is_sparse(K.variable(np.zeros((2, 2)))) and not K.is_sparse(np.zeros((2, 2)))
    assert not K.is_sparse(K.to_dense(v))


@pytest.mark.parametrize('fmt', ['csr', 'coo', 'csc', 'lil'])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_to_dense_of_every_scipy_format(fmt, dtype):
    m = rand_csr(5, 7, seed=1, dtype='float64').asformat(fmt)
    p = K.placeholder(shape=(None, 7), sparse=True, dtype=dtype)
    out = K.function([p], [K.to_dense(p)])([m])[0]
    assert out.dtype == dtype
    np.testing.assert_allclose(out, m.toarray().astype(dtype))


def test_duplicates_unsorted_int64_indices_and_empty_rows():
    # scipy CSR may hold duplicate (summed) and unsorted entries, and int64 index arrays.
    data = np.array([1., 2., 3., 4.], dtype='float32')
    indices = np.array([2, 0, 2, 1], dtype='int64')
    indptr = np.array([0, 3, 3, 4], dtype='int64')
    m = sp.csr_matrix((data, indices, indptr), shape=(3, 3))
    p = K.placeholder(shape=(3, 3), sparse=True)
    w = np.arange(6, dtype='float32').reshape(3, 2)
    dense, prod = K.function([p], [K.to_dense(p), K.dot(p, K.constant(w))])([m])
    np.testing.assert_allclose(dense, m.toarray())
    np.testing.assert_allclose(prod, m.toarray() @ w)


def test_feeds_are_not_modified_and_results_do_not_alias_them():
    m = rand_csr(6, 5, seed=2)
    before = (m.data.copy(), m.indices.copy(), m.indptr.copy())
    p = K.placeholder(shape=(None, 5), sparse=True)
    f = K.function([p], [K.concatenate([p, p], axis=0)])
    out = f([m])[0]
    for a, b in zip(before, (m.data, m.indices, m.indptr)):
        np.testing.assert_array_equal(a, b)
    assert not np.shares_memory(out.data, m.data) and not np.shares_memory(out.indices, m.indices)
    np.testing.assert_array_equal(out.toarray(), np.vstack([m.toarray()] * 2))


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_dot_sparse_dense_and_dense_sparse(dtype):
    m = rand_csr(6, 5, seed=3, dtype=dtype)
    w = np.random.RandomState(0).randn(5, 4).astype(dtype)
    x = np.random.RandomState(1).randn(3, 6).astype(dtype)
    v = np.random.RandomState(2).randn(5).astype(dtype)
    p = K.placeholder(shape=(None, 5), sparse=True, dtype=dtype)
    y = K.dot(p, K.constant(w, dtype=dtype))
    assert not K.is_sparse(y) and K.int_shape(y) == (None, 4)
    outs = K.function([p], [y, K.dot(K.constant(x, dtype=dtype), p), K.dot(p, K.constant(v, dtype=dtype))])([m])
    tol = 1e-5 if dtype == 'float32' else 1e-12
    np.testing.assert_allclose(outs[0], m.toarray() @ w, rtol=tol, atol=tol)
    np.testing.assert_allclose(outs[1], x @ m.toarray(), rtol=tol, atol=tol)
    np.testing.assert_allclose(outs[2], m.toarray() @ v, rtol=tol, atol=tol)
    assert outs[1].shape == (3, 5) and outs[2].shape == (6,)


def test_dot_never_densifies_a_huge_sparse_matrix():
    # Dense, this matrix would take 160 GB; the product must run on the CSR entries alone.
    n = 200000
    rows = np.array([0, 7, n - 1, n - 1])
    cols = np.array([3, n - 2, 0, 5])
    m = sp.coo_matrix((np.array([1., 2., 3., 4.], dtype='float32'), (rows, cols)), shape=(n, n)).tocsr()
    p = K.placeholder(shape=(n, n), sparse=True)
    w = np.random.RandomState(0).randn(n, 2).astype('float32')
    wv = K.variable(w)
    y = K.dot(p, wv)
    loss = K.sum(y)
    gw = K.gradients(loss, [wv])[0]
    out, g = K.function([p], [y, gw])([m])
    np.testing.assert_allclose(out, m @ w, rtol=1e-6)
    np.testing.assert_allclose(g, np.repeat(np.asarray(m.sum(axis=0)).reshape(n, 1), 2, axis=1))


def test_gradients_wrt_the_dense_operand_and_the_values():
    m = rand_csr(5, 4, seed=4, dtype='float64')
    w0 = np.random.RandomState(3).randn(4, 3)
    s, w = K.variable(m, dtype='float64'), K.variable(w0, dtype='float64')
    y = K.dot(s, w)
    loss = K.sum(K.square(y)) + K.sum(K.to_dense(s) * K.constant(np.arange(20.).reshape(5, 4), dtype='float64'))
    gs, gw = K.gradients(loss, [s, w])
    assert K.is_sparse(gs) and not K.is_sparse(gw)
    gs_v, gw_v = K.function([], [gs, gw])([])
    dense = m.toarray()
    yv = dense @ w0
    np.testing.assert_allclose(gw_v, dense.T @ (2 * yv))
    want = (2 * yv) @ w0.T + np.arange(20.).reshape(5, 4)  # d/dS of the dense formula ...
    got = gs_v.toarray()
    mask = dense != 0  # ... restricted to the stored entries (the gradient of the values)
    np.testing.assert_allclose(got[mask], want[mask])
    assert np.all(got[~mask] == 0)


def test_gradient_wrt_values_matches_finite_differences():
    m = rand_csr(4, 3, seed=5, dtype='float64')
    w0 = np.random.RandomState(4).randn(3, 2)
    x0 = np.random.RandomState(5).randn(2, 4)

    def loss_of(mat):
        return np.sum(np.tanh(mat @ w0)) + np.sum((x0 @ mat) ** 2)

    s = K.variable(m, dtype='float64')
    loss = K.sum(K.tanh(K.dot(s, K.constant(w0, dtype='float64')))) + \
        K.sum(K.square(K.dot(K.constant(x0, dtype='float64'), s)))
    g = K.eval(K.gradients(loss, [s])[0]).tocsr()
    g.sum_duplicates()
    ref = m.copy()
    ref.sort_indices()
    eps = 1e-6
    for k in range(ref.nnz):
        hi, lo = ref.copy(), ref.copy()
        hi.data[k] += eps
        lo.data[k] -= eps
        fd = (loss_of(hi) - loss_of(lo)) / (2 * eps)
        r = np.searchsorted(ref.indptr, k, side='right') - 1
        np.testing.assert_allclose(g[r, ref.indices[k]], fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize('axis', [0, 1, -1])
def test_concatenate_of_sparse_stays_sparse(axis):
    a, b = rand_csr(3, 4, seed=6), rand_csr(3, 4, seed=7)
    pa, pb = K.placeholder(shape=(3, 4), sparse=True), K.placeholder(shape=(3, 4), sparse=True)
    c = K.concatenate([pa, pb], axis=axis)
    assert K.is_sparse(c)
    assert K.int_shape(c) == ((6, 4) if axis == 0 else (3, 8))
    out = K.function([pa, pb], [c])([a, b])[0]
    assert sp.issparse(out)
    want = (sp.vstack if axis == 0 else sp.hstack)([a, b]).toarray()
    np.testing.assert_array_equal(out.toarray(), want)


def test_concatenate_mixed_sparse_and_dense_densifies():
    a = rand_csr(3, 4, seed=8)
    d = np.ones((3, 2), dtype='float32')
    pa = K.placeholder(shape=(3, 4), sparse=True)
    c = K.concatenate([pa, K.constant(d)], axis=1)
    assert not K.is_sparse(c)
    np.testing.assert_array_equal(K.function([pa], [c])([a])[0], np.hstack([a.toarray(), d]))


def test_gradient_through_sparse_concatenate():
    a, b = rand_csr(3, 4, seed=9, dtype='float64'), rand_csr(2, 4, seed=10, dtype='float64')
    w0 = np.random.RandomState(6).randn(4, 2)
    sa, sb = K.variable(a, dtype='float64'), K.variable(b, dtype='float64')
    y = K.dot(K.concatenate([sa, sb], axis=0), K.constant(w0, dtype='float64'))
    ga, gb = K.function([], K.gradients(K.sum(K.square(y)), [sa, sb]))([])
    dense = np.vstack([a.toarray(), b.toarray()])
    full = 2 * (dense @ w0) @ w0.T
    for g, part, lo in ((ga, a, 0), (gb, b, 3)):
        mask = part.toarray() != 0
        np.testing.assert_allclose(g.toarray()[mask], full[lo:lo + part.shape[0]][mask])
        assert np.all(g.toarray()[~mask] == 0)


def test_gradient_through_a_concatenation_of_mixed_dtypes():
    a, b = rand_csr(2, 3, seed=12, dtype='float32'), rand_csr(2, 3, seed=13, dtype='float64')
    sa, sb = K.variable(a, dtype='float32'), K.variable(b, dtype='float64')
    c = K.concatenate([sa, sb], axis=1)
    assert K.dtype(c) == 'float64'
    ga, gb = K.gradients(K.sum(K.to_dense(c)), [sa, sb])
    assert K.dtype(ga) == 'float32' and K.dtype(gb) == 'float64'
    np.testing.assert_array_equal(K.eval(ga).toarray(), (a.toarray() != 0).astype('float32'))


def test_dense_values_fed_to_a_sparse_placeholder_and_sparse_to_dense():
    d = np.array([[0., 1.], [2., 0.]], dtype='float32')
    p = K.placeholder(shape=(2, 2), sparse=True)
    q = K.placeholder(shape=(2, 2))
    f = K.function([p, q], [K.dot(p, K.constant(np.eye(2))), q * 1.])
    a, b = f([d, sp.csr_matrix(d)])  # the dense placeholder's scipy feed is densified explicitly
    np.testing.assert_array_equal(a, d)
    np.testing.assert_array_equal(b, d)
    np.testing.assert_array_equal(K.eval(K.shape(K.variable(sp.csr_matrix(d)))), [2, 2])


def test_set_value_and_eval_of_sparse_variables():
    m = rand_csr(3, 3, seed=11)
    v = K.variable(m)
    K.set_value(v, 2 * m)
    np.testing.assert_allclose(K.get_value(v).toarray(), 2 * m.toarray())
    K.set_value(v, np.eye(3))  # dense values are made sparse: the variable stays sparse
    assert K.is_sparse(v) and K.get_value(v).nnz == 3
    np.testing.assert_allclose(K.eval(K.to_dense(v)), np.eye(3))
    with pytest.raises(ValueError, match='does not match'):
        K.set_value(v, sp.csr_matrix(np.ones((2, 3))))


def test_ops_without_sparse_support_raise_a_clear_error():
    p = K.placeholder(shape=(None, 3), sparse=True)
    for fn in (K.exp, lambda x: x + 1., lambda x: K.sum(x), lambda x: K.transpose(x)):
        with pytest.raises(TypeError, match='sparse.*to_dense'):
            fn(p)
    with pytest.raises(TypeError, match='both operands are sparse'):
        K.dot(p, K.placeholder(shape=(3, 2), sparse=True))
    with pytest.raises(ValueError, match='contracted dimensions differ'):
        K.dot(p, K.constant(np.zeros((4, 2))))
    with pytest.raises(ValueError, match='2-D'):
        K.placeholder(shape=(2, 3, 4), sparse=True)
    with pytest.raises(ValueError, match='1-D or 2-D'):
        K.dot(p, K.constant(np.zeros((3, 2, 2))))
    v = K.variable(sp.eye(3, format='csr'))
    with pytest.raises(TypeError, match=r'\[update\].*sparse'):
        K.update(v, K.variable(sp.eye(3, format='csr')))


def test_malformed_scipy_matrices_are_rejected():
    p = K.placeholder(shape=(None, 3), sparse=True)
    f = K.function([p], [K.to_dense(p)])
    bad = sp.csr_matrix((3, 3), dtype='float32')
    bad.indices = np.array([5], dtype='int32')
    bad.data = np.array([1.], dtype='float32')
    bad.indptr = np.array([0, 1, 1, 1], dtype='int32')
    with pytest.raises(ValueError, match='out of range'):
        f([bad])
    with pytest.raises(ValueError, match='expects shape'):
        f([sp.csr_matrix(np.ones((2, 4), dtype='float32'))])
    q = K.placeholder(shape=(None, None), sparse=True)
    g = K.function([q], [K.dot(q, K.constant(np.zeros((3, 1))))])
    with pytest.raises(ValueError, match='contracted dimensions differ at run time'):
        g([sp.csr_matrix(np.ones((2, 4), dtype='float32'))])
