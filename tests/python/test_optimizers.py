"""K.optimizers standalone: every optimizer and option against a numpy transcription of Keras
2.3.1's update rules, Keras's defaults and argument names, config and weights round trips, and
one fused update node per parameter. (Keras itself compares in tests/keras.)"""
import numpy as np
import pytest

from keras_cpp import _core
from keras_cpp import backend as K

O = K.optimizers
EPS = 1e-7  # K.epsilon()


class NumpyKeras(object):
    """keras/optimizers.py (2.3.1), one step at a time in float64 numpy."""

    def __init__(self, name, kw, params):
        self.name, self.kw, self.t = name, dict(kw), 0
        self.lr = kw.get('lr', kw.get('learning_rate', DEFAULTS[name]['learning_rate']))
        self.decay = kw.get('decay', 0.)
        self.s = [[np.zeros_like(p) for _ in range(3)] for p in params]
        self.m_schedule = 1.

    def step(self, params, grads):
        kw, name = self.kw, self.name
        if kw.get('clipnorm', 0) > 0:
            norm = np.sqrt(sum(np.sum(g * g) for g in grads))
            grads = [g * kw['clipnorm'] / norm if norm >= kw['clipnorm'] else g for g in grads]
        if kw.get('clipvalue', 0) > 0:
            grads = [np.clip(g, -kw['clipvalue'], kw['clipvalue']) for g in grads]
        lr = self.lr * (1. / (1. + self.decay * self.t)) if self.decay > 0 else self.lr
        t = self.t + 1
        b1, b2 = kw.get('beta_1', 0.9), kw.get('beta_2', 0.999)
        eps = kw.get('epsilon', EPS)
        out = []
        if name == 'Nadam':
            sd = kw.get('schedule_decay', 0.004)
            mc = b1 * (1. - 0.5 * 0.96 ** (t * sd))
            mc1 = b1 * (1. - 0.5 * 0.96 ** ((t + 1) * sd))
            msn = self.m_schedule * mc
            msnext = self.m_schedule * mc * mc1
            self.m_schedule = msn
        for p, g, s in zip(params, grads, self.s):
            if name == 'SGD':
                mom = kw.get('momentum', 0.)
                v = mom * s[0] - lr * g
                s[0] = v
                p = p + mom * v - lr * g if kw.get('nesterov') else p + v
            elif name == 'RMSprop':
                rho = kw.get('rho', 0.9)
                s[0] = rho * s[0] + (1 - rho) * g * g
                p = p - lr * g / (np.sqrt(s[0]) + eps)
            elif name == 'Adagrad':
                s[0] = s[0] + g * g
                p = p - lr * g / (np.sqrt(s[0]) + eps)
            elif name == 'Adadelta':
                rho = kw.get('rho', 0.95)
                s[0] = rho * s[0] + (1 - rho) * g * g
                upd = g * np.sqrt(s[1] + eps) / np.sqrt(s[0] + eps)
                p = p - lr * upd
                s[1] = rho * s[1] + (1 - rho) * upd * upd
            elif name == 'Adam':
                lr_t = lr * np.sqrt(1. - b2 ** t) / (1. - b1 ** t)
                s[0] = b1 * s[0] + (1 - b1) * g
                s[1] = b2 * s[1] + (1 - b2) * g * g
                if kw.get('amsgrad'):
                    s[2] = np.maximum(s[2], s[1])
                p = p - lr_t * s[0] / (np.sqrt(s[2] if kw.get('amsgrad') else s[1]) + eps)
            elif name == 'Adamax':
                lr_t = lr / (1. - b1 ** t)
                s[0] = b1 * s[0] + (1 - b1) * g
                s[1] = np.maximum(b2 * s[1], np.abs(g))
                p = p - lr_t * s[0] / (s[1] + eps)
            elif name == 'Nadam':
                gp = g / (1. - msn)
                s[0] = b1 * s[0] + (1 - b1) * g
                s[1] = b2 * s[1] + (1 - b2) * g * g
                mbar = (1. - mc) * gp + mc1 * (s[0] / (1. - msnext))
                p = p - self.lr * mbar / (np.sqrt(s[1] / (1. - b2 ** t)) + eps)
            out.append(p)
        self.t = t
        return out


