"""Every Keras 2.3.1 stateful metric class and every loss class on keras_cpp gives TensorFlow's
numbers: called directly (accumulating over calls), after reset_states(), through update_state,
and in compile(metrics=[...]) during fit and evaluate. The expected values are computed here
with numpy from each metric's definition (float64), never taken from another backend.
(MeanIoU is left out: Keras 2.3.1 builds it only on the TensorFlow backend.)"""
import numpy as np
import pytest

keras = pytest.importorskip('keras')  # only in the Keras virtualenv (numpy<2)
from keras import backend as K  # noqa: E402
from keras import layers as L, losses, metrics, models, optimizers  # noqa: E402

pytestmark = pytest.mark.keras
EPS = 1e-7


# ---------------------------------------------------------------- data
def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def make_data(kind, n, seed):
    """(y_true, y_pred) of one kind: 'reg' real targets, 'bin' 0/1 labels with probabilities,
    'cat' one-hot labels with softmax rows, 'sparse' class ids with softmax rows."""
    rng = np.random.RandomState(seed)
    if kind == 'reg':
        return rng.uniform(0.2, 2., (n, 3)), rng.uniform(0.1, 2.5, (n, 3))
    if kind == 'bin':
        yt = (rng.rand(n, 3) > 0.5).astype('float64')
        yp = np.clip(np.abs(yt - rng.uniform(0.05, 0.8, (n, 3))), 0.02, 0.98)  # mostly right
        return yt, np.round(yp, 3) + 0.0001  # no value sits on a 0.5 or 1/199 threshold
    z = rng.randn(n, 4) * 2
    yp = _softmax(z)
    labels = np.where(rng.rand(n) < 0.6, yp.argmax(-1), rng.randint(0, 4, n))
    if kind == 'cat':
        return np.eye(4)[labels], yp
    return labels.astype('float64')[:, None], yp


# ---------------------------------------------------------------- per-sample definitions (numpy)
def _l2n(x):
    return x / np.sqrt(np.maximum((x * x).sum(-1, keepdims=True), 1e-12))


def _hinge_labels(yt):
    return 2 * yt - 1 if np.all((yt == 0) | (yt == 1)) else yt


def _bce(yt, yp, smoothing=0.):
    yt = yt * (1 - smoothing) + 0.5 * smoothing
    p = np.clip(yp, EPS, 1 - EPS)
    return -(yt * np.log(p) + (1 - yt) * np.log(1 - p)).mean(-1)


def _cce(yt, yp, smoothing=0.):
    yt = yt * (1 - smoothing) + smoothing / yt.shape[-1]
    p = np.clip(yp / yp.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -(yt * np.log(p)).sum(-1)


def _scce(yt, yp):
    p = np.clip(yp / yp.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -np.log(p[np.arange(len(yp)), yt.reshape(-1).astype(int)])


def _in_top_k(yp, labels, k):
    target = yp[np.arange(len(yp)), labels]
    return ((yp > target[:, None]).sum(-1) < k).astype('float64')


def _huber(yt, yp, delta=1.0):
    a = np.abs(yp - yt)
    q = np.minimum(a, delta)
    return 0.5 * q * q + delta * (a - q)  # elementwise: huber_loss keeps the last axis


PER_SAMPLE = {
    'mean_squared_error': lambda t, p: ((p - t) ** 2).mean(-1),
    'mean_absolute_error': lambda t, p: np.abs(p - t).mean(-1),
    'mean_absolute_percentage_error': lambda t, p: 100 * (np.abs(t - p) / np.clip(np.abs(t), EPS, None)).mean(-1),
    'mean_squared_logarithmic_error':
        lambda t, p: ((np.log(np.clip(p, EPS, None) + 1) - np.log(np.clip(t, EPS, None) + 1)) ** 2).mean(-1),
    'hinge': lambda t, p: np.maximum(1 - _hinge_labels(t) * p, 0).mean(-1),
    'squared_hinge': lambda t, p: (np.maximum(1 - _hinge_labels(t) * p, 0) ** 2).mean(-1),
    'categorical_hinge': lambda t, p: np.maximum(0, ((1 - t) * p).max(-1) - (t * p).sum(-1) + 1),
    'logcosh': lambda t, p: np.log(np.cosh(p - t)).mean(-1),
    'poisson': lambda t, p: (p - t * np.log(p + EPS)).mean(-1),
    'kld': lambda t, p: (np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1))).sum(-1),
    'cosine_similarity': lambda t, p: (_l2n(t) * _l2n(p)).sum(-1),
    'accuracy': lambda t, p: (t == p).astype('float64'),
    'binary_accuracy': lambda t, p: (t == np.round(p)).mean(-1),
    'binary_accuracy_0.7': lambda t, p: (t == (p > 0.7)).mean(-1),
    'categorical_accuracy': lambda t, p: (t.argmax(-1) == p.argmax(-1)).astype('float64'),
    'sparse_categorical_accuracy': lambda t, p: (t.reshape(-1) == p.argmax(-1)).astype('float64'),
    'top_k_2': lambda t, p: _in_top_k(p, t.argmax(-1), 2),
    'sparse_top_k_2': lambda t, p: _in_top_k(p, t.reshape(-1).astype(int), 2),
    'bce': _bce,
    'bce_smooth': lambda t, p: _bce(t, p, 0.2),
    'cce': _cce,
    'cce_smooth': lambda t, p: _cce(t, p, 0.1),
    'scce': _scce,
    'huber': _huber,
}


