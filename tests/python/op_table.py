"""OpInfo-style table: one row per public op of keras_cpp (the names in `_core._ops` without a
leading underscore). A row says how to make inputs, which numpy reference to compare with
(reference.py), the kwargs variants, the dtypes, whether the op is differentiable and how to call
it wrongly. test_ops.py, test_grads.py and test_errors.py sweep the rows.

Samples hold numpy arrays (fed as tensors) and plain Python values (passed as they are)."""
import numpy as np

from keras_cpp import backend as K

import reference as R

FLOATS = ('float16', 'float32', 'float64')
INTS = ('int8', 'int16', 'int32', 'int64', 'uint8')
NUMERIC = FLOATS + INTS
ALL = NUMERIC + ('bool',)

TOL = {'float16': (2e-2, 2e-2), 'float32': (1e-5, 1e-6), 'float64': (1e-10, 1e-12)}


class Sample(object):
    def __init__(self, *args, **kwargs):
        self.args = list(args)
        self.kwargs = kwargs

    def __repr__(self):
        def d(a):
            return 'arr%s:%s' % (a.shape, a.dtype) if isinstance(a, np.ndarray) else repr(a)
        return '(%s)' % ', '.join([d(a) for a in self.args] + ['%s=%r' % kv for kv in self.kwargs.items()])


class OpInfo(object):
    """One op. samples(dtype, rng) -> [Sample]; grad_samples(rng) -> float64 [Sample] (small);
    errors: [(callable raising, exception type)]; kind 'pure' (compare with ref), 'update'
    (variable + update handle) or 'print'."""

    def __init__(self, name, ref, samples, dtypes=FLOATS, differentiable=True, grad_samples=None,
                 errors=(), kind='pure', out_dtype=None, tol=None, grad_tol=(1e-5, 1e-6), permutable=True,
                 grad_wrt=None):
        self.name = name
        self.ref = ref
        self.samples = samples
        self.dtypes = dtypes
        self.differentiable = differentiable
        self.grad_samples = grad_samples
        self.errors = list(errors)
        self.kind = kind
        self.out_dtype = out_dtype  # callable(in_dtype) -> expected dtype name, or None
        self.tol = dict(TOL, **(tol or {}))
        self.grad_tol = grad_tol
        self.permutable = permutable
        self.grad_wrt = grad_wrt  # indices of the array arguments to differentiate (None: all)

    @property
    def op(self):
        return getattr(K, self.name)

    def __repr__(self):
        return self.name


# ---------------------------------------------------------------- input makers
def arr(shape, dtype, rng, low=-2.0, high=2.0):
    """Random values of a dtype: floats in [low, high); ints in a small range; bools."""
    shape = tuple(shape)
    if dtype == 'bool':
        return np.asarray(rng.random(shape) > 0.5)
    if dtype in INTS:
        lo = 0 if dtype == 'uint8' else int(np.floor(low))
        hi = max(int(np.ceil(high)), lo + 1)
        return np.asarray(rng.integers(lo, hi + 1, size=shape).astype(dtype))
    return np.asarray(rng.uniform(low, high, size=shape).astype(dtype))


def pos(shape, dtype, rng):
    return arr(shape, dtype, rng, 0.5, 2.0)


def distinct(shape, dtype, rng):
    """Values without ties (for max/min/argmax and their gradients)."""
    n = int(np.prod(shape))
    if dtype == 'bool':
        return arr(shape, dtype, rng)
    v = rng.permutation(n).reshape(shape)
    if dtype in INTS:
        return np.asarray((v % 100).astype(dtype))
    return np.asarray(((v - n / 2.0) * 0.25 + rng.uniform(-0.05, 0.05, size=shape)).astype(dtype))


UNARY_SHAPES = [(), (3,), (2, 3), (2, 1, 4), (0, 3), (1, 1)]
BINARY_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((4, 1, 3), (2, 1)),
                 ((), (2, 3)), ((2, 3), ()), ((0, 3), (1, 3)), ((1,), (5,))]
REDUCE_CASES = [((2, 3, 4), {}), ((2, 3, 4), {'axis': 0}), ((2, 3, 4), {'axis': -1}),
                ((2, 3, 4), {'axis': [0, 2]}), ((2, 3, 4), {'axis': (1, -1), 'keepdims': True}),
                ((2, 3, 4), {'axis': 1, 'keepdims': True}), ((5,), {'axis': 0}), ((1, 1), {'axis': 0}),
                ((3, 0), {'axis': 0}), ((4, 2, 3), {'axis': [1, -1]})]
GRAD_UNARY = [(2, 3), (4,)]


def unary_samples(maker=arr, shapes=UNARY_SHAPES, **kwargs):
    return lambda dtype, rng: [Sample(maker(s, dtype, rng), **kwargs) for s in shapes]


def unary_grad(maker=arr, **kwargs):
    return lambda rng: [Sample(maker(s, 'float64', rng), **kwargs) for s in GRAD_UNARY]