DEFAULTS = {  # keras/optimizers.py 2.3.1
    'SGD': {'learning_rate': 0.01, 'momentum': 0.0, 'decay': 0.0, 'nesterov': False},
    'RMSprop': {'learning_rate': 0.001, 'rho': 0.9, 'decay': 0.0, 'epsilon': EPS},
    'Adagrad': {'learning_rate': 0.01, 'decay': 0.0, 'epsilon': EPS},
    'Adadelta': {'learning_rate': 1.0, 'rho': 0.95, 'decay': 0.0, 'epsilon': EPS},
    'Adam': {'learning_rate': 0.001, 'beta_1': 0.9, 'beta_2': 0.999, 'decay': 0.0, 'epsilon': EPS, 'amsgrad': False},
    'Adamax': {'learning_rate': 0.002, 'beta_1': 0.9, 'beta_2': 0.999, 'decay': 0.0, 'epsilon': EPS},
    'Nadam': {'learning_rate': 0.002, 'beta_1': 0.9, 'beta_2': 0.999, 'epsilon': EPS, 'schedule_decay': 0.004},
}

CASES = [
    ('SGD', {}), ('SGD', {'lr': 0.1, 'momentum': 0.9}), ('SGD', {'learning_rate': 0.1, 'momentum': 0.8, 'nesterov': True}),
    ('SGD', {'lr': 0.1, 'decay': 0.5}), ('SGD', {'lr': 0.3, 'clipnorm': 0.5}), ('SGD', {'lr': 0.3, 'clipvalue': 0.05}),
    ('RMSprop', {}), ('RMSprop', {'lr': 0.01, 'rho': 0.8, 'decay': 0.1, 'epsilon': 1e-4}),
    ('Adagrad', {}), ('Adagrad', {'learning_rate': 0.1, 'decay': 0.2}),
    ('Adadelta', {}), ('Adadelta', {'lr': 0.5, 'rho': 0.9, 'clipnorm': 1.0}),
    ('Adam', {}), ('Adam', {'lr': 0.01, 'amsgrad': True}), ('Adam', {'beta_1': 0.5, 'beta_2': 0.9, 'decay': 0.1}),
    ('Adamax', {}), ('Adamax', {'lr': 0.01, 'beta_1': 0.8, 'clipvalue': 0.1}),
    ('Nadam', {}), ('Nadam', {'lr': 0.01, 'schedule_decay': 0.01, 'beta_2': 0.99}),
]
IDS = ['%s-%s' % (n, '-'.join('%s=%s' % kv for kv in sorted(kw.items())) or 'defaults') for n, kw in CASES]


@pytest.fixture
def floatx64():
    old = K.floatx()
    K.set_floatx('float64')
    yield
    K.set_floatx(old)


def run_steps(name, kw, dtype, steps=6):
    rng = np.random.RandomState(0)
    p0 = [rng.randn(4, 3), rng.randn(3)]
    target = [rng.randn(4, 3), rng.randn(3)]
    params = [K.variable(p, dtype=dtype) for p in p0]
    loss = sum(0.5 * K.sum(K.square(p - K.constant(t, dtype=dtype))) for p, t in zip(params, target))
    opt = getattr(O, name)(**kw)
    f = K.function([], [loss], updates=opt.get_updates(loss, params))
    ref = NumpyKeras(name, kw, p0)
    want = p0
    for _ in range(steps):
        f([])
        want = ref.step(want, [w - t for w, t in zip(want, target)])
    return [K.get_value(p) for p in params], want, opt


@pytest.mark.parametrize('name,kw', CASES, ids=IDS)
def test_float32_steps_match_keras_rules(name, kw):
    got, want, opt = run_steps(name, kw, 'float32')
    for g, w in zip(got, want):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)
    assert K.get_value(opt.iterations) == 6


@pytest.mark.parametrize('name,kw', CASES, ids=IDS)
def test_float64_steps_match_keras_rules(name, kw, floatx64):
    got, want, _ = run_steps(name, kw, 'float64')
    for g, w in zip(got, want):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize('name', sorted(DEFAULTS))
