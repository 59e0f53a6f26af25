"""K.optimizers inside Keras 2.3.1: accepted by model.compile, and training exactly like the
keras.optimizers class of the same name (same weights and optimizer weights after N steps), for
every optimizer and option."""
import os

import numpy as np
import pytest

keras = pytest.importorskip('keras')  # only in the Keras virtualenv (numpy<2)
from keras import backend as K  # noqa: E402
from keras import layers as L, models, optimizers  # noqa: E402

import keras_cpp.backend as KC  # noqa: E402

pytestmark = pytest.mark.keras

CASES = [
    ('SGD', {}), ('SGD', {'lr': 0.1, 'momentum': 0.9}), ('SGD', {'learning_rate': 0.1, 'momentum': 0.9, 'nesterov': True}),
    ('SGD', {'lr': 0.1, 'decay': 0.05}), ('SGD', {'lr': 0.5, 'clipnorm': 0.1}), ('SGD', {'lr': 0.5, 'clipvalue': 0.01}),
    ('RMSprop', {}), ('RMSprop', {'lr': 0.01, 'rho': 0.8, 'decay': 0.1, 'epsilon': 1e-5}),
    ('Adagrad', {}), ('Adagrad', {'learning_rate': 0.1, 'decay': 0.01, 'clipnorm': 1.0}),
    ('Adadelta', {}), ('Adadelta', {'lr': 0.5, 'rho': 0.9, 'clipvalue': 0.1}),
    ('Adam', {}), ('Adam', {'lr': 0.01, 'amsgrad': True, 'decay': 0.01}), ('Adam', {'beta_1': 0.5, 'beta_2': 0.9}),
    ('Adamax', {}), ('Adamax', {'lr': 0.01, 'beta_1': 0.8, 'decay': 0.1}),
    ('Nadam', {}), ('Nadam', {'lr': 0.01, 'schedule_decay': 0.01, 'epsilon': 1e-4}),
]
IDS = ['%s-%s' % (n, '-'.join('%s=%s' % kv for kv in sorted(kw.items())) or 'defaults') for n, kw in CASES]


def train_both(name, kw, floatx, steps=15, exact=True):
    rng = np.random.RandomState(0)
    x = rng.randn(32, 6).astype(floatx)
    y = np.eye(3, dtype=floatx)[rng.randint(0, 3, 32)]

    def model():
        return models.Sequential([L.Dense(12, activation='tanh', input_shape=(6,)), L.Dense(3, activation='softmax')])

    m_keras, m_kc = model(), model()
    m_kc.set_weights(m_keras.get_weights())
    o_keras, o_kc = getattr(optimizers, name)(**kw), getattr(KC.optimizers, name)(**kw)
    m_keras.compile(o_keras, 'categorical_crossentropy')
    m_kc.compile(o_kc, 'categorical_crossentropy')
    assert m_kc.optimizer is o_kc
    for _ in range(steps):
        l_keras, l_kc = m_keras.train_on_batch(x, y), m_kc.train_on_batch(x, y)
        assert l_keras == l_kc or not exact
    return (m_keras.get_weights() + o_keras.get_weights()), (m_kc.get_weights() + o_kc.get_weights())


@pytest.fixture
def floatx64():
    K.set_floatx('float64')
    yield
    K.set_floatx('float32')


@pytest.mark.parametrize('name,kw', CASES, ids=IDS)
def test_trains_bit_for_bit_like_keras_in_float64(name, kw, floatx64):
    want, got = train_both(name, kw, 'float64')
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g, w)


@pytest.fixture
def exact_keras_sqrt(monkeypatch):
    # keras_cpp's elementwise K.sqrt on float32 is Eigen's fast approximation (up to ~2 ulp); the
    # fused updates use the correctly rounded square root (as numpy and TensorFlow do). Give
    # Keras's chain the correctly rounded one too (float64 sqrt rounded once to float32 is exact).
    monkeypatch.setattr(K, 'sqrt', lambda x: K.cast(KC.sqrt(K.cast(x, 'float64')), K.dtype(x)))


@pytest.mark.parametrize('name,kw', CASES, ids=IDS)
def test_trains_bit_for_bit_like_keras_in_float32(name, kw, exact_keras_sqrt):
    want, got = train_both(name, kw, 'float32')
    for w, g in zip(want, got):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize('name,kw', CASES, ids=IDS)
def test_float32_training_stays_within_float32_noise_of_keras_chain(name, kw):
    want, got = train_both(name, kw, 'float32', exact=False)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_instances_are_keras_optimizers_and_survive_save_and_load(tmp_path):
    opt = KC.optimizers.Adam(lr=0.01)
    assert isinstance(opt, optimizers.Optimizer) and isinstance(opt, KC.optimizers.Adam)
    assert type(opt).__name__ == 'Adam' and optimizers.get(opt) is opt
    rng = np.random.RandomState(1)
    x, y = rng.randn(64, 4).astype('float32'), rng.randint(0, 2, 64)
    m = models.Sequential([L.Dense(8, activation='relu', input_shape=(4,)), L.Dense(2, activation='softmax')])
    m.compile(optimizer=KC.optimizers.SGD(lr=0.01, momentum=0.9), loss='sparse_categorical_crossentropy',
              metrics=['accuracy'])
    h = m.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert len(h.history['loss']) == 3
    path = os.path.join(str(tmp_path), 'm.h5')
    m.save(path)
    back = models.load_model(path)
    assert type(back.optimizer).__name__ == 'SGD'
    assert back.optimizer.get_config() == m.optimizer.get_config()
    for a, b in zip(back.optimizer.get_weights(), m.optimizer.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.predict(x), m.predict(x))


def test_keras_callbacks_drive_the_learning_rate():
    opt = KC.optimizers.SGD(lr=0.1)
    m = models.Sequential([L.Dense(1, input_shape=(2,))])
    m.compile(opt, 'mse')
    sched = keras.callbacks.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))
    m.fit(np.ones((8, 2), 'float32'), np.ones((8, 1), 'float32'), epochs=3, verbose=0, callbacks=[sched])
    assert K.get_value(opt.lr) == pytest.approx(0.1 / 3)