def weighted_mean(values, w):
    """Keras's Reduce/WEIGHTED_MEAN: weights broadcast over the values' trailing axes."""
    w = np.ones(len(values)) if w is None else w
    w = np.broadcast_to(w.reshape((-1,) + (1,) * (values.ndim - 1)), values.shape)
    return (values * w).sum() / w.sum()


def confusion(yt, yp, thresholds, w):
    """Weighted tp, fp, tn, fn per threshold (positive: prediction > threshold)."""
    w = np.ones(len(yt)) if w is None else w
    w = np.broadcast_to(w.reshape((-1,) + (1,) * (yt.ndim - 1)), yt.shape).reshape(-1)
    label = yt.reshape(-1) != 0
    pred = yp.reshape(-1)
    out = {k: np.zeros(len(thresholds)) for k in ('tp', 'fp', 'tn', 'fn')}
    for i, t in enumerate(thresholds):
        pos = pred > t
        out['tp'][i] = w[label & pos].sum()
        out['fp'][i] = w[~label & pos].sum()
        out['tn'][i] = w[~label & ~pos].sum()
        out['fn'][i] = w[label & ~pos].sum()
    return out


def _ratio(a, b, cond):
    return np.where(cond, a / np.where(b == 0, 1, b), 0.)


def auc_thresholds(n):
    return [0. - EPS] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1. + EPS]


def auc_ref(c, curve, summation):
    tp, fp, tn, fn = c['tp'], c['fp'], c['tn'], c['fn']
    if curve == 'PR' and summation == 'interpolation':
        # Davis & Goadrich: precision integrated over recall with TP linear in P = TP + FP
        total = 0.
        p = tp + fp
        for i in range(len(tp) - 1):
            dtp, dp = tp[i] - tp[i + 1], max(p[i] - p[i + 1], 0.)
            slope = dtp / dp if dp > 0 else 0.
            intercept = tp[i + 1] - slope * p[i + 1]
            ratio = p[i] / p[i + 1] if p[i] > 0 and p[i + 1] > 0 else 1.
            denom = tp[i + 1] + fn[i + 1]
            total += slope * (dtp + intercept * np.log(ratio)) / denom if denom > 0 else 0.
        return total
    recall = _ratio(tp, tp + fn, tp > 0)
    if curve == 'ROC':
        x, y = _ratio(fp, fp + tn, fp > 0), recall
    else:
        x, y = recall, _ratio(tp, tp + fp, tp > 0)
    heights = {'interpolation': (y[:-1] + y[1:]) / 2, 'minoring': np.minimum(y[:-1], y[1:]),
               'majoring': np.maximum(y[:-1], y[1:])}[summation]
    return ((x[:-1] - x[1:]) * heights).sum()


def sens_spec_thresholds(n):
    return [0.] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1.]


def at_ref(c, value, sensitivity_at_specificity):
    a, b = ('tn', 'fp') if sensitivity_at_specificity else ('tp', 'fn')
    r, s = ('tp', 'fn') if sensitivity_at_specificity else ('tn', 'fp')
    rates = _ratio(c[a], c[a] + c[b], c[a] + c[b] > 0)
    i = int(np.argmin(np.abs(rates - value)))
    d = c[r][i] + c[s][i]
    return c[r][i] / d if d > 0 else 0.


# ---------------------------------------------------------------- the metric table
def mean_of(fn):
    return lambda yt, yp, w: weighted_mean(PER_SAMPLE[fn](yt, yp), w)