def binary_samples(maker_x=arr, maker_y=arr, shapes=BINARY_SHAPES):
    return lambda dtype, rng: [Sample(maker_x(a, dtype, rng), maker_y(b, dtype, rng)) for a, b in shapes]


def binary_grad(maker_x=arr, maker_y=arr):
    shapes = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3))]
    return lambda rng: [Sample(maker_x(a, 'float64', rng), maker_y(b, 'float64', rng)) for a, b in shapes]


def reduce_samples(maker=arr, cases=REDUCE_CASES, no_empty=False):
    def make(dtype, rng):
        out = []
        for shape, kw in cases:
            if no_empty and 0 in shape:
                continue
            out.append(Sample(maker(shape, dtype, rng), **kw))
        return out
    return make


def reduce_grad(maker=arr):
    cases = [((2, 3, 4), {}), ((2, 3, 4), {'axis': -1}), ((2, 3, 4), {'axis': [0, 2], 'keepdims': True}),
             ((3, 2), {'axis': 0})]
    return lambda rng: [Sample(maker(s, 'float64', rng), **kw) for s, kw in cases]


def _c(x, dtype='float32'):
    return K.constant(np.asarray(x, dtype=dtype), dtype=dtype)


def same_float(d):
    return d if d in FLOATS else None


def always(name):
    return lambda d: name


def floatish(d):
    return d if d in FLOATS else 'float32'


# ---------------------------------------------------------------- the table
OPS = []


def row(*args, **kwargs):
    OPS.append(OpInfo(*args, **kwargs))


def _bad_rank_unary(name):
    """A malformed call shared by all elementwise unary ops: a string where a tensor goes."""
    return [(lambda: getattr(K, name)('not a tensor'), (TypeError, ValueError))]


def _bad_broadcast(name):
    return [(lambda: getattr(K, name)(_c(np.zeros((2, 3))), _c(np.zeros((4,)))), ValueError)]


# elementwise unary math
row('abs', R.abs, unary_samples(), NUMERIC, grad_samples=unary_grad(distinct), errors=_bad_rank_unary('abs'),
    out_dtype=lambda d: d)
row('negative', R.negative, unary_samples(), FLOATS + ('int8', 'int16', 'int32', 'int64'),
    grad_samples=unary_grad(), errors=_bad_rank_unary('negative'), out_dtype=lambda d: d)
row('square', R.square, unary_samples(), NUMERIC, grad_samples=unary_grad(), errors=_bad_rank_unary('square'),
    out_dtype=lambda d: d)
row('sqrt', R.sqrt, unary_samples(), FLOATS, grad_samples=unary_grad(pos), errors=_bad_rank_unary('sqrt'),
    out_dtype=same_float)
row('exp', R.exp, unary_samples(), FLOATS, grad_samples=unary_grad(), errors=_bad_rank_unary('exp'),
    out_dtype=same_float)
row('log', R.log, unary_samples(pos), FLOATS, grad_samples=unary_grad(pos), errors=_bad_rank_unary('log'),
    out_dtype=same_float)
row('sin', R.sin, unary_samples(), FLOATS, grad_samples=unary_grad(), errors=_bad_rank_unary('sin'),
    out_dtype=same_float)
row('cos', R.cos, unary_samples(), FLOATS, grad_samples=unary_grad(), errors=_bad_rank_unary('cos'),
    out_dtype=same_float)
row('tanh', R.tanh, unary_samples(), FLOATS, grad_samples=unary_grad(), errors=_bad_rank_unary('tanh'),
    out_dtype=same_float)
row('sigmoid', R.sigmoid, unary_samples(), FLOATS, grad_samples=unary_grad(), errors=_bad_rank_unary('sigmoid'),
    out_dtype=same_float)
row('softplus', R.softplus, unary_samples(), FLOATS, grad_samples=unary_grad(), errors=_bad_rank_unary('softplus'),
    out_dtype=same_float)
row('softsign', R.softsign, unary_samples(), FLOATS, grad_samples=unary_grad(distinct),
    errors=_bad_rank_unary('softsign'), out_dtype=same_float)
row('sign', R.sign, unary_samples(), FLOATS + ('int8', 'int16', 'int32', 'int64'), differentiable=False,
    grad_samples=unary_grad(), errors=_bad_rank_unary('sign'), out_dtype=lambda d: d)
row('round', R.round, unary_samples(), NUMERIC, differentiable=False, grad_samples=unary_grad(),
    errors=_bad_rank_unary('round'), out_dtype=lambda d: d)
row('identity', R.identity, unary_samples(), ALL, grad_samples=unary_grad(),
    errors=[(lambda: K.identity(), TypeError)], out_dtype=lambda d: d)
row('stop_gradient', R.stop_gradient, unary_samples(), ALL, differentiable=False, grad_samples=unary_grad(),
    errors=[(lambda: K.stop_gradient(object()), (TypeError, ValueError))], out_dtype=lambda d: d)
