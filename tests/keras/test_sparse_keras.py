"""Keras 2.3.1 with sparse inputs: Input(sparse=True) -> Dense trains, evaluates and predicts on
scipy CSR batches (fed to C++ as CSR, never densified) like the same model on the dense arrays."""
import numpy as np
import pytest

keras = pytest.importorskip('keras')  # only in the Keras virtualenv (numpy<2)
sp = pytest.importorskip('scipy.sparse')
from keras import backend as K  # noqa: E402
from keras import layers as L, models, optimizers  # noqa: E402

pytestmark = pytest.mark.keras


def data(n=96, d=40, seed=0):
    x = sp.random(n, d, density=0.15, format='csr', dtype='float32', random_state=seed)
    w = np.random.RandomState(seed).randn(d)
    y = (x @ w > 0).astype('float32')
    return x, y


def model(d, sparse):
    inp = L.Input(shape=(d,), sparse=sparse)
    h = L.Dense(16, activation='relu')(inp)
    return models.Model(inp, L.Dense(1, activation='sigmoid')(h))


def test_sparse_input_is_a_sparse_placeholder():
    inp = L.Input(shape=(7,), sparse=True)
    assert K.is_sparse(inp) and K.int_shape(inp) == (None, 7)
    out = L.Dense(3)(inp)
    assert not K.is_sparse(out) and K.int_shape(out) == (None, 3)


def test_fit_on_csr_batches_matches_training_on_dense_arrays():
    x, y = data()
    m_sparse, m_dense = model(40, True), model(40, False)
    m_dense.set_weights(m_sparse.get_weights())
    for m in (m_sparse, m_dense):
        m.compile(optimizers.SGD(0.1, momentum=0.9), 'binary_crossentropy', metrics=['accuracy'])
    h_sparse = m_sparse.fit(x, y, epochs=4, batch_size=16, shuffle=False, verbose=0)
    h_dense = m_dense.fit(x.toarray(), y, epochs=4, batch_size=16, shuffle=False, verbose=0)
    np.testing.assert_allclose(h_sparse.history['loss'], h_dense.history['loss'], rtol=1e-5)
    assert h_sparse.history['loss'][-1] < h_sparse.history['loss'][0]
    for a, b in zip(m_sparse.get_weights(), m_dense.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_predict_and_evaluate_on_csr_match_numpy():
    x, y = data(seed=1)
    m = model(40, True)
    m.compile('adam', 'binary_crossentropy')
    m.fit(x, y, epochs=2, batch_size=32, verbose=0)
    w1, b1, w2, b2 = m.get_weights()
    dense = x.toarray()
    want = 1 / (1 + np.exp(-(np.maximum(dense @ w1 + b1, 0) @ w2 + b2)))
    np.testing.assert_allclose(m.predict(x, batch_size=20), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.predict_on_batch(x[:5]), want[:5], rtol=1e-5, atol=1e-6)
    p = np.clip(want.ravel(), 1e-7, 1 - 1e-7)
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert m.evaluate(x, y, batch_size=96, verbose=0) == pytest.approx(bce, rel=1e-4)


def test_coo_batches_and_train_on_batch():
    x, y = data(seed=2)
    m = model(40, True)
    m.compile(optimizers.Adam(0.01), 'binary_crossentropy')
    first = m.train_on_batch(x.tocoo(), y)
    for _ in range(20):
        last = m.train_on_batch(x.tocoo(), y)
    assert last < first
