"""A first CNN as a new user writes it (issue 8): Conv2D, BatchNormalization, MaxPooling2D,
Dropout and Dense on 28x28 inputs at batch 64, trained at the default thread count (the conv
kernel gradient used to crash there) and at 3 threads (chunk counts differ from thread counts),
then saved and loaded with identical predictions."""
import numpy as np
import pytest

keras = pytest.importorskip('keras')  # only in the Keras virtualenv (numpy<2)
from keras import layers as L, models  # noqa: E402

import keras_cpp  # noqa: E402

pytestmark = pytest.mark.keras


def digits(n=512, seed=0):
    """Two classes a CNN separates easily: a bright square top-left or bottom-right, plus noise."""
    rng = np.random.RandomState(seed)
    x = rng.rand(n, 28, 28, 1).astype('float32') * 0.3
    y = rng.randint(0, 2, n)
    for i in range(n):
        r = 3 if y[i] == 0 else 17
        x[i, r:r + 8, r:r + 8, 0] += 1.0
    return x, np.eye(2, dtype='float32')[y]


def cnn():
    return models.Sequential([
        L.Conv2D(16, 3, activation='relu', input_shape=(28, 28, 1)),
        L.BatchNormalization(),
        L.MaxPooling2D(2),
        L.Conv2D(32, 3, activation='relu'),
        L.MaxPooling2D(2),
        L.Dropout(0.25),
        L.Flatten(),
        L.Dense(32, activation='relu'),
        L.Dense(2, activation='softmax'),
    ])


@pytest.mark.parametrize('threads', [None, 3])
def test_small_cnn_trains_at_batch_64_and_round_trips_through_save_load(tmp_path, threads):
    saved = keras_cpp.get_num_threads()
    if threads:
        keras_cpp.set_num_threads(threads)
    try:
        x, y = digits()
        m = cnn()
        m.compile('adam', 'categorical_crossentropy', metrics=['accuracy'])
        h = m.fit(x, y, batch_size=64, epochs=3, verbose=0)
        assert h.history['loss'][-1] < h.history['loss'][0]
        loss, acc = m.evaluate(x, y, batch_size=64, verbose=0)
        assert acc > 0.9, acc
        p = m.predict(x[:64], batch_size=64)
        m.save(str(tmp_path / 'cnn.h5'))
        m2 = models.load_model(str(tmp_path / 'cnn.h5'))
        np.testing.assert_array_equal(m2.predict(x[:64], batch_size=64), p)
        for a, b in zip(m.get_weights(), m2.get_weights()):
            np.testing.assert_array_equal(a, b)
    finally:
        keras_cpp.set_num_threads(saved)