row('print_tensor', R.print_tensor, unary_samples(shapes=[(2, 3)], message='value:'), FLOATS, kind='print',
    grad_samples=unary_grad(message='g'),
    errors=[(lambda: K.print_tensor(_c([1.0]), message=3), TypeError)], out_dtype=lambda d: d)
row('logical_not', R.logical_not, unary_samples(), ALL, differentiable=False, grad_samples=unary_grad(),
    errors=_bad_rank_unary('logical_not'), out_dtype=always('bool'))


def _cast_samples(dtype, rng):
    x = arr((2, 3), dtype, rng, -3, 3)
    return [Sample(x, t) for t in ('float32', 'float64', 'int32', 'int64', 'bool', 'float16', 'uint8')
            if not (dtype in FLOATS and t == 'uint8')] + [Sample(arr((0, 2), dtype, rng), 'float32')]


row('cast', R.cast, _cast_samples, ALL, grad_samples=lambda rng: [Sample(arr((2, 3), 'float64', rng), 'float64')],
    errors=[(lambda: K.cast(_c([1.0]), 'float128'), TypeError), (lambda: K.cast(_c([1.0]), 'complex'), TypeError)])


def _clip_samples(dtype, rng):
    x = arr((3, 4), dtype, rng, -3, 3)
    lo = arr((4,), dtype, rng, -1, 0)
    out = [Sample(x, -1, 1), Sample(x, 0.5, 0.2), Sample(x, None, 1), Sample(x, -1, None),
           Sample(arr((0, 2), dtype, rng), -1, 1), Sample(arr((), dtype, rng), -1, 1)]
    if dtype in FLOATS:
        out.append(Sample(x, lo, lo + 1))
    return out


row('clip', R.clip, _clip_samples, NUMERIC,
    grad_samples=lambda rng: [Sample(distinct((3, 4), 'float64', rng), -0.6, 0.7)],
    errors=[(lambda: K.clip(_c(np.zeros((2, 3))), _c(np.zeros(4)), 1.0), ValueError),
            (lambda: K.clip(_c(np.zeros(3)), 'a', 1.0), TypeError)], out_dtype=lambda d: d)

# binary
row('add', R.add, binary_samples(), NUMERIC, grad_samples=binary_grad(), errors=_bad_broadcast('add'),
    out_dtype=lambda d: d)
row('subtract', R.subtract, binary_samples(), NUMERIC, grad_samples=binary_grad(), errors=_bad_broadcast('subtract'),
    out_dtype=lambda d: d)
row('multiply', R.multiply, binary_samples(), NUMERIC, grad_samples=binary_grad(), errors=_bad_broadcast('multiply'),
    out_dtype=lambda d: d)
row('divide', R.divide, binary_samples(arr, pos), FLOATS, grad_samples=binary_grad(arr, pos),
    errors=_bad_broadcast('divide'), out_dtype=lambda d: d)
row('floordiv', R.floordiv, binary_samples(lambda s, d, r: arr(s, d, r, -5, 5), pos), NUMERIC, differentiable=False,
    grad_samples=binary_grad(arr, pos), errors=_bad_broadcast('floordiv'), out_dtype=lambda d: d)
row('mod', R.mod, binary_samples(lambda s, d, r: arr(s, d, r, -5, 5), pos), NUMERIC, differentiable=False,
    grad_samples=binary_grad(arr, pos), errors=_bad_broadcast('mod'), out_dtype=lambda d: d)


def _pow_samples(dtype, rng):
    x = pos((2, 3), dtype, rng)
    return [Sample(x, 2), Sample(x, 0.5), Sample(x, -1.5), Sample(x, pos((3,), dtype, rng)),
            Sample(arr((2, 3), dtype, rng), 3), Sample(pos((0, 2), dtype, rng), 2.0)]


row('pow', R.pow, _pow_samples, FLOATS,
    grad_samples=lambda rng: [Sample(pos((2, 3), 'float64', rng), 1.7), Sample(pos((2, 3), 'float64', rng), 3),
                              Sample(pos((2, 3), 'float64', rng), pos((3,), 'float64', rng))],
    errors=_bad_broadcast('pow'), out_dtype=lambda d: d)
row('maximum', R.maximum, binary_samples(distinct, distinct), NUMERIC, grad_samples=binary_grad(distinct, distinct),
    errors=_bad_broadcast('maximum'), out_dtype=lambda d: d)
row('minimum', R.minimum, binary_samples(distinct, distinct), NUMERIC, grad_samples=binary_grad(distinct, distinct),
    errors=_bad_broadcast('minimum'), out_dtype=lambda d: d)


def _cmp_samples(dtype, rng):
    out = binary_samples()(dtype, rng)
    x = arr((3, 4), dtype, rng)
    out.append(Sample(x, x.copy()))  # many ties
    return out


for _n in ('equal', 'not_equal', 'greater', 'greater_equal', 'less', 'less_equal'):
    row(_n, getattr(R, _n), _cmp_samples, ALL, differentiable=False, grad_samples=binary_grad(),
        errors=_bad_broadcast(_n), out_dtype=always('bool'))