def conf_of(key, thresholds=(0.5,)):
    return lambda yt, yp, w: confusion(yt, yp, thresholds, w)[key] if len(thresholds) > 1 \
        else confusion(yt, yp, thresholds, w)[key][0]


def prec_rec(kind, thresholds=(0.5,), class_id=None):
    def ref(yt, yp, w):
        if class_id is not None:
            yt, yp = yt[..., class_id], yp[..., class_id]
        c = confusion(yt, yp, thresholds, w)
        other = c['fp'] if kind == 'precision' else c['fn']
        r = _ratio(c['tp'], c['tp'] + other, c['tp'] + other > 0)
        return r if len(thresholds) > 1 else r[0]
    return ref


METRICS = [
    # (id, class, kwargs, data kind, reference(y_true, y_pred, sample_weight))
    ('Mean', metrics.Mean, {}, 'values', lambda v, _, w: weighted_mean(v, w)),
    ('Sum', metrics.Sum, {}, 'values',
     lambda v, _, w: (v * (np.ones(len(v)) if w is None else w)[:, None]).sum()),
    ('MeanSquaredError', metrics.MeanSquaredError, {}, 'reg', mean_of('mean_squared_error')),
    ('MeanAbsoluteError', metrics.MeanAbsoluteError, {}, 'reg', mean_of('mean_absolute_error')),
    ('MeanAbsolutePercentageError', metrics.MeanAbsolutePercentageError, {}, 'reg',
     mean_of('mean_absolute_percentage_error')),
    ('MeanSquaredLogarithmicError', metrics.MeanSquaredLogarithmicError, {}, 'reg',
     mean_of('mean_squared_logarithmic_error')),
    ('RootMeanSquaredError', metrics.RootMeanSquaredError, {}, 'reg',
     lambda t, p, w: np.sqrt(weighted_mean((p - t) ** 2, w))),
    ('Hinge', metrics.Hinge, {}, 'bin', mean_of('hinge')),
    ('SquaredHinge', metrics.SquaredHinge, {}, 'bin', mean_of('squared_hinge')),
    ('CategoricalHinge', metrics.CategoricalHinge, {}, 'cat', mean_of('categorical_hinge')),
    ('LogCoshError', metrics.LogCoshError, {}, 'reg', mean_of('logcosh')),
    ('Poisson', metrics.Poisson, {}, 'reg', mean_of('poisson')),
    ('KLDivergence', metrics.KLDivergence, {}, 'cat', mean_of('kld')),
    ('CosineSimilarity', metrics.CosineSimilarity, {}, 'reg', mean_of('cosine_similarity')),
    ('Accuracy', metrics.Accuracy, {}, 'bin_rounded', mean_of('accuracy')),
    ('BinaryAccuracy', metrics.BinaryAccuracy, {}, 'bin', mean_of('binary_accuracy')),
    ('BinaryAccuracy_0.7', metrics.BinaryAccuracy, {'threshold': 0.7}, 'bin', mean_of('binary_accuracy_0.7')),
    ('CategoricalAccuracy', metrics.CategoricalAccuracy, {}, 'cat', mean_of('categorical_accuracy')),
    ('SparseCategoricalAccuracy', metrics.SparseCategoricalAccuracy, {}, 'sparse',
     mean_of('sparse_categorical_accuracy')),
    ('TopKCategoricalAccuracy', metrics.TopKCategoricalAccuracy, {'k': 2}, 'cat', mean_of('top_k_2')),
    ('SparseTopKCategoricalAccuracy', metrics.SparseTopKCategoricalAccuracy, {'k': 2}, 'sparse',
     mean_of('sparse_top_k_2')),
    ('BinaryCrossentropy', metrics.BinaryCrossentropy, {}, 'bin', mean_of('bce')),
    ('BinaryCrossentropy_smooth', metrics.BinaryCrossentropy, {'label_smoothing': 0.2}, 'bin', mean_of('bce_smooth')),
    ('CategoricalCrossentropy', metrics.CategoricalCrossentropy, {}, 'cat', mean_of('cce')),
    ('CategoricalCrossentropy_smooth', metrics.CategoricalCrossentropy, {'label_smoothing': 0.1}, 'cat',
     mean_of('cce_smooth')),
    ('SparseCategoricalCrossentropy', metrics.SparseCategoricalCrossentropy, {}, 'sparse', mean_of('scce')),
    ('TruePositives', metrics.TruePositives, {}, 'bin', conf_of('tp')),
    ('FalsePositives', metrics.FalsePositives, {}, 'bin', conf_of('fp')),
    ('TrueNegatives', metrics.TrueNegatives, {}, 'bin', conf_of('tn')),
    ('FalseNegatives', metrics.FalseNegatives, {}, 'bin', conf_of('fn')),
    ('TruePositives_3thr', metrics.TruePositives, {'thresholds': [0.2, 0.5, 0.8]}, 'bin',
     conf_of('tp', (0.2, 0.5, 0.8))),
    ('FalseNegatives_3thr', metrics.FalseNegatives, {'thresholds': [0.2, 0.5, 0.8]}, 'bin',
     conf_of('fn', (0.2, 0.5, 0.8))),
    ('Precision', metrics.Precision, {}, 'bin', prec_rec('precision')),
    ('Precision_thresholds', metrics.Precision, {'thresholds': [0.3, 0.6]}, 'bin', prec_rec('precision', (0.3, 0.6))),
    ('Precision_class_id', metrics.Precision, {'class_id': 1}, 'bin', prec_rec('precision', class_id=1)),
    ('Recall', metrics.Recall, {}, 'bin', prec_rec('recall')),
    ('Recall_thresholds', metrics.Recall, {'thresholds': [0.3, 0.6]}, 'bin', prec_rec('recall', (0.3, 0.6))),
    ('Recall_class_id', metrics.Recall, {'class_id': 2}, 'bin', prec_rec('recall', class_id=2)),
    ('AUC', metrics.AUC, {}, 'bin', lambda t, p, w: auc_ref(confusion(t, p, auc_thresholds(200), w), 'ROC', 'interpolation')),
    ('AUC_roc_minoring', metrics.AUC, {'num_thresholds': 50, 'summation_method': 'minoring'}, 'bin',
     lambda t, p, w: auc_ref(confusion(t, p, auc_thresholds(50), w), 'ROC', 'minoring')),
    ('AUC_roc_majoring', metrics.AUC, {'num_thresholds': 50, 'summation_method': 'majoring'}, 'bin',
     lambda t, p, w: auc_ref(confusion(t, p, auc_thresholds(50), w), 'ROC', 'majoring')),
    ('AUC_pr', metrics.AUC, {'curve': 'PR'}, 'bin',
     lambda t, p, w: auc_ref(confusion(t, p, auc_thresholds(200), w), 'PR', 'interpolation')),
    ('AUC_pr_majoring', metrics.AUC, {'curve': 'PR', 'summation_method': 'majoring', 'num_thresholds': 20}, 'bin',
     lambda t, p, w: auc_ref(confusion(t, p, auc_thresholds(20), w), 'PR', 'majoring')),
    ('SensitivityAtSpecificity', metrics.SensitivityAtSpecificity, {'specificity': 0.7}, 'bin',
     lambda t, p, w: at_ref(confusion(t, p, sens_spec_thresholds(200), w), 0.7, True)),
    ('SpecificityAtSensitivity', metrics.SpecificityAtSensitivity, {'sensitivity': 0.6, 'num_thresholds': 30}, 'bin',
     lambda t, p, w: at_ref(confusion(t, p, sens_spec_thresholds(30), w), 0.6, False)),
]
IDS = [m[0] for m in METRICS]