def test_defaults_config_and_aliases(name):
    cls = getattr(O, name)
    assert getattr(O, name.lower()) is cls
    cfg = cls().get_config()
    assert set(cfg) == set(DEFAULTS[name])
    for k, v in DEFAULTS[name].items():
        assert cfg[k] == pytest.approx(v, rel=1e-6), k
    a = cls(lr=0.5, clipnorm=2.0, clipvalue=3.0)
    assert K.get_value(a.lr) == pytest.approx(0.5) and K.get_value(a.learning_rate) == pytest.approx(0.5)
    b = cls.from_config(a.get_config())
    assert type(b) is type(a) and b.get_config() == a.get_config()
    assert b.clipnorm == 2.0 and b.clipvalue == 3.0
    assert K.get_value(cls(learning_rate=0.25).lr) == pytest.approx(0.25)
    assert O.get(name.lower()).get_config() == cfg and O.get({'class_name': name, 'config': {}}).get_config() == cfg
    with pytest.raises(TypeError, match='Unexpected keyword argument'):
        cls(momentun=0.9)


def test_get_and_set_weights():
    w = K.variable(np.ones((2, 2)))
    loss = K.sum(K.square(w))
    opt = O.Adam(amsgrad=True)
    f = K.function([], [loss], updates=opt.get_updates(loss, [w]))
    f([])
    weights = opt.get_weights()
    assert [x.shape for x in weights] == [(), (2, 2), (2, 2), (2, 2)]
    assert weights[0] == 1
    opt.set_weights([np.array(5)] + [np.full((2, 2), 0.5)] * 3)
    np.testing.assert_allclose(opt.get_weights()[1], 0.5)
    assert K.get_value(opt.iterations) == 5
    with pytest.raises(ValueError, match='does not match the number of weights'):
        opt.set_weights(weights[:2])
    with pytest.raises(ValueError, match='not compatible'):
        opt.set_weights([np.array(0)] + [np.zeros((3, 3))] * 3)
    r = O.RMSprop()
    r.get_updates(loss, [w])
    r.set_weights([np.full((2, 2), 2.)])  # Keras 2.2.4 weights: no iterations at the head
    assert K.get_value(r.iterations) == 0
    np.testing.assert_allclose(r.get_weights()[1], 2.)


def test_constraints_are_applied_to_the_new_value():
    w = K.variable(np.array([1., -2., 3.]))
    w.constraint = lambda x: K.clip(x, -1., 1.)
    loss = K.sum(w)
    f = K.function([], [loss], updates=O.SGD(lr=0.1).get_updates(loss, [w]))
    f([])
    np.testing.assert_allclose(K.get_value(w), [0.9, -1., 1.])  # 1 - 0.1, clip(-2.1), clip(2.9)


def test_none_gradient_is_an_error():
    w, other = K.variable(np.ones(2)), K.variable(np.ones(2))
    with pytest.raises(ValueError, match='None` for gradient'):
        O.SGD().get_updates(K.sum(w), [w, other])


@pytest.mark.parametrize('name,kw,slots', [('SGD', {}, 1), ('RMSprop', {}, 1), ('Adagrad', {}, 1), ('Adadelta', {}, 2),
                                           ('Adam', {}, 2), ('Adam', {'amsgrad': True}, 3), ('Adamax', {}, 2),
                                           ('Nadam', {}, 2)])
def test_each_parameter_update_is_one_fused_node(name, kw, slots):
    # With the gradients fed in, an extra parameter adds the fused node (one result per new value)
    # and one update op per new value: no chain of elementwise ops per parameter.
    def steps(n):
        params = [K.variable(np.ones((3, 2))) for _ in range(n)]
        grads = [K.placeholder(shape=(3, 2)) for _ in range(n)]
        opt = getattr(O, name)(**kw)
        opt.get_gradients = lambda loss, ps: grads
        updates = opt.get_updates(None, params)
        return K.function(grads, [], updates=updates)._fn.num_steps

    new_values = 1 + slots
    assert steps(2) - steps(1) == 1 + new_values


def test_fused_update_errors_name_the_op():
    p = K.variable(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r'_sgd_update.*must match the parameter'):
        _core._sgd_update(p, K.constant(np.ones((3, 2))), p, 0.1, 0.0)
    with pytest.raises(ValueError, match=r'_adam_update.*scalar'):
        _core._adam_update(p, p, p, p, None, K.constant(np.ones(2)), 0.9, 0.999, 0.1, 0.001, 1e-7)
    with pytest.raises(TypeError, match='float'):
        q = K.variable(np.ones(2, dtype='int32'), dtype='int32')
        _core._adagrad_update(q, q, q, 0.1, 1e-7)