for _n in ('logical_and', 'logical_or'):
    row(_n, getattr(R, _n), binary_samples(), ALL, differentiable=False, grad_samples=binary_grad(),
        errors=_bad_broadcast(_n), out_dtype=always('bool'))

# reductions
row('sum', R.sum, reduce_samples(), NUMERIC, grad_samples=reduce_grad(),
    errors=[(lambda: K.sum(_c(np.zeros((2, 3))), axis=2), ValueError),
            (lambda: K.sum(_c(np.zeros((2, 3))), axis='a'), TypeError)], out_dtype=same_float)
row('prod', R.prod, reduce_samples(lambda s, d, r: arr(s, d, r, -1.5, 1.5)), NUMERIC, grad_samples=reduce_grad(pos),
    errors=[(lambda: K.prod(_c(np.zeros((2, 3))), axis=-3), ValueError)], out_dtype=same_float)
row('mean', R.mean, reduce_samples(no_empty=True), ALL, grad_samples=reduce_grad(),
    errors=[(lambda: K.mean(_c(np.zeros((2, 3))), axis=5), ValueError)], out_dtype=floatish)
row('var', R.var, reduce_samples(no_empty=True), ALL, grad_samples=reduce_grad(),
    errors=[(lambda: K.var(_c(np.zeros((2, 3))), axis=2), ValueError)], out_dtype=floatish)
row('std', R.std, reduce_samples(no_empty=True), ALL, grad_samples=reduce_grad(distinct),
    errors=[(lambda: K.std(_c(np.zeros((2, 3))), axis=-4), ValueError)], out_dtype=floatish)
row('max', R.max, reduce_samples(distinct, no_empty=True), ALL, grad_samples=reduce_grad(distinct),
    errors=[(lambda: K.max(_c(np.zeros((2, 3))), axis=2), ValueError)], out_dtype=lambda d: d)
row('min', R.min, reduce_samples(distinct, no_empty=True), ALL, grad_samples=reduce_grad(distinct),
    errors=[(lambda: K.min(_c(np.zeros((2, 3))), axis=2), ValueError)], out_dtype=lambda d: d)
row('any', R.any, reduce_samples(), ALL, differentiable=False, grad_samples=reduce_grad(),
    errors=[(lambda: K.any(_c(np.zeros((2, 3))), axis=2), ValueError)], out_dtype=always('bool'))
row('all', R.all, reduce_samples(), ALL, differentiable=False, grad_samples=reduce_grad(),
    errors=[(lambda: K.all(_c(np.zeros((2, 3))), axis=-3), ValueError)], out_dtype=always('bool'))
row('logsumexp', R.logsumexp, reduce_samples(no_empty=True), FLOATS, grad_samples=reduce_grad(),
    errors=[(lambda: K.logsumexp(_c(np.zeros((2, 3))), axis=2), ValueError)], out_dtype=same_float)


def _arg_samples(dtype, rng):
    x = distinct((2, 3, 4), dtype, rng)
    return [Sample(x), Sample(x, 0), Sample(x, 1), Sample(x, -2), Sample(distinct((5,), dtype, rng), 0),
            Sample(distinct((1, 1), dtype, rng)), Sample(np.zeros((2, 3), dtype), 1)]


for _n in ('argmax', 'argmin'):
    row(_n, getattr(R, _n), _arg_samples, NUMERIC, differentiable=False,
        grad_samples=lambda rng: [Sample(distinct((2, 3), 'float64', rng))],
        errors=[(lambda n=_n: getattr(K, n)(_c(np.zeros((2, 3))), axis=2), ValueError),
                (lambda n=_n: getattr(K, n)(_c(np.zeros((2, 3))), axis=[0, 1]), (ValueError, TypeError))],
        out_dtype=always('int64'))


def _cum_samples(dtype, rng):
    x = arr((3, 4), dtype, rng, -1.5, 1.5)
    return [Sample(x), Sample(x, 1), Sample(x, -1),
            Sample(arr((2, 3, 2), dtype, rng, -1.5, 1.5), -2), Sample(arr((0, 3), dtype, rng), 0),
            Sample(arr((5,), dtype, rng, -1.5, 1.5))]


row('cumsum', R.cumsum, _cum_samples, NUMERIC,
    grad_samples=lambda rng: [Sample(arr((3, 4), 'float64', rng)), Sample(arr((3, 4), 'float64', rng), -1)],
    errors=[(lambda: K.cumsum(_c(np.zeros((2, 3))), axis=2), ValueError)], out_dtype=same_float)
row('cumprod', R.cumprod, _cum_samples, NUMERIC,
    grad_samples=lambda rng: [Sample(pos((3, 4), 'float64', rng)), Sample(arr((3, 4), 'float64', rng), -1)],
    errors=[(lambda: K.cumprod(_c(np.zeros((2, 3))), axis=-3), ValueError)], out_dtype=same_float)


