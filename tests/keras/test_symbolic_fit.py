"""Keras 2.3.1's fit/evaluate/predict on backend tensors (K.variable data, Input(tensor=...),
target_tensors), as on TensorFlow: every step feeds the whole tensor. The expected weights and
losses are worked out with numpy (linear model, mean squared error, plain SGD)."""
import numpy as np
import pytest

keras = pytest.importorskip('keras')  # only in the Keras virtualenv (numpy<2)
from keras import backend as K  # noqa: E402
from keras import layers as L, models, optimizers  # noqa: E402

pytestmark = pytest.mark.keras

RNG = np.random.RandomState(0)
X = RNG.randn(16, 3).astype('float32')
Y = (X @ np.array([[1.], [-2.], [0.5]]) + 0.3).astype('float32')
LR = 0.1


def sgd_steps(w, b, steps):
    """Full-batch gradient descent on mean((X w + b - Y)^2), in float64."""
    x, y = X.astype('float64'), Y.astype('float64')
    for _ in range(steps):
        r = x @ w + b - y
        w, b = w - LR * 2 * x.T @ r / r.size, b - LR * 2 * r.sum(0) / r.size
    return w, b


def mse(w, b):
    return float(((X.astype('float64') @ w + b - Y) ** 2).mean())


def linear_model(inp=None):
    if inp is None:
        return models.Sequential([L.Dense(1, input_shape=(3,))])
    return models.Model(inp, L.Dense(1)(inp))


def test_fit_evaluate_predict_on_variables():
    model = linear_model()
    model.compile(optimizers.SGD(lr=LR), 'mse')
    w0, b0 = [v.astype('float64') for v in model.get_weights()]
    h = model.fit(K.variable(X), K.variable(Y), steps_per_epoch=2, epochs=2, verbose=0)
    # each of the 4 steps sees all 16 samples; the logged loss of an epoch is the mean over its steps
    w2, b2 = sgd_steps(w0, b0, 2)
    np.testing.assert_allclose(h.history['loss'][0], (mse(w0, b0) + mse(*sgd_steps(w0, b0, 1))) / 2, rtol=1e-5)
    w4, b4 = sgd_steps(w0, b0, 4)
    got_w, got_b = model.get_weights()
    np.testing.assert_allclose(got_w, w4, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_b, b4, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.evaluate(K.variable(X), K.variable(Y), steps=1, verbose=0), mse(w4, b4),
                               rtol=1e-5)
    np.testing.assert_allclose(model.predict(K.variable(X), steps=1), X @ w4 + b4, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.train_on_batch(K.constant(X), K.constant(Y)), mse(w4, b4), rtol=1e-5)


def test_fit_on_input_tensor_and_target_tensors():
    inp = L.Input(tensor=K.variable(X))
    model = linear_model(inp)
    model.compile(optimizers.SGD(lr=LR), 'mse', target_tensors=[K.variable(Y)])
    w0, b0 = [v.astype('float64') for v in model.get_weights()]
    h = model.fit(steps_per_epoch=3, epochs=1, verbose=0)
    w3, b3 = sgd_steps(w0, b0, 3)
    np.testing.assert_allclose(model.get_weights()[0], w3, rtol=1e-5, atol=1e-6)
    want = np.mean([mse(*sgd_steps(w0, b0, k)) for k in range(3)])
    np.testing.assert_allclose(h.history['loss'][0], want, rtol=1e-5)
    np.testing.assert_allclose(model.predict(None, steps=1), X @ w3 + b3, rtol=1e-5, atol=1e-6)


def test_function_called_with_tensor_values():
    p = K.placeholder(shape=(None, 3))
    f = K.function([p], [K.sum(p, axis=1)])
    v = K.variable(X)
    np.testing.assert_allclose(f([v])[0], X.sum(1), rtol=1e-6)
    K.set_value(v, 2 * X)  # read at each call
    np.testing.assert_allclose(f([v])[0], 2 * X.sum(1), rtol=1e-6)
