"""Real Keras 2.3.1 models on keras_cpp, unchanged: layers, optimizers, losses, metrics, callbacks,
saving and loading, multiple inputs/outputs, masking and the learning phase (issue 5)."""
import os

import numpy as np
import pytest

keras = pytest.importorskip('keras')  # only in the Keras virtualenv (numpy<2)
from keras import backend as K  # noqa: E402
from keras import callbacks, constraints, layers as L, models, optimizers, regularizers  # noqa: E402

pytestmark = pytest.mark.keras


def data(n=512, d=8, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, d).astype('float32')
    y = (x[:, 0] + 0.5 * x[:, 1] - x[:, 2] > 0).astype('int32')
    return x, y


def mlp(d=8, out=2, act='softmax'):
    return models.Sequential([L.Dense(32, activation='relu', input_shape=(d,)), L.Dense(out, activation=act)])


def test_keras_loads_keras_cpp_as_its_backend():
    assert K.backend() == 'keras_cpp.backend'
    import keras_cpp.backend as KC
    assert K.placeholder is KC.placeholder
    # Keras's config functions and ours stay in step (Keras's TF backend gets this wrong).
    K.set_floatx('float64')
    try:
        assert KC.floatx() == 'float64'
        assert K.dtype(K.variable(1.0)) == 'float64'
    finally:
        K.set_floatx('float32')
    assert K.dtype(K.variable(1.0)) == 'float32'


def test_mlp_learns_a_separable_problem_above_95_percent():
    x, y = data(1024)
    m = mlp()
    m.compile(optimizers.Adam(0.01), 'sparse_categorical_crossentropy', metrics=['accuracy'])
    h = m.fit(x, y, epochs=20, batch_size=64, verbose=0)
    assert h.history['loss'][-1] < h.history['loss'][0]
    loss, acc = m.evaluate(x, y, verbose=0)
    assert acc > 0.95, acc


@pytest.mark.parametrize('opt', [
    lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True), lambda: optimizers.SGD(0.1),
    lambda: optimizers.RMSprop(0.01), lambda: optimizers.Adagrad(0.1), lambda: optimizers.Adadelta(1.0),
    lambda: optimizers.Adam(0.01), lambda: optimizers.Adam(0.01, amsgrad=True), lambda: optimizers.Adamax(0.01),
    lambda: optimizers.Nadam(0.01), lambda: optimizers.SGD(0.1, clipnorm=1.0, clipvalue=0.5)])
def test_every_optimizer_reduces_the_loss(opt):
    x, y = data(256)
    m = mlp()
    m.compile(opt(), 'categorical_crossentropy', metrics=['categorical_accuracy'])
    h = m.fit(x, np.eye(2)[y], epochs=5, batch_size=32, verbose=0)
    assert h.history['loss'][-1] < h.history['loss'][0]


def test_losses_and_metrics():
    x, y = data(256)
    for loss, target, act, metrics in [
            ('binary_crossentropy', y, 'sigmoid', ['accuracy', 'binary_accuracy']),
            ('mse', y, 'sigmoid', ['mae', 'mape']), ('hinge', 2 * y - 1, 'tanh', ['accuracy']),
            ('sparse_categorical_crossentropy', y, 'softmax', ['sparse_categorical_accuracy', 'sparse_top_k_categorical_accuracy']),
            ('kullback_leibler_divergence', np.eye(2)[y], 'softmax', ['top_k_categorical_accuracy']),
            ('logcosh', y, 'sigmoid', ['cosine_proximity'])]:
        m = mlp(out=2 if act == 'softmax' else 1, act=act)
        m.compile('adam', loss, metrics=metrics)
        h = m.fit(x, target, epochs=2, verbose=0)
        assert all(np.isfinite(np.asarray(v, dtype=float)).all() for v in h.history.values()), (loss, h.history)


