"""K.optimizers: Keras 2.3.1's optimizers (SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam)
with its names, defaults, arguments, weights and configs, where each parameter's update is one
fused C++ op (cpp/ops/optimizers.cpp) instead of Keras's chain of small elementwise ops.

Standalone: `updates = opt.get_updates(loss, params)`, then `K.function(inputs, outputs,
updates=updates)`. In Keras 2.3.1: `model.compile(optimizer=K.optimizers.Adam(), ...)`; an
instance made while Keras 2 is loaded is also a `keras.optimizers.Optimizer`, so Keras accepts it,
and it trains like the Keras optimizer of the same name (see docs/optimizers.md for exactness).
The scalar coefficients (decayed lr, bias corrections, 1 - beta...) are built from the same K ops,
in the same order, as in keras/optimizers.py.
"""
import builtins
import sys

import numpy as np

from .. import _core
from . import _config
from . import _control, _engine as K

__all__ = ['Optimizer', 'SGD', 'RMSprop', 'Adagrad', 'Adadelta', 'Adam', 'Adamax', 'Nadam',
           'sgd', 'rmsprop', 'adagrad', 'adadelta', 'adam', 'adamax', 'nadam', 'get']


def _fused(op, *args):
    """The new values (parameter first, then each slot): the results of one fused update node."""
    return getattr(_core, op)(*args)


def _keras2_optimizer_class():
    """keras.optimizers.Optimizer when Keras 2 is already imported (never imports Keras)."""
    keras = sys.modules.get('keras')
    mod = sys.modules.get('keras.optimizers')
    if keras is None or mod is None or not str(getattr(keras, '__version__', '')).startswith('2.'):
        return None
    return getattr(mod, 'Optimizer', None)


_KERAS_FLAVOURS = {}


def _clip_norm(g, c, n):
    # keras.optimizers.clip_norm, non-TensorFlow branch.
    if c <= 0:
        return g
    return _control.switch(K.greater_equal(n, c), g * c / n, g)


