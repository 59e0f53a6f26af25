"""The one finite-difference gradient checker of the Python tests, with its tolerances.

Gradients are checked in float64 by central differences: element by element for small inputs
(check_gradients), along random directions for the large parallel-size inputs (check_directional).
A float32 or float16 gradient is checked against the same graph's float64 gradient
(check_low_precision). The loss is a fixed random weighting of every float output, so each output
element reaches the gradient with its own weight."""
import numpy as np

from keras_cpp import backend as K

EPS = 1e-6
# (rtol, atol) of K.gradients against central differences, float64 throughout.
GRAD_TOL = (1e-5, 1e-6)
# (rtol, atol) of a float32 / float16 gradient against the float64 gradient of the same graph.
LOW_TOL = {'float32': (1e-3, 1e-4), 'float16': (5e-2, 5e-2)}


def central_difference(f, x, direction, eps=EPS):
    """(f(x + eps d) - f(x - eps d)) / 2 eps: the derivative of f at x along d."""
    return (f(x + eps * direction) - f(x - eps * direction)) / (2 * eps)


def numeric_gradient(f, x, eps=EPS):
    """The gradient of the scalar function f at the float64 array x, element by element."""
    g = np.zeros(x.shape)
    for j in range(x.size):
        d = np.zeros(x.shape)
        d.flat[j] = 1.0
        g.flat[j] = central_difference(f, x, d, eps)
    return g


def flat_tensors(out):
    """The tensors of a (nested) list/tuple result, in order."""
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in flat_tensors(o)]
    return [out] if K.is_tensor(out) else []


def _float_outputs(out):
    return [t for t in flat_tensors(out) if K.dtype(t).startswith('float')]


class _Graph(object):
    """build(*placeholders) once; a loss weighting every float output; its gradients wrt `wrt`."""

    def __init__(self, build, arrays, wrt, seed, dtype=None):
        self.arrays = [np.asarray(a) for a in arrays]
        kinds = [a.dtype.kind for a in self.arrays]
        self.wrt = [i for i, k in enumerate(kinds) if k == 'f'] if wrt is None else list(wrt)
        self.phs = [K.placeholder(shape=a.shape, dtype=(dtype if k == 'f' and dtype else a.dtype.name))
                    for a, k in zip(self.arrays, kinds)]
        outs = _float_outputs(build(*self.phs))
        assert outs, 'no float output to differentiate'
        shapes = [v.shape for v in K.function(self.phs, outs)(self.feed(self.arrays))]
        rng = np.random.default_rng(seed)
        loss = None
        for t, s in zip(outs, shapes):
            w = K.constant(rng.uniform(0.5, 1.5, size=s), dtype=K.dtype(t))
            term = K.sum(t * w)
            loss = term if loss is None else loss + term
        self.loss = loss
        self.grads = K.gradients(loss, [self.phs[i] for i in self.wrt])
        for i, g in zip(self.wrt, self.grads):
            assert g is not None, 'gradient wrt input %d is None' % i
            assert tuple(K.int_shape(g)) == tuple(K.int_shape(self.phs[i])), \
                'gradient shape %s for input %s' % (K.int_shape(g), K.int_shape(self.phs[i]))
        self.f_loss = K.function(self.phs, [loss])
        self.f_grads = K.function(self.phs, self.grads)

    def feed(self, arrays):
        return [a.astype(K.dtype(p)) for a, p in zip(arrays, self.phs)]

    def loss_at(self, i, x):
        vals = list(self.arrays)
        vals[i] = x
        return float(self.f_loss(self.feed(vals))[0])

    def analytic(self):
        return [np.asarray(g, 'float64') for g in self.f_grads(self.feed(self.arrays))]


def _as64(arrays):
    return [np.asarray(a, 'float64') if np.asarray(a).dtype.kind == 'f' else np.asarray(a) for a in arrays]


def check_gradients(build, arrays, wrt=None, seed=0, err_msg=''):
    """K.gradients of a random weighting of build(*placeholders)'s float outputs against float64
    central differences for each input in wrt (default: every float array). Returns the gradients."""
    g = _Graph(build, _as64(arrays), wrt, seed)
    got = g.analytic()
    for i, a in zip(g.wrt, got):
        num = numeric_gradient(lambda x: g.loss_at(i, x), g.arrays[i])
        np.testing.assert_allclose(a, num, rtol=GRAD_TOL[0], atol=GRAD_TOL[1],
                                   err_msg='%s: gradient wrt input %d' % (err_msg, i))
    return got


def check_directional(build, arrays, wrt=None, seed=0, err_msg='', directions=1):
    """For large inputs: <K.gradients, d> against the central difference along random directions d."""
    g = _Graph(build, _as64(arrays), wrt, seed)
    got = g.analytic()
    rng = np.random.default_rng(seed + 1)
    for i, a in zip(g.wrt, got):
        for _ in range(directions):
            d = rng.uniform(-1, 1, size=a.shape)
            num = central_difference(lambda x: g.loss_at(i, x), g.arrays[i], d)
            lin = float(np.sum(a * d))
            scale = float(np.sum(np.abs(a * d))) + 1.0
            assert abs(lin - num) <= GRAD_TOL[0] * scale + GRAD_TOL[1] * np.sqrt(a.size), \
                '%s: input %d directional derivative %r, finite difference %r' % (err_msg, i, lin, num)
    return got


def check_low_precision(build, arrays, dtype, wrt=None, seed=0, err_msg=''):
    """The gradient computed in `dtype` (float inputs cast to it) against the float64 one."""
    ref = _Graph(build, _as64(arrays), wrt, seed)
    low = _Graph(build, _as64(arrays), wrt, seed, dtype=dtype)
    rtol, atol = LOW_TOL[dtype]
    for i, a, b in zip(ref.wrt, ref.analytic(), low.analytic()):
        scale = max(1.0, float(np.max(np.abs(a)))) if a.size else 1.0
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol * scale,
                                   err_msg='%s: %s gradient wrt input %d' % (err_msg, dtype, i))
