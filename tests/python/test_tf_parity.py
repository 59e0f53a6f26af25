"""Where Keras 2.3.1 takes its TensorFlow code path: symbolic indexing with tensor indices,
numpy operands on the left of Tensor operators, and K.backend() as a str with methods.
Expected values come from numpy indexing and hand-worked gradients."""
import numpy as np
import pytest

from keras_cpp import backend as K



def _i(v):
    return K.constant(v, dtype='int32')


# ---------------------------------------------------------------- x[i], x[i:j], x[:, i]
X = np.arange(24, dtype='float32').reshape(4, 6)


@pytest.mark.parametrize('key,static', [
    (lambda i, j: (i,), (6,)), (lambda i, j: (slice(i, j),), (None, 6)), (lambda i, j: (slice(None), i), (4,)),
    (lambda i, j: (i, j), ()), (lambda i, j: (slice(None), slice(i, None)), (4, None)),
    (lambda i, j: (Ellipsis, j), (4,)), (lambda i, j: (slice(None, None, i),), (None, 6)),
    (lambda i, j: (-i,), (6,)), (lambda i, j: (slice(i, j), 0), (None,)), (lambda i, j: (None, i), (1, 6))])
def test_tensor_indices_match_numpy(key, static):
    x = K.variable(X)
    for i, j in ((1, 3), (2, 4), (3, 1)):
        got = K.eval(x[key(_i(i), _i(j))])
        want = X[key(i, j)] if key(i, j) != (-i,) else X[-i]
        np.testing.assert_array_equal(got, want)
    assert x[key(_i(1), _i(3))].shape == static


def test_tensor_indices_fed_at_run_time_and_checked():
    x = K.variable(X)
    p = K.placeholder(shape=(), dtype='int32')
    f = K.function([p], [x[p], x[:, p]])
    for k in (0, 3, -1):
        r, col = f([np.int32(k)])
        np.testing.assert_array_equal(r, X[k])
        np.testing.assert_array_equal(col, X[:, k])
    with pytest.raises(ValueError, match=r'\[getitem\] index 4 is out of bounds for axis 0 with size 4'):
        f([np.int32(4)])
    with pytest.raises(TypeError, match=r'\[getitem\].*scalar ints'):
        x[K.constant([1, 2], dtype='int32')]
    with pytest.raises(TypeError, match=r'\[getitem\].*scalar ints'):
        x[K.constant(1.)]
    q = K.placeholder(shape=(), dtype='int32')
    with pytest.raises(ValueError, match=r'slice step cannot be zero'):
        K.function([q], [x[::q]])([np.int32(0)])


def test_map_fn_over_an_index_range():
    v = K.variable(X)
    out = K.map_fn(lambda i: K.sum(v[i]), K.arange(4))  # Keras's own example shape
    np.testing.assert_array_equal(K.eval(out), X.sum(1))


def test_gradients_through_tensor_indices():
    x = K.variable(X)
    i, j = _i(1), _i(3)
    loss = K.sum(x[i:j] * 2.) + K.sum(x[:, i]) + 5. * x[j, i]
    g = K.eval(K.gradients(loss, [x])[0])
    want = np.zeros_like(X)
    want[1:3] += 2.
    want[:, 1] += 1.
    want[3, 1] += 5.
    np.testing.assert_array_equal(g, want)
    # second order: the gradient graph of an indexed gradient is indexed too
    h = K.gradients(K.sum(K.gradients(K.sum(K.square(x[i])), [x])[0] * x), [x])[0]
    want2 = np.zeros_like(X)
    want2[1] = 4. * X[1]
    np.testing.assert_allclose(K.eval(h), want2)


def test_sensitivity_at_specificity_style_result():
    """The expression Keras's SensitivityAtSpecificity.result builds: an argmin index into variables."""
    tp = K.variable(np.array([5., 4., 2., 0.]))
    fn = K.variable(np.array([0., 1., 3., 5.]))
    spec = K.variable(np.array([0.1, 0.5, 0.8, 1.0]))
    k = K.cast(K.argmin(K.abs(spec - 0.75), axis=0), 'int32')
    assert K.eval(tp[k] / (tp[k] + fn[k])) == pytest.approx(2. / 5.)


# ---------------------------------------------------------------- numpy on the left
def test_numpy_array_operators_defer_to_tensors():
    a = np.array([[1., 2.], [3., 4.]])
    t = K.constant(np.ones((2, 2)))
    for r, want in ((a - t, a - 1), (a * t, a), (a + t, a + 1), (a / (t * 2), a / 2), (a ** t, a),
                    (a > t, a > 1)):
        assert isinstance(r, K.Tensor)
        np.testing.assert_allclose(K.eval(r), want)
    for s in (np.float32(2), np.float64(2), np.int64(2)):  # numpy scalars on either side
        np.testing.assert_allclose(K.eval(s * t), 2 * np.ones((2, 2)))
        np.testing.assert_allclose(K.eval(t - s), -np.ones((2, 2)))
        assert K.eval(t > s).dtype == np.bool_
    m = K.mean(np.array([1., 2., 3.]) - K.constant([1., 1., 1.]) * K.log(K.constant([1., 1., 1.])))
    assert K.eval(m) == 2.


# ---------------------------------------------------------------- K.backend()
def test_backend_name_is_a_str_with_backend_methods():
    name = K.backend()
    assert name == 'keras_cpp' and isinstance(name, str) and name.encode('utf8') == b'keras_cpp'
    assert name in ('keras_cpp', 'tensorflow') and hash(name) == hash('keras_cpp')
    name.set_floatx('float64')
    try:
        assert K.floatx() == 'float64' and K.variable(1.).dtype == 'float64'
    finally:
        K.set_floatx('float32')

    class PyTorchBackend(object):
        def placeholder(self, *a, **k):
            return 'ph'

        def variable(self, *a, **k):
            return 'var'

        def function(self, *a, **k):
            return 'fn'

    K.backend().register_backend('pytorch_demo', PyTorchBackend())
    from keras_cpp.backend import _loader
    assert 'pytorch_demo' in _loader._registry
    with pytest.raises(ValueError, match='reserved'):
        K.backend().register_backend('tensorflow', PyTorchBackend())