def batch(kind, n, seed):
    if kind == 'values':
        return np.random.RandomState(seed).uniform(-2, 5, (n, 2)), None
    if kind == 'bin_rounded':
        yt, yp = make_data('bin', n, seed)
        return yt, np.round(yp)
    return make_data(kind, n, seed)


def call(m, yt, yp, w=None):
    return m(yt, sample_weight=w) if yp is None else m(yt, yp, sample_weight=w)


def check(got, want):
    np.testing.assert_allclose(np.asarray(got, 'float64'), want, rtol=2e-5, atol=2e-6)


def test_every_concrete_metric_class_is_in_the_table():
    import inspect
    classes = {c for _, c in inspect.getmembers(metrics, inspect.isclass)
               if issubclass(c, metrics.Metric) and not inspect.isabstract(c)}
    bases = {metrics.Reduce, metrics.MeanMetricWrapper, metrics._ConfusionMatrixConditionCount}
    tested = {m[1] for m in METRICS}
    assert classes - bases - tested == set()
    assert len(tested) >= 31


@pytest.mark.parametrize('name,cls,kwargs,kind,ref', METRICS, ids=IDS)
def test_metric_called_directly_accumulates_and_resets(name, cls, kwargs, kind, ref):
    m = cls(**kwargs)
    (yt1, yp1), (yt2, yp2) = batch(kind, 10, 1), batch(kind, 7, 2)
    w1 = np.random.RandomState(3).uniform(0.2, 2., 10)
    if 'class_id' in kwargs:  # Keras 2.3.1 cannot weight a class_id slice (broadcast_weights raises, on TF too)
        w1 = None
    r1 = K.eval(call(m, yt1, yp1, w1))
    check(r1, ref(yt1, yp1, w1))
    r2 = K.eval(call(m, yt2, yp2))  # accumulates: the state covers both batches
    both_t = np.concatenate([yt1, yt2])
    both_p = None if yp1 is None else np.concatenate([yp1, yp2])
    w12 = np.concatenate([np.ones(10) if w1 is None else w1, np.ones(7)])
    check(r2, ref(both_t, both_p, w12))
    check(K.eval(m.result()), ref(both_t, both_p, w12))  # reading does not update
    m.reset_states()
    assert all(np.all(K.get_value(v) == 0) for v in m.weights)
    check(K.eval(call(m, yt2, yp2)), ref(yt2, yp2, None))


