"""Keras 2.3.1 models at sizes where the kernels split their work, trained at 1, 2, 3 and 8 threads
(keras_cpp.set_num_threads; a 3- or 8-thread pool on a 2-core machine is where chunk counts differ
from thread counts): an MLP, a CNN and an LSTM each train a few steps from the same weights on the
same batches, and every thread count must reach the weights and predictions of the 1-thread run
(up to float reassociation)."""
import os
import sys

import numpy as np
import pytest

keras = pytest.importorskip('keras')  # only in the Keras virtualenv (numpy<2)
from keras import layers as L, models, optimizers  # noqa: E402

import keras_cpp  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'python'))
from parallel_sweep import settled_worker_times, workers_ran_since  # noqa: E402

pytestmark = pytest.mark.keras

THREADS = [1, 2, 3, 8]


def mlp():
    # Dense 128 -> 512 on batches of 256: a 256x128x512 GEMM and 131072-element activations.
    rng = np.random.RandomState(0)
    x = rng.randn(512, 128).astype('float32')
    y = np.eye(4, dtype='float32')[(x[:, :4].argmax(1))]
    m = models.Sequential([L.Dense(512, activation='relu', input_shape=(128,)), L.Dropout(0.2),
                           L.Dense(4, activation='softmax')])
    return m, x, y, 256


def cnn():
    # Conv2D on 28x28 at batch 64 (issue 8's shape), batch norm, pooling, dropout.
    rng = np.random.RandomState(1)
    x = rng.rand(128, 28, 28, 1).astype('float32')
    y = np.eye(2, dtype='float32')[(x[:, :14].mean((1, 2, 3)) > x[:, 14:].mean((1, 2, 3))).astype(int)]
    m = models.Sequential([L.Conv2D(16, 3, activation='relu', input_shape=(28, 28, 1)), L.BatchNormalization(),
                           L.MaxPooling2D(2), L.Conv2D(16, 3, activation='relu'), L.Dropout(0.25), L.Flatten(),
                           L.Dense(2, activation='softmax')])
    return m, x, y, 64


def lstm():
    # LSTM(64) over 8 steps at batch 256: (256, 32) x (32, 256) and (256, 64) x (64, 256) per step.
    rng = np.random.RandomState(2)
    x = rng.randn(512, 8, 32).astype('float32')
    y = (x[:, :, 0].sum(1, keepdims=True) > 0).astype('float32')
    m = models.Sequential([L.LSTM(64, input_shape=(8, 32)), L.Dense(1, activation='sigmoid')])
    return m, x, y, 256


MODELS = {'mlp': mlp, 'cnn': cnn, 'lstm': lstm}
_ONE_THREAD = {}


def _train(name, n):
    """Build, compile and train model `name` for one epoch at n threads. The numpy seed fixes the
    initial weights and the dropout layers' seeds; a fresh model starts the optimizer state and the
    dropout draws from zero, so every thread count sees the same steps."""
    saved = keras_cpp.get_num_threads()
    keras_cpp.set_num_threads(n)
    try:
        np.random.seed(0)
        m, x, y, batch = MODELS[name]()
        m.compile(optimizers.SGD(0.05, momentum=0.9),
                  'categorical_crossentropy' if y.shape[1] > 1 else 'binary_crossentropy')
        before = settled_worker_times()
        h = m.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
        split = workers_ran_since(before)
        return h.history['loss'][0], m.get_weights(), m.predict(x[:batch], batch_size=batch), split
    finally:
        keras_cpp.set_num_threads(saved)


@pytest.mark.parametrize('n', THREADS)
@pytest.mark.parametrize('name', sorted(MODELS))
def test_training_matches_one_thread(name, n):
    loss, weights, pred, split = _train(name, n)
    assert np.isfinite(loss) and all(np.isfinite(w).all() for w in weights)
    if n == 1:
        _ONE_THREAD[name] = (loss, weights, pred)
        return
    assert split is not False, '%s: training at %d threads never split its work' % (name, n)
    if name not in _ONE_THREAD:
        _ONE_THREAD[name] = _train(name, 1)[:3]
    loss1, weights1, pred1 = _ONE_THREAD[name]
    np.testing.assert_allclose(loss, loss1, rtol=1e-4)
    for k, (a, b) in enumerate(zip(weights, weights1)):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4, err_msg='%s weight %d at %d threads' % (name, k, n))
    np.testing.assert_allclose(pred, pred1, rtol=1e-3, atol=1e-4, err_msg='%s predictions at %d threads' % (name, n))