def test_functional_model_with_multiple_inputs_outputs_weights_and_validation():
    x, y = data(256)
    a, b = L.Input((8,), name='a'), L.Input((8,), name='b')
    h = L.concatenate([L.Dense(8)(a), L.Dense(8)(b)])
    s = L.add([L.Dense(4)(a), L.Dense(4)(b)])
    s = L.multiply([s, L.subtract([s, L.Dense(4)(b)])])
    s = L.average([s, L.maximum([s, L.minimum([s, s])])])
    o1 = L.Dense(1, activation='sigmoid', name='o1')(L.LeakyReLU(0.2)(h))
    o2 = L.Dense(3, name='o2')(L.ELU()(s))
    m = models.Model([a, b], [o1, o2])
    m.compile('sgd', {'o1': 'binary_crossentropy', 'o2': 'mse'}, loss_weights={'o1': 1.0, 'o2': 0.5},
              metrics={'o1': 'accuracy'})
    t2 = np.random.RandomState(1).randn(256, 3)
    h = m.fit({'a': x, 'b': x}, {'o1': y, 'o2': t2}, epochs=2, verbose=0, validation_split=0.25,
              sample_weight={'o1': np.linspace(0.5, 1.5, 256), 'o2': np.ones(256)})
    assert 'val_loss' in h.history and 'o1_accuracy' in h.history
    assert len(m.evaluate([x, x], [y, t2], verbose=0)) == 4
    p1, p2 = m.predict([x, x])
    assert p1.shape == (256, 1) and p2.shape == (256, 3)


def test_layer_zoo_with_regularizers_constraints_noise_and_advanced_activations():
    x, y = data(256)
    m = models.Sequential([
        L.Dense(8, input_shape=(8,), kernel_regularizer=regularizers.l1_l2(0.01, 0.01),
                kernel_constraint=constraints.max_norm(2.0), bias_constraint=constraints.non_neg(),
                activity_regularizer=regularizers.l2(0.01)),
        L.PReLU(), L.ThresholdedReLU(0.1), L.ReLU(max_value=6.0), L.Softmax(),
        L.GaussianNoise(0.1), L.GaussianDropout(0.1), L.AlphaDropout(0.1), L.Dropout(0.2),
        L.Reshape((2, 4)), L.Permute((2, 1)), L.Flatten(), L.RepeatVector(2),
        L.Lambda(lambda t: t * 2, output_shape=lambda s: s), L.Flatten(), L.Activation('tanh'),
        L.BatchNormalization(), L.Dense(2, activation='softmax', kernel_constraint=constraints.unit_norm())])
    m.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])
    m.fit(x, y, epochs=2, verbose=0, class_weight={0: 1.0, 1: 3.0})
    w = K.get_value(m.layers[0].kernel)
    assert np.sqrt((w ** 2).sum(axis=0)).max() <= 2.0 + 1e-5  # max_norm applied by the optimizer
    assert (K.get_value(m.layers[0].bias) >= 0).all()


def test_dropout_is_active_in_fit_and_inactive_in_predict():
    x, _ = data(64)
    m = models.Sequential([L.Dropout(0.5, input_shape=(8,))])
    m.compile('sgd', 'mse')
    np.testing.assert_array_equal(m.predict(x), x)  # learning phase 0: identity
    f = K.function([m.input, K.learning_phase()], [m.output])
    out = f([x, 1])[0]
    assert (out == 0).mean() > 0.3 and np.allclose(out[out != 0], 2 * x[out != 0])


def test_callbacks_early_stopping_checkpoint_reduce_lr_and_history(tmp_path):
    x, y = data(256)
    m = mlp()
    m.compile(optimizers.SGD(0.1), 'sparse_categorical_crossentropy', metrics=['accuracy'])
    ck = str(tmp_path / 'best.h5')
    hist = callbacks.History()
    m.fit(x, y, epochs=30, verbose=0, validation_data=(x, y), callbacks=[
        callbacks.EarlyStopping(monitor='loss', min_delta=10.0, patience=1), callbacks.ModelCheckpoint(ck),
        callbacks.ReduceLROnPlateau(monitor='loss', min_delta=10.0, patience=1, factor=0.5), hist])
    assert len(hist.history['loss']) < 30  # stopped early
    assert os.path.exists(ck)
    assert float(K.get_value(m.optimizer.lr)) < 0.1