@pytest.mark.parametrize('name,cls,kwargs,kind,ref', [m for m in METRICS if m[3] != 'values'],
                         ids=[m[0] for m in METRICS if m[3] != 'values'])
def test_metric_update_state_then_result(name, cls, kwargs, kind, ref):
    m = cls(**kwargs)
    yt, yp = batch(kind, 9, 4)
    ups = m.update_state(K.constant(yt), K.constant(yp))
    K.batch_get_value(ups if isinstance(ups, list) else [ups])  # runs the update ops once
    check(K.eval(m.result()), ref(yt, yp, None))


def test_mean_of_a_scalar_like_tf():
    m = metrics.Mean()
    assert K.eval(m(100)) == 100.
    assert K.eval(m(50)) == 75.
    s = metrics.Sum()
    assert K.eval(s([1, 3, 5, 7])) == 16.
    m.reset_states()
    assert np.isnan(K.eval(m.result()))  # 0 / 0, as on TF


# ---------------------------------------------------------------- in compile(metrics=[...])
COMPILE = [m for m in METRICS if m[3] in ('bin', 'cat', 'reg')]


def _fixed_model(kind):
    """A model whose predictions do not change during fit (lr = 0): act(x) for a chosen x."""
    d = 4 if kind == 'cat' else 3
    act = {'bin': 'sigmoid', 'cat': 'softmax', 'reg': 'linear'}[kind]
    model = models.Sequential([L.Dense(d, activation=act, use_bias=False, kernel_initializer='identity',
                                       input_shape=(d,))])
    return model


def _inputs_for(kind, yp):
    if kind == 'bin':
        return np.log(yp / (1 - yp))
    if kind == 'cat':
        return np.log(yp)
    return yp


@pytest.mark.parametrize('name,cls,kwargs,kind,ref', COMPILE, ids=[m[0] for m in COMPILE])
def test_metric_in_compile_fit_and_evaluate(name, cls, kwargs, kind, ref):
    yt, yp = make_data(kind, 24, 5)
    x = _inputs_for(kind, yp).astype('float32')
    model = _fixed_model(kind)
    model.compile(optimizers.SGD(lr=0.), 'mse', metrics=[cls(**kwargs)])
    pred = model.predict(x).astype('float64')  # what the metric sees (float32 forward pass)
    want = ref(yt, pred, None)
    h = model.fit(x, yt, batch_size=5, epochs=2, shuffle=False, verbose=0)
    key = [k for k in h.history if k != 'loss'][0]
    # each epoch starts from reset state and accumulates over its 5 batches
    check(h.history[key][0], want)
    check(h.history[key][1], want)
    if np.ndim(want) > 0:
        return  # Keras 2.3.1's evaluate calls float() on each metric: vector metrics fail there on TF too
    assert type(h.history[key][0]) in (float, np.float32, np.float64)
    loss, value = model.evaluate(x, yt, batch_size=7, verbose=0)
    check(value, want)
    check(loss, ((pred - yt) ** 2).mean())


def test_history_values_round_like_tf():
    yt, yp = make_data('bin', 8, 6)
    model = _fixed_model('bin')
    model.compile(optimizers.SGD(lr=0.), 'mse', metrics=['accuracy'])
    h = model.fit(_inputs_for('bin', yp).astype('float32'), yt, batch_size=8, epochs=1, verbose=0)
    acc = h.history['accuracy'][0]
    assert type(acc) is np.float32  # what TF's Session.run gives (a 0-d ndarray would break round)
    assert round(acc, 4) == round(float(acc), 4)