class Optimizer(object):
    """Base class (Keras 2.3.1's Optimizer): clipnorm/clipvalue, weights, config."""

    def __new__(cls, *args, **kwargs):
        # Keras's optimizers.get() accepts only keras.optimizers.Optimizer instances: with Keras 2
        # loaded, instantiate a subclass that also derives from it (our methods come first).
        base = _keras2_optimizer_class()
        if base is not None and not issubclass(cls, base):
            flavour = _KERAS_FLAVOURS.get((cls, base))
            if flavour is None:
                flavour = type(cls.__name__, (cls, base), {'__module__': cls.__module__, '__qualname__': cls.__qualname__,
                                                           '__doc__': cls.__doc__})
                _KERAS_FLAVOURS[(cls, base)] = flavour
            cls = flavour
        return object.__new__(cls)

    def __init__(self, **kwargs):
        allowed_kwargs = {'clipnorm', 'clipvalue'}
        for k in kwargs:
            if k not in allowed_kwargs:
                raise TypeError('Unexpected keyword argument passed to optimizer: ' + str(k))
        self.__dict__.update(kwargs)
        self.updates = []
        self.weights = []

    def get_updates(self, loss, params):
        """Update ops (for K.function's updates) applying one step to params."""
        raise TypeError('%s is the abstract base class: subclass it and define get_updates, or use '
                        'SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax or Nadam' % type(self).__name__)

    def get_gradients(self, loss, params):
        """K.gradients of loss, clipped by clipnorm (global norm) and clipvalue as Keras does."""
        grads = K.gradients(loss, params)
        if builtins.any(x is None for x in grads):
            raise ValueError('An operation has `None` for gradient. '
                             'Please make sure that all of your ops have a '
                             'gradient defined (i.e. are differentiable). '
                             'Common ops without gradient: '
                             'K.argmax, K.round, K.eval.')
        if hasattr(self, 'clipnorm') and self.clipnorm > 0:
            norm = K.sqrt(builtins.sum([K.sum(K.square(g)) for g in grads]))
            grads = [_clip_norm(g, self.clipnorm, norm) for g in grads]
        if hasattr(self, 'clipvalue') and self.clipvalue > 0:
            grads = [K.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def set_weights(self, weights):
        """Set the optimizer's weights (iterations, then its slots) from numpy arrays."""
        weights = self._upgrade_weights(list(weights))
        params = self.weights
        if len(params) != len(weights):
            raise ValueError('Length of the specified weight list (' + str(len(weights)) +
                             ') does not match the number of weights of the optimizer (' + str(len(params)) + ')')
        weight_value_tuples = []
        param_values = K.batch_get_value(params)
        for pv, p, w in zip(param_values, params, weights):
            if pv.shape != w.shape:
                raise ValueError('Optimizer weight shape ' + str(pv.shape) + ' not compatible with '
                                 'provided weight shape ' + str(w.shape))
            weight_value_tuples.append((p, w))
        K.batch_set_value(weight_value_tuples)

    def get_weights(self):
        """The optimizer's weights as numpy arrays."""
        return K.batch_get_value(self.weights)

    def get_config(self):
        config = {}
        if hasattr(self, 'clipnorm'):
            config['clipnorm'] = self.clipnorm
        if hasattr(self, 'clipvalue'):
            config['clipvalue'] = self.clipvalue
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @property
    def lr(self):
        # Legacy support.
        return self.learning_rate

    # ---- shared by the subclasses (the patterns every Keras 2.3.1 optimizer repeats)
    def _setup(self, kwargs, learning_rate, variables=(), epsilon=True, decay=True):
        """Pop lr (alias of learning_rate), decay and epsilon from kwargs, reject unknown ones, and
        make iterations, learning_rate, the named scalar variables and decay in the class's scope."""
        learning_rate = kwargs.pop('lr', learning_rate)
        if decay:
            self.initial_decay = kwargs.pop('decay', 0.0)
        if epsilon:
            self.epsilon = kwargs.pop('epsilon', _config.epsilon())
        Optimizer.__init__(self, **kwargs)
        with K.name_scope(self.__class__.__name__):
            self.iterations = K.variable(0, dtype='int64', name='iterations')
            self.learning_rate = K.variable(learning_rate, name='learning_rate')
            for name, value in variables:
                setattr(self, name, K.variable(value, name=name))
            if decay:
                self.decay = K.variable(self.initial_decay, name='decay')

    def _merged_config(self, variables, plain):
        """Optimizer.get_config plus the current values of `variables` and the attributes `plain`."""
        config = {k: float(K.get_value(getattr(self, k))) for k in variables}
        config.update((k, getattr(self, k)) for k in plain)
        return dict(list(Optimizer.get_config(self).items()) + list(config.items()))

    def _upgrade_weights(self, weights):
        return weights

    def _start(self, loss, params):
        """The gradients, and the iterations increment as the first update."""
        grads = self.get_gradients(loss, params)
        self.updates = [K.update_add(self.iterations, 1)]
        return grads

    def _decayed_lr(self):
        lr = self.learning_rate
        if self.initial_decay > 0:
            lr = lr * (1. / (1. + self.decay * K.cast(self.iterations, K.dtype(self.decay))))
        return lr

    def _slots(self, params, prefix):
        # Keras makes some slots floatx and some of the parameter's dtype; a fused update needs the
        # parameter's, which is the same whenever parameters are floatx.
        return [K.zeros(K.int_shape(p), dtype=K.dtype(p), name=prefix + str(i)) for i, p in enumerate(params)]

    def _assign(self, p, new_p):
        if getattr(p, 'constraint', None) is not None:
            new_p = p.constraint(new_p)
        self.updates.append(K.update(p, new_p))


def _prepend_iterations(self, weights):
    # Keras 2.2.4 saved these optimizers' weights without iterations at the head.
    return [np.array(0)] + weights if len(self.weights) == len(weights) + 1 else weights


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, learning rate decay and Nesterov momentum."""

    def __init__(self, learning_rate=0.01, momentum=0., nesterov=False, **kwargs):
        self._setup(kwargs, learning_rate, [('momentum', momentum)], epsilon=False)
        self.nesterov = nesterov

    def get_updates(self, loss, params):
        grads = self._start(loss, params)
        lr = self._decayed_lr()
        moments = self._slots(params, 'moment_')
        self.weights = [self.iterations] + moments
        for p, g, m in zip(params, grads, moments):
            new_p, new_m = _fused('_sgd_update', p, g, m, lr, self.momentum, bool(self.nesterov))
            self.updates.append(K.update(m, new_m))
            self._assign(p, new_p)
        return self.updates

    def get_config(self):
        return self._merged_config(('learning_rate', 'momentum', 'decay'), ('nesterov',))


class RMSprop(Optimizer):
    """RMSProp: divide the gradient by a running average of its recent magnitude."""

    _upgrade_weights = _prepend_iterations

    def __init__(self, learning_rate=0.001, rho=0.9, **kwargs):
        self._setup(kwargs, learning_rate, [('rho', rho)])

    def get_updates(self, loss, params):
        grads = self._start(loss, params)
        accumulators = self._slots(params, 'accumulator_')
        self.weights = [self.iterations] + accumulators
        lr = self._decayed_lr()
        one_minus_rho = 1. - self.rho
        for p, g, a in zip(params, grads, accumulators):
            new_p, new_a = _fused('_rmsprop_update', p, g, a, lr, self.rho, one_minus_rho, float(self.epsilon))
            self.updates.append(K.update(a, new_a))
            self._assign(p, new_p)
        return self.updates

    def get_config(self):
        return self._merged_config(('learning_rate', 'rho', 'decay'), ('epsilon',))


class Adagrad(Optimizer):
    """Adagrad: per-parameter learning rates scaled by the accumulated squared gradients."""

    _upgrade_weights = _prepend_iterations

    def __init__(self, learning_rate=0.01, **kwargs):
        self._setup(kwargs, learning_rate)

    def get_updates(self, loss, params):
        grads = self._start(loss, params)
        accumulators = self._slots(params, 'accumulator_')
        self.weights = [self.iterations] + accumulators
        lr = self._decayed_lr()
        for p, g, a in zip(params, grads, accumulators):
            new_p, new_a = _fused('_adagrad_update', p, g, a, lr, float(self.epsilon))
            self.updates.append(K.update(a, new_a))
            self._assign(p, new_p)
        return self.updates

    def get_config(self):
        return self._merged_config(('learning_rate', 'decay'), ('epsilon',))


class Adadelta(Optimizer):
    """Adadelta: Adagrad over a moving window, scaled by the running average of past updates."""

    _upgrade_weights = _prepend_iterations

    def __init__(self, learning_rate=1.0, rho=0.95, **kwargs):
        self._setup(kwargs, learning_rate)
        self.rho = rho  # a Python number, as in Keras

    def get_updates(self, loss, params):
        grads = self._start(loss, params)
        accumulators = self._slots(params, 'accumulator_')
        delta_accumulators = self._slots(params, 'delta_accumulator_')
        self.weights = [self.iterations] + accumulators + delta_accumulators
        lr = self._decayed_lr()
        for p, g, a, d_a in zip(params, grads, accumulators, delta_accumulators):
            # rho is a Python number: (1. - rho) is computed in Python, as Keras does.
            new_p, new_a, new_d_a = _fused('_adadelta_update', p, g, a, d_a, lr, self.rho, 1. - self.rho,
                                           float(self.epsilon))
            self.updates.append(K.update(a, new_a))
            self._assign(p, new_p)
            self.updates.append(K.update(d_a, new_d_a))
        return self.updates

    def get_config(self):
        return self._merged_config(('learning_rate', 'decay'), ('rho', 'epsilon'))


class Adam(Optimizer):
    """Adam, optionally with the AMSGrad variant."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, amsgrad=False, **kwargs):
        self._setup(kwargs, learning_rate, [('beta_1', beta_1), ('beta_2', beta_2)])
        self.amsgrad = amsgrad

    def get_updates(self, loss, params):
        grads = self._start(loss, params)
        lr = self._decayed_lr()
        t = K.cast(self.iterations, _config.floatx()) + 1
        lr_t = lr * (K.sqrt(1. - K.pow(self.beta_2, t)) / (1. - K.pow(self.beta_1, t)))
        ms = self._slots(params, 'm_')
        vs = self._slots(params, 'v_')
        if self.amsgrad:
            vhats = self._slots(params, 'vhat_')
        else:
            vhats = [K.zeros(1, name='vhat_' + str(i)) for i in range(len(params))]
        self.weights = [self.iterations] + ms + vs + vhats
        one_minus_b1, one_minus_b2 = 1. - self.beta_1, 1. - self.beta_2
        for p, g, m, v, vhat in zip(params, grads, ms, vs, vhats):
            new = _fused('_adam_update', p, g, m, v, vhat if self.amsgrad else None,
                         lr_t, self.beta_1, self.beta_2, one_minus_b1, one_minus_b2, float(self.epsilon),
                         bool(self.amsgrad))
            if self.amsgrad:
                self.updates.append(K.update(vhat, new[3]))
            self.updates.append(K.update(m, new[1]))
            self.updates.append(K.update(v, new[2]))
            self._assign(p, new[0])
        return self.updates

    def get_config(self):
        return self._merged_config(('learning_rate', 'beta_1', 'beta_2', 'decay'), ('epsilon', 'amsgrad'))


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm."""

    def __init__(self, learning_rate=0.002, beta_1=0.9, beta_2=0.999, **kwargs):
        self._setup(kwargs, learning_rate, [('beta_1', beta_1), ('beta_2', beta_2)])

    def get_updates(self, loss, params):
        grads = self._start(loss, params)
        lr = self._decayed_lr()
        t = K.cast(self.iterations, _config.floatx()) + 1
        lr_t = lr / (1. - K.pow(self.beta_1, t))
        ms = self._slots(params, 'm_')
        us = self._slots(params, 'u_')
        self.weights = [self.iterations] + ms + us
        one_minus_b1 = 1. - self.beta_1
        for p, g, m, u in zip(params, grads, ms, us):
            new_p, new_m, new_u = _fused('_adamax_update', p, g, m, u, lr_t, self.beta_1, self.beta_2, one_minus_b1,
                                         float(self.epsilon))
            self.updates.append(K.update(m, new_m))
            self.updates.append(K.update(u, new_u))
            self._assign(p, new_p)
        return self.updates

    def get_config(self):
        return self._merged_config(('learning_rate', 'beta_1', 'beta_2', 'decay'), ('epsilon',))


class Nadam(Optimizer):
    """Nesterov Adam (with Keras's warming momentum schedule)."""

    def __init__(self, learning_rate=0.002, beta_1=0.9, beta_2=0.999, **kwargs):
        self.schedule_decay = kwargs.pop('schedule_decay', 0.004)
        self._setup(kwargs, learning_rate, [('m_schedule', 1.), ('beta_1', beta_1), ('beta_2', beta_2)], decay=False)

    def get_updates(self, loss, params):
        grads = self._start(loss, params)
        t = K.cast(self.iterations, _config.floatx()) + 1
        # Keras's warming momentum schedule, with the same K ops.
        momentum_cache_t = self.beta_1 * (1. - 0.5 * (K.pow(_config.cast_to_floatx(0.96), t * self.schedule_decay)))
        momentum_cache_t_1 = self.beta_1 * (1. - 0.5 * (K.pow(_config.cast_to_floatx(0.96), (t + 1) * self.schedule_decay)))
        m_schedule_new = self.m_schedule * momentum_cache_t
        m_schedule_next = self.m_schedule * momentum_cache_t * momentum_cache_t_1
        self.updates.append((self.m_schedule, m_schedule_new))
        ms = self._slots(params, 'm_')
        vs = self._slots(params, 'v_')
        self.weights = [self.iterations, self.m_schedule] + ms + vs
        scalars = (self.learning_rate, self.beta_1, self.beta_2, 1. - self.beta_1, 1. - self.beta_2,
                   1. - m_schedule_new, 1. - m_schedule_next, 1. - K.pow(self.beta_2, t), 1. - momentum_cache_t,
                   momentum_cache_t_1, float(self.epsilon))
        for p, g, m, v in zip(params, grads, ms, vs):
            new_p, new_m, new_v = _fused('_nadam_update', p, g, m, v, *scalars)
            self.updates.append(K.update(m, new_m))
            self.updates.append(K.update(v, new_v))
            self._assign(p, new_p)
        return self.updates

    def _upgrade_weights(self, weights):
        # Keras 2.2.4 saved Nadam's weights without m_schedule after iterations.
        return weights[:1] + [np.array(1.)] + weights[1:] if len(self.weights) == len(weights) + 1 else weights

    def get_config(self):
        return self._merged_config(('learning_rate', 'beta_1', 'beta_2'), ('epsilon', 'schedule_decay'))


# Aliases (as in keras.optimizers).
sgd = SGD
rmsprop = RMSprop
adagrad = Adagrad
adadelta = Adadelta
adam = Adam
adamax = Adamax
nadam = Nadam

_BY_NAME = {'sgd': SGD, 'rmsprop': RMSprop, 'adagrad': Adagrad, 'adadelta': Adadelta, 'adam': Adam,
            'adamax': Adamax, 'nadam': Nadam}


def get(identifier):
    """An optimizer from a name ('adam'), a {'class_name', 'config'} dict, or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        cls = _BY_NAME.get(str(identifier.get('class_name', '')).lower())
        if cls is None:
            raise ValueError('Unknown optimizer: %r (known: %s)' % (identifier.get('class_name'), ', '.join(sorted(_BY_NAME))))
        return cls.from_config(identifier.get('config', {}))
    if isinstance(identifier, str):
        return get({'class_name': identifier, 'config': {}})
    raise ValueError('Could not interpret optimizer identifier: ' + str(identifier))