# linear algebra
def _dot_samples(dtype, rng):
    pairs = [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (4, 3, 5)), ((2, 3, 4), (5, 4, 6)),
             ((3, 2, 3), (3, 4)), ((4, 2), (5, 2, 3)), ((0, 3), (3, 2)), ((2, 0), (0, 3)), ((1, 1), (1, 1))]
    return [Sample(arr(a, dtype, rng), arr(b, dtype, rng)) for a, b in pairs]


row('dot', R.dot, _dot_samples, NUMERIC, tol={'float16': (3e-2, 3e-2)},
    grad_samples=lambda rng: [Sample(arr(a, 'float64', rng), arr(b, 'float64', rng))
                              for a, b in [((2, 3), (3, 4)), ((2, 3), (4, 3, 2)), ((2, 3, 4), (4, 2))]],
    errors=[(lambda: K.dot(_c(np.zeros((2, 3))), _c(np.zeros((4, 2)))), ValueError)], out_dtype=lambda d: d)


def _matmul_samples(dtype, rng):
    pairs = [((2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (3, 4)), ((2, 1, 2, 3), (4, 3, 2)),
             ((0, 2, 3), (3, 1)), ((1, 1), (1, 1))]
    return [Sample(arr(a, dtype, rng), arr(b, dtype, rng)) for a, b in pairs]


row('matmul', R.matmul, _matmul_samples, NUMERIC, tol={'float16': (3e-2, 3e-2)},
    grad_samples=lambda rng: [Sample(arr(a, 'float64', rng), arr(b, 'float64', rng))
                              for a, b in [((2, 3), (3, 4)), ((2, 2, 3), (3, 2)), ((2, 2, 3), (2, 3, 2))]],
    errors=[(lambda: K.matmul(_c(np.zeros((2, 3))), _c(np.zeros((4, 2)))), ValueError)], out_dtype=lambda d: d)

BATCH_DOT_CASES = [((4, 2, 3), (4, 5, 3), (2, 2)), ((4, 2, 3), (4, 3), (2, 1)), ((4, 2), (4, 2, 3), (1, 1)),
                   ((3, 5), (3, 5), 1), ((3, 3, 4, 5), (3, 2, 3, 4), (2, 3)), ((3, 3, 4, 5), (3, 2, 4), 2),
                   ((3, 3, 4), (3, 2, 3, 4), (2, 3)), ((3, 4, 3), (3, 3, 5), (2, 1)), ((3, 4), (3, 3, 4), (1, 2)),
                   ((3, 4), (3, 4), None), ((3, 3, 4), (3, 4, 5), None), ((2, 5, 1), (2, 3, 5), (1, 2)),
                   ((3, 3, 4), (3, 5, 4), (-1, -1)), ((0, 2, 3), (0, 3, 2), (2, 1))]


def _bd_samples(dtype, rng):
    return [Sample(arr(a, dtype, rng), arr(b, dtype, rng), axes=ax) for a, b, ax in BATCH_DOT_CASES]


row('batch_dot', R.batch_dot, _bd_samples, FLOATS + ('int32', 'int64'), tol={'float16': (3e-2, 3e-2)},
    grad_samples=lambda rng: [Sample(arr(a, 'float64', rng), arr(b, 'float64', rng), axes=ax)
                              for a, b, ax in BATCH_DOT_CASES[:5] + BATCH_DOT_CASES[9:11]],
    errors=[(lambda: K.batch_dot(_c(np.zeros((2, 3))), _c(np.zeros((2, 3))), axes=0), ValueError),
            (lambda: K.batch_dot(_c(np.zeros((3,))), _c(np.zeros((3, 3)))), ValueError),
            (lambda: K.batch_dot(_c(np.zeros((2, 3))), _c(np.zeros((4, 3)))), ValueError),
            (lambda: K.batch_dot(_c(np.zeros((2, 3, 4))), _c(np.zeros((2, 5, 4))), axes=(2, 1)), ValueError),
            (lambda: K.batch_dot(_c(np.zeros((2, 3, 4))), _c(np.zeros((2, 4, 4))), axes=[[1], [2]]), ValueError)],
    out_dtype=lambda d: d)
row('transpose', R.transpose, unary_samples(shapes=[(), (3,), (2, 3), (2, 3, 4), (0, 2), (1, 1)]), ALL,
    grad_samples=lambda rng: [Sample(arr((2, 3, 4), 'float64', rng))],
    errors=[(lambda: K.transpose('x'), (TypeError, ValueError))], out_dtype=lambda d: d)


# shape ops
def _reshape_samples(dtype, rng):
    x = arr((2, 3, 4), dtype, rng)
    return [Sample(x, (6, 4)), Sample(x, (-1,)), Sample(x, (4, -1, 2)), Sample(x, [24, 1]),
            Sample(arr((0, 3), dtype, rng), (3, 0)), Sample(arr((), dtype, rng), (1, 1))]


row('reshape', R.reshape, _reshape_samples, ALL,
    grad_samples=lambda rng: [Sample(arr((2, 3, 4), 'float64', rng), (4, 6))],
    errors=[(lambda: K.reshape(_c(np.zeros((2, 3))), (4, 2)), ValueError),
            (lambda: K.reshape(_c(np.zeros((2, 3))), (-1, -1)), ValueError)], out_dtype=lambda d: d)


def _perm_samples(dtype, rng):
    x = arr((2, 3, 4), dtype, rng)
    return [Sample(x, (2, 0, 1)), Sample(x, [0, 2, 1]), Sample(x, (0, 1, 2)),
            Sample(arr((0, 3), dtype, rng), (1, 0)), Sample(arr((1, 2, 1, 3), dtype, rng), (3, 1, 0, 2))]


row('permute_dimensions', R.permute_dimensions, _perm_samples, ALL,
    grad_samples=lambda rng: [Sample(arr((2, 3, 4), 'float64', rng), (2, 0, 1))],
    errors=[(lambda: K.permute_dimensions(_c(np.zeros((2, 3))), (0, 0)), ValueError),
            (lambda: K.permute_dimensions(_c(np.zeros((2, 3))), (0, 1, 2)), ValueError)], out_dtype=lambda d: d)


def _expand_samples(dtype, rng):
    x = arr((2, 3), dtype, rng)
    return [Sample(x), Sample(x, 0), Sample(x, 1), Sample(x, -1), Sample(x, -3), Sample(arr((), dtype, rng), 0),
            Sample(arr((0,), dtype, rng), 1)]


row('expand_dims', R.expand_dims, _expand_samples, ALL,
    grad_samples=lambda rng: [Sample(arr((2, 3), 'float64', rng), 1)],
    errors=[(lambda: K.expand_dims(_c(np.zeros((2, 3))), 4), ValueError)], out_dtype=lambda d: d)


def _squeeze_samples(dtype, rng):
    x = arr((2, 1, 3, 1), dtype, rng)
    return [Sample(x, 1), Sample(x, -1), Sample(x, 3), Sample(arr((1,), dtype, rng), 0),
            Sample(arr((0, 1), dtype, rng), 1)]


row('squeeze', R.squeeze, _squeeze_samples, ALL,
    grad_samples=lambda rng: [Sample(arr((2, 1, 3), 'float64', rng), 1)],
    errors=[(lambda: K.squeeze(_c(np.zeros((2, 3))), 0), ValueError),
            (lambda: K.squeeze(_c(np.zeros((2, 1))), 2), ValueError)], out_dtype=lambda d: d)
row('shape', R.shape, unary_samples(shapes=[(), (3,), (2, 3), (0, 4, 1)]), ALL, differentiable=False,
    grad_samples=unary_grad(), errors=[(lambda: K.shape(), TypeError)], out_dtype=always('int32'))


def _like_samples(dtype, rng):
    return [Sample(arr(s, dtype, rng)) for s in [(2, 3), (), (0, 2)]] + \
        [Sample(arr((2, 3), dtype, rng), dtype='int32'), Sample(arr((2, 3), dtype, rng), dtype='float64')]


row('zeros_like', R.zeros_like, _like_samples, ALL, differentiable=False, grad_samples=unary_grad(),
    errors=[(lambda: K.zeros_like(_c([1.0]), dtype='nope'), TypeError)])
row('ones_like', R.ones_like, _like_samples, ALL, differentiable=False, grad_samples=unary_grad(),
    errors=[(lambda: K.ones_like(_c([1.0]), dtype='nope'), TypeError)])


def _onehot_samples(dtype, rng):
    return [Sample(np.array([[0, 2], [1, 3]], dtype), 3), Sample(np.array([0, 1, 2, 1], dtype), 4),
            Sample(np.array([[1], [0]], dtype), 2), Sample(np.zeros((0,), dtype), 3)]


row('one_hot', R.one_hot, _onehot_samples, ('int32', 'int64', 'uint8'), differentiable=False,
    grad_samples=lambda rng: [Sample(np.array([0, 1], 'int32'), 2)],
    errors=[(lambda: K.one_hot(_c([0, 1], 'int32'), -2), ValueError)], out_dtype=always('float32'),
    permutable=False)


# nn
RELU_KW = [{}, {'alpha': 0.1}, {'max_value': 5.0}, {'threshold': 0.8}, {'alpha': 0.1, 'max_value': 5.0, 'threshold': 0.8},
           {'alpha': 0.1, 'max_value': 0.0, 'threshold': 0.8}, {'alpha': 0.1, 'max_value': 5.0, 'threshold': -2.8},
           {'threshold': -2.8}, {'alpha': 0.1, 'max_value': 6.0}]


def _relu_samples(dtype, rng):
    x = arr((3, 4), dtype, rng, -8, 8)
    kws = RELU_KW if dtype in FLOATS else [kw for kw in RELU_KW if not kw.get('alpha')]  # leaky int -> float
    return [Sample(x, **kw) for kw in kws] + [Sample(arr(s, dtype, rng)) for s in [(), (0, 2), (2, 1, 3)]]


row('relu', R.relu, _relu_samples, FLOATS + ('int32', 'int64'),
    grad_samples=lambda rng: [Sample(distinct((3, 4), 'float64', rng) * 4 + 0.013, **kw) for kw in RELU_KW],
    errors=[(lambda: K.relu(_c([1.0]), alpha='a'), TypeError)], out_dtype=lambda d: d)


def _softmax_samples(dtype, rng):
    return [Sample(arr((2, 5), dtype, rng)), Sample(arr((2, 3, 4), dtype, rng), axis=1),
            Sample(arr((2, 3, 4), dtype, rng), axis=0), Sample(arr((4,), dtype, rng)),
            Sample(arr((3, 1), dtype, rng)), Sample(arr((0, 3), dtype, rng))]


row('softmax', R.softmax, _softmax_samples, FLOATS,
    grad_samples=lambda rng: [Sample(arr((2, 4), 'float64', rng)), Sample(arr((2, 3, 2), 'float64', rng), axis=1)],
    errors=[(lambda: K.softmax(_c(np.zeros((2, 3))), axis=2), ValueError)], out_dtype=lambda d: d)


def _bias_samples(dtype, rng):
    return [Sample(arr((2, 3), dtype, rng), arr((3,), dtype, rng)),
            Sample(arr((2, 4, 3), dtype, rng), arr((3,), dtype, rng)),
            Sample(arr((2, 3, 4), dtype, rng), arr((3,), dtype, rng), data_format='channels_first'),
            Sample(arr((2, 4, 5, 3), dtype, rng), arr((3,), dtype, rng), data_format='channels_last'),
            Sample(arr((2, 3, 4, 5), dtype, rng), arr((3,), dtype, rng), data_format='channels_first'),
            Sample(arr((1, 3, 2), dtype, rng), arr((2, 3), dtype, rng), data_format='channels_first'),
            Sample(arr((2, 4, 3), dtype, rng), arr((4, 3), dtype, rng), data_format='channels_last'),
            Sample(arr((2, 2, 2, 2, 3), dtype, rng), arr((3,), dtype, rng))]


row('bias_add', R.bias_add, _bias_samples, FLOATS + ('int32',), permutable=False,
    grad_samples=lambda rng: [Sample(arr((2, 4, 3), 'float64', rng), arr((3,), 'float64', rng)),
                              Sample(arr((2, 3, 4), 'float64', rng), arr((3,), 'float64', rng),
                                     data_format='channels_first')],
    errors=[(lambda: K.bias_add(_c(np.zeros((2, 3))), _c(np.zeros((4,)))), ValueError),
            (lambda: K.bias_add(_c(np.zeros((2, 3, 4))), _c(np.zeros((2, 2, 2, 2)))), ValueError),
            (lambda: K.bias_add(_c(np.zeros((2, 3))), _c(np.zeros((3,))), data_format='channels_middle'), ValueError)],
    out_dtype=lambda d: d)


def _probs(shape, dtype, rng, axis=-1):
    p = rng.uniform(0.05, 1.0, size=shape)
    return (p / p.sum(axis, keepdims=True)).astype(dtype)


def _onehot_t(shape, dtype, rng, axis=-1):
    n = shape[axis]
    idx = rng.integers(0, n, size=shape[:axis % len(shape)] + shape[axis % len(shape) + 1:])
    return np.moveaxis(np.eye(n)[idx], -1, axis).astype(dtype)


def _cce_samples(dtype, rng):
    return [Sample(_onehot_t((4, 3), dtype, rng), _probs((4, 3), dtype, rng)),
            Sample(_probs((4, 3), dtype, rng), _probs((4, 3), dtype, rng) * 2),
            Sample(_onehot_t((4, 3), dtype, rng), arr((4, 3), dtype, rng), from_logits=True),
            Sample(_onehot_t((2, 3, 4), dtype, rng, 1), _probs((2, 3, 4), dtype, rng, 1), axis=1),
            Sample(_onehot_t((2, 3, 4), dtype, rng, 1), arr((2, 3, 4), dtype, rng), from_logits=True, axis=1),
            Sample(_onehot_t((5,), dtype, rng), _probs((5,), dtype, rng))]


row('categorical_crossentropy', R.categorical_crossentropy, _cce_samples, FLOATS,
    grad_samples=lambda rng: [Sample(_probs((3, 4), 'float64', rng), _probs((3, 4), 'float64', rng)),
                              Sample(_probs((3, 4), 'float64', rng), arr((3, 4), 'float64', rng), from_logits=True),
                              Sample(_probs((2, 3, 2), 'float64', rng, 1), arr((2, 3, 2), 'float64', rng),
                                     from_logits=True, axis=1)],
    errors=[(lambda: K.categorical_crossentropy(_c(np.zeros((2, 3))), _c(np.zeros((2, 4)))), ValueError),
            (lambda: K.categorical_crossentropy(_c(np.zeros((2, 3))), _c(np.zeros((2, 3))), axis=2), ValueError)],
    out_dtype=lambda d: d)


def _scce_samples(dtype, rng):
    return [Sample(rng.integers(0, 3, size=(4,)).astype(dtype), _probs((4, 3), dtype, rng)),
            Sample(rng.integers(0, 3, size=(4, 1)).astype(dtype), _probs((4, 3), dtype, rng)),
            Sample(rng.integers(0, 3, size=(2, 5)).astype(dtype), _probs((2, 5, 3), dtype, rng)),
            Sample(rng.integers(0, 3, size=(2, 5, 1)).astype(dtype), _probs((2, 5, 3), dtype, rng)),
            Sample(rng.integers(0, 3, size=(4,)).astype(dtype), arr((4, 3), dtype, rng), from_logits=True),
            Sample(rng.integers(0, 3, size=(2, 4)).astype(dtype), _probs((2, 3, 4), dtype, rng, 1), axis=1),
            Sample(rng.integers(0, 3, size=(4,)).astype(dtype), _probs((4, 3), dtype, rng) * 3)]


row('sparse_categorical_crossentropy', R.sparse_categorical_crossentropy, _scce_samples, FLOATS,
    grad_samples=lambda rng: [Sample(np.array([0., 2., 1.]), _probs((3, 4), 'float64', rng)),
                              Sample(np.array([0., 2., 1.]), arr((3, 4), 'float64', rng), from_logits=True)],
    errors=[(lambda: K.sparse_categorical_crossentropy(_c(np.zeros((2, 3))), _c(np.zeros((4, 3)))), ValueError),
            (lambda: K.sparse_categorical_crossentropy(_c(np.zeros((2,))), _c(np.zeros((2, 3))), axis=3), ValueError)],
    out_dtype=lambda d: d, permutable=False, grad_wrt=(1,))


def _bce_samples(dtype, rng):
    return [Sample(arr((3, 4), dtype, rng, 0, 1), arr((3, 4), dtype, rng, 0.05, 0.95)),
            Sample(arr((3, 4), dtype, rng, 0, 1), arr((3, 4), dtype, rng, -4, 4), from_logits=True),
            Sample(np.array([1, 1, 0, .3], dtype), np.array([0, .9, .2, .6], dtype)),
            Sample(arr((5,), dtype, rng, 0, 1), arr((5,), dtype, rng, 0.05, 0.95))]


row('binary_crossentropy', R.binary_crossentropy, _bce_samples, ('float32', 'float64'),
    grad_samples=lambda rng: [Sample(arr((3, 4), 'float64', rng, 0, 1), arr((3, 4), 'float64', rng, 0.1, 0.9)),
                              Sample(arr((3, 4), 'float64', rng, 0, 1), arr((3, 4), 'float64', rng, -3, 3),
                                     from_logits=True)],
    errors=[(lambda: K.binary_crossentropy(_c(np.zeros((2, 3))), _c(np.zeros((4, 3)))), ValueError)],
    out_dtype=lambda d: d)


# variable updates: the first argument is a variable; the ref gives the new value
def _upd_samples(dtype, rng):
    return [Sample(arr((2, 3), dtype, rng), arr((2, 3), dtype, rng)), Sample(arr((), dtype, rng), arr((), dtype, rng)),
            Sample(arr((3,), dtype, rng), arr((3,), dtype, rng))]


def _upd_errors(name):
    return [(lambda: getattr(K, name)(K.variable(np.zeros((2, 3))), np.zeros((4, 3), 'float32')), ValueError),
            (lambda: getattr(K, name)(_c(np.zeros(3)), np.zeros(3, 'float32')), (TypeError, ValueError))]


for _n in ('update', 'update_add', 'update_sub'):
    row(_n, getattr(R, _n), _upd_samples, NUMERIC, differentiable=False, kind='update', errors=_upd_errors(_n),
        out_dtype=lambda d: d)


def _mau_samples(dtype, rng):
    return [Sample(arr((2, 3), dtype, rng), arr((2, 3), dtype, rng), 0.9),
            Sample(np.array(10, dtype), np.array(2, dtype), 0.9), Sample(arr((3,), dtype, rng), arr((3,), dtype, rng), 0.0)]


row('moving_average_update', R.moving_average_update, _mau_samples, FLOATS, differentiable=False, kind='update',
    errors=[(lambda: K.moving_average_update(K.variable(np.zeros((2, 3))), np.zeros((4,), 'float32'), 0.9), ValueError),
            (lambda: K.moving_average_update(_c(np.zeros(3)), np.zeros(3, 'float32'), 0.9), (TypeError, ValueError))],
    out_dtype=lambda d: d)

OP_BY_NAME = {o.name: o for o in OPS}
assert len(OP_BY_NAME) == len(OPS), 'duplicate rows in op_table'