# ---------------------------------------------------------------- loss classes
LOSSES = [
    ('MeanSquaredError', losses.MeanSquaredError, {}, 'reg', 'mean_squared_error'),
    ('MeanAbsoluteError', losses.MeanAbsoluteError, {}, 'reg', 'mean_absolute_error'),
    ('MeanAbsolutePercentageError', losses.MeanAbsolutePercentageError, {}, 'reg', 'mean_absolute_percentage_error'),
    ('MeanSquaredLogarithmicError', losses.MeanSquaredLogarithmicError, {}, 'reg', 'mean_squared_logarithmic_error'),
    ('BinaryCrossentropy', losses.BinaryCrossentropy, {}, 'bin', 'bce'),
    ('BinaryCrossentropy_smooth', losses.BinaryCrossentropy, {'label_smoothing': 0.2}, 'bin', 'bce_smooth'),
    ('CategoricalCrossentropy', losses.CategoricalCrossentropy, {}, 'cat', 'cce'),
    ('CategoricalCrossentropy_smooth', losses.CategoricalCrossentropy, {'label_smoothing': 0.1}, 'cat', 'cce_smooth'),
    ('SparseCategoricalCrossentropy', losses.SparseCategoricalCrossentropy, {}, 'sparse', 'scce'),
    ('Hinge', losses.Hinge, {}, 'bin', 'hinge'),
    ('SquaredHinge', losses.SquaredHinge, {}, 'bin', 'squared_hinge'),
    ('CategoricalHinge', losses.CategoricalHinge, {}, 'cat', 'categorical_hinge'),
    ('Poisson', losses.Poisson, {}, 'reg', 'poisson'),
    ('LogCosh', losses.LogCosh, {}, 'reg', 'logcosh'),
    ('KLDivergence', losses.KLDivergence, {}, 'cat', 'kld'),
    ('Huber', losses.Huber, {}, 'reg', 'huber'),
]


def test_every_loss_class_is_in_the_table():
    import inspect
    classes = {c for _, c in inspect.getmembers(losses, inspect.isclass)
               if issubclass(c, losses.Loss) and not inspect.isabstract(c)} - {losses.LossFunctionWrapper}
    assert classes - {l[1] for l in LOSSES} == set()


def _as(dtype_case, a):
    return {'float64': a, 'float32': a.astype('float32'), 'tensor': K.constant(a)}[dtype_case]


@pytest.mark.parametrize('reduction', ['sum_over_batch_size', 'sum', 'none'])
@pytest.mark.parametrize('inputs', ['float64', 'float32', 'tensor'])
@pytest.mark.parametrize('name,cls,kwargs,kind,fn', LOSSES, ids=[l[0] for l in LOSSES])
def test_loss_object_with_numpy_inputs_and_sample_weight(name, cls, kwargs, kind, fn, inputs, reduction):
    yt, yp = make_data(kind, 6, 7)
    w = np.array([1., 2., 0.5, 0., 3., 1.])
    values = PER_SAMPLE[fn](yt, yp)
    per = values * w.reshape((-1,) + (1,) * (values.ndim - 1))
    want = {'sum_over_batch_size': per.sum() / per.size, 'sum': per.sum(), 'none': per}[reduction]
    loss = cls(reduction=reduction, **kwargs)
    got = K.eval(loss(_as(inputs, yt), _as(inputs, yp), sample_weight=_as(inputs, w)))
    check(got, want)
    unweighted = PER_SAMPLE[fn](yt, yp)
    got = K.eval(cls(**kwargs)(_as(inputs, yt), _as(inputs, yp)))
    check(got, unweighted.mean())
    check(K.eval(cls(**kwargs)(yt, yp, sample_weight=2.)), 2 * unweighted.mean())  # a scalar weight


def test_loss_objects_train_a_model():
    yt, yp = make_data('bin', 32, 8)
    model = models.Sequential([L.Dense(3, activation='sigmoid', input_shape=(3,))])
    model.compile(optimizers.SGD(lr=0.5), losses.BinaryCrossentropy(label_smoothing=0.1))
    h = model.fit(yp.astype('float32'), yt, epochs=5, batch_size=8, verbose=0)
    assert h.history['loss'][-1] < h.history['loss'][0]