def test_save_and_load_model_and_weights_give_identical_predictions(tmp_path):
    x, y = data(128)
    m = models.Sequential([L.Dense(8, activation='relu', input_shape=(8,)), L.BatchNormalization(),
                           L.Dense(8, activation='relu'), L.Dense(2, activation='softmax')])
    m.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])
    m.fit(x, y, epochs=2, verbose=0)
    p = m.predict(x)
    names = [w.name for w in m.weights]
    assert len(set(names)) == len(names)  # unique HDF5 dataset names
    m.save(str(tmp_path / 'm.h5'))
    m2 = models.load_model(str(tmp_path / 'm.h5'))
    np.testing.assert_allclose(m2.predict(x), p, rtol=1e-6, atol=1e-6)
    m2.fit(x, y, epochs=1, verbose=0)  # the optimizer state came back too
    m.save_weights(str(tmp_path / 'w.h5'))
    m3 = models.clone_model(m)
    m3.load_weights(str(tmp_path / 'w.h5'))
    np.testing.assert_allclose(m3.predict(x), p, rtol=1e-6, atol=1e-6)


def test_masking_embedding_mask_zero_into_lstm():
    rng = np.random.RandomState(0)
    seq = rng.randint(1, 20, (32, 6))
    seq[:, 4:] = 0
    m = models.Sequential([L.Embedding(20, 4, mask_zero=True, input_length=6), L.LSTM(5)])
    m.compile('sgd', 'mse')
    p = m.predict(seq)
    seq2 = seq.copy()
    seq2[:, 4:] = 0  # padded positions are masked: changing what follows the mask changes nothing
    m2 = models.Sequential([L.Embedding(20, 4, mask_zero=True, input_length=4), L.LSTM(5)])
    m2.set_weights(m.get_weights())
    np.testing.assert_allclose(m2.predict(seq[:, :4]), p, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('cell', [L.LSTM, L.GRU, L.SimpleRNN])
def test_recurrent_layers_train(cell):
    rng = np.random.RandomState(0)
    x = rng.randn(64, 5, 3).astype('float32')
    y = (x.sum(axis=(1, 2)) > 0).astype('float32')
    m = models.Sequential([cell(8, dropout=0.1, recurrent_dropout=0.1, input_shape=(5, 3)), L.Dense(1, activation='sigmoid')])
    m.compile(optimizers.Adam(0.01), 'binary_crossentropy', metrics=['accuracy'])
    h = m.fit(x, y, epochs=6, verbose=0)
    assert h.history['loss'][-1] < h.history['loss'][0]
    b = models.Sequential([L.Bidirectional(cell(4, return_sequences=True), input_shape=(5, 3)), L.GlobalAveragePooling1D()])
    assert b.predict(x).shape == (64, 8)


def test_convolution_and_pooling_layers_train():
    rng = np.random.RandomState(0)
    x = rng.rand(32, 12, 12, 3).astype('float32')
    y = np.eye(3)[rng.randint(0, 3, 32)]
    m = models.Sequential([
        L.Conv2D(4, 3, padding='same', activation='relu', input_shape=(12, 12, 3)), L.BatchNormalization(),
        L.MaxPooling2D(), L.SeparableConv2D(4, 3, padding='same'), L.DepthwiseConv2D(3), L.AveragePooling2D(),
        L.Conv2DTranspose(2, 3, strides=2), L.UpSampling2D(), L.ZeroPadding2D(1), L.Cropping2D(1),
        L.GlobalMaxPooling2D(), L.Dense(3, activation='softmax')])
    m.compile('adam', 'categorical_crossentropy', metrics=['accuracy'])
    h = m.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(h.history['loss']).all()
    m1 = models.Sequential([L.Conv1D(4, 3, padding='causal', input_shape=(10, 2)), L.MaxPooling1D(), L.Flatten(), L.Dense(1)])
    m1.compile('sgd', 'mse')
    m1.fit(rng.rand(16, 10, 2), rng.rand(16, 1), epochs=1, verbose=0)
