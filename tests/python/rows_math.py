"""Table rows: elementwise math, comparisons, casts, reductions and scans."""
import numpy as np

from keras_cpp import backend as K

import reference as R
from op_info import *  # noqa: F401,F403  (the table's vocabulary)

ROWS = []


def row(*args, **kwargs):
    ROWS.append(OpInfo(*args, **kwargs))



def _bad_rank_unary(name):
    """A malformed call shared by all elementwise unary ops: a string where a tensor goes."""
    return [(lambda: getattr(K, name)('not a tensor'), (TypeError, ValueError))]


def _bad_broadcast(name):
    return [(lambda: getattr(K, name)(c(np.zeros((2, 3))), c(np.zeros((4,)))), ValueError)]


UNARY_NA = dict(ONE_INPUT, **NO_AXIS)
SIGNED = FLOATS + ('int8', 'int16', 'int32', 'int64')


def unary(name, dtypes, maker=arr, grad_maker=arr, out_dtype=keep, big_maker=None, **kw):
    """An elementwise unary op: the shared shapes, a 256x300 parallel-size input."""
    row(name, getattr(R, name), unary_samples(maker), dtypes, grad_samples=unary_grad(grad_maker),
        errors=kw.pop('errors', _bad_rank_unary(name)), out_dtype=out_dtype, na=UNARY_NA,
        big=big_unary(big_maker or (maker if grad_maker is arr else grad_maker)), **kw)


# elementwise unary math
unary('abs', NUMERIC, grad_maker=distinct, big_maker=away)
unary('negative', SIGNED)
unary('square', NUMERIC)
unary('sqrt', FLOATS, grad_maker=pos, out_dtype=same_float)
unary('exp', FLOATS, out_dtype=same_float)
unary('log', FLOATS, maker=pos, grad_maker=pos, out_dtype=same_float)
unary('sin', FLOATS, out_dtype=same_float)
unary('cos', FLOATS, out_dtype=same_float)
unary('tanh', FLOATS, out_dtype=same_float)
unary('sigmoid', FLOATS, out_dtype=same_float)
unary('softplus', FLOATS, out_dtype=same_float)
unary('softsign', FLOATS, grad_maker=distinct, out_dtype=same_float, big_maker=away)
unary('sign', SIGNED, differentiable=False)
unary('round', NUMERIC, differentiable=False)
unary('identity', ALL, errors=[(lambda: K.identity(), TypeError)])
row('stop_gradient', R.stop_gradient, unary_samples(), ALL, differentiable=False, grad_samples=unary_grad(),
    errors=[(lambda: K.stop_gradient(object()), (TypeError, ValueError))], out_dtype=keep,
    na=dict(UNARY_NA, parallel='passes its input\'s buffer on: no kernel runs'))
unary('logical_not', ALL, differentiable=False, out_dtype=always('bool'))
row('print_tensor', R.print_tensor, unary_samples(shapes=[(2, 3), (0, 1)], message='value:'), FLOATS, kind='print',
    grad_samples=unary_grad(message='g'),
    errors=[(lambda: K.print_tensor(c([1.0]), message=3), TypeError)], out_dtype=keep, na=dict(
        UNARY_NA, parallel='prints the tensor: its kernel is identity (covered by identity)'))


def _cast_samples(dtype, rng):
    x = arr((2, 3), dtype, rng, -3, 3)
    return [Sample(x, t) for t in ('float32', 'float64', 'int32', 'int64', 'bool', 'float16', 'uint8')
            if not (dtype in FLOATS and t == 'uint8')] + [Sample(arr((0, 2), dtype, rng), 'float32'),
                                                          Sample(arr((1, 3), dtype, rng), 'int32')]


row('cast', R.cast, _cast_samples, ALL, grad_samples=lambda rng: [Sample(arr((2, 3), 'float64', rng), 'float64')],
    errors=[(lambda: K.cast(c([1.0]), 'float128'), TypeError), (lambda: K.cast(c([1.0]), 'complex'), TypeError)],
    na=UNARY_NA, big=lambda rng: [Sample(arr((256, 300), 'float64', rng), 'float64'),
                                  Sample(arr((256, 300), 'float64', rng), 'float16').tag('nograd')])


def _clip_samples(dtype, rng):
    x = arr((3, 4), dtype, rng, -3, 3)
    lo = arr((4,), dtype, rng, -1, 0)
    out = [Sample(x, -1, 1), Sample(x, 0.5, 0.2), Sample(x, None, 1), Sample(x, -1, None),
           Sample(arr((0, 2), dtype, rng), -1, 1), Sample(arr((), dtype, rng), -1, 1),
           Sample(arr((1, 4), dtype, rng), 0, 1)]
    if dtype in FLOATS:
        out.append(Sample(x, lo, lo + 1))
    return out


row('clip', R.clip, _clip_samples, NUMERIC,
    grad_samples=lambda rng: [Sample(distinct((3, 4), 'float64', rng), -0.6, 0.7)],
    errors=[(lambda: K.clip(c(np.zeros((2, 3))), c(np.zeros(4)), 1.0), ValueError),
            (lambda: K.clip(c(np.zeros(3)), 'a', 1.0), TypeError)], out_dtype=keep, na=NO_AXIS,
    big=lambda rng: [Sample(away((256, 300), 'float64', rng, (-1, 1)), -1, 1),
                     Sample(away((256, 300), 'float64', rng, (-0.5, 0.5)), -0.5, 0.5)])


def binary(name, dtypes, mx=arr, my=arr, out_dtype=keep, samples=None, **kw):
    """A broadcasting binary op: the shared shape pairs, 256x300 with 256x300 and with (300,)."""
    row(name, getattr(R, name), samples or binary_samples(mx, my), dtypes, grad_samples=binary_grad(mx, my),
        errors=_bad_broadcast(name), out_dtype=out_dtype, na=NO_AXIS, big=kw.pop('big', big_binary(mx, my)), **kw)


def wide(s, d, r):
    return arr(s, d, r, -5, 5)


binary('add', NUMERIC)
binary('subtract', NUMERIC)
binary('multiply', NUMERIC)
binary('divide', FLOATS, my=pos)
binary('floordiv', NUMERIC, mx=wide, my=pos, differentiable=False)
binary('mod', NUMERIC, mx=wide, my=pos, differentiable=False)
binary('maximum', NUMERIC, mx=distinct, my=distinct, big=big_binary())
binary('minimum', NUMERIC, mx=distinct, my=distinct, big=big_binary())


def _pow_samples(dtype, rng):
    x = pos((2, 3), dtype, rng)
    return [Sample(x, 2), Sample(x, 0.5), Sample(x, -1.5), Sample(x, pos((3,), dtype, rng)),
            Sample(arr((2, 3), dtype, rng), 3), Sample(pos((0, 2), dtype, rng), 2.0),
            Sample(pos((1, 3), dtype, rng), pos((2, 1), dtype, rng))]


row('pow', R.pow, _pow_samples, FLOATS,
    grad_samples=lambda rng: [Sample(pos((2, 3), 'float64', rng), 1.7), Sample(pos((2, 3), 'float64', rng), 3),
                              Sample(pos((2, 3), 'float64', rng), pos((3,), 'float64', rng))],
    errors=_bad_broadcast('pow'), out_dtype=keep, na=NO_AXIS,
    big=lambda rng: [Sample(pos((256, 300), 'float64', rng), 1.7),
                     Sample(pos((256, 300), 'float64', rng), pos((300,), 'float64', rng))])


def _cmp_samples(dtype, rng):
    out = binary_samples()(dtype, rng)
    x = arr((3, 4), dtype, rng)
    out.append(Sample(x, x.copy()))  # many ties
    return out


for _n in ('equal', 'not_equal', 'greater', 'greater_equal', 'less', 'less_equal'):
    binary(_n, ALL, samples=_cmp_samples, differentiable=False, out_dtype=always('bool'))
for _n in ('logical_and', 'logical_or'):
    binary(_n, ALL, differentiable=False, out_dtype=always('bool'))


# reductions
def near1(shape, dtype, rng):
    return arr(shape, dtype, rng, 0.9, 1.1)


def big_reduce(maker=arr):
    """Rows of 300 (one chunk per group of rows), 256-column blocks down axis 0, a middle axis."""
    return lambda rng: [Sample(maker((256, 300), 'float64', rng), axis=-1),
                        Sample(maker((300, 512), 'float64', rng), axis=0),
                        Sample(maker((64, 40, 30), 'float64', rng), axis=1, keepdims=True)]


def reduction(name, maker, dtypes, out_dtype, grad_maker=None, big_maker=arr, **kw):
    row(name, getattr(R, name), reduce_samples(maker), dtypes, grad_samples=reduce_grad(grad_maker or maker),
        out_dtype=out_dtype, na=ONE_INPUT, big=big_reduce(big_maker), **kw)


def _bad_axis(name, axis):
    return [(lambda: getattr(K, name)(c(np.zeros((2, 3))), axis=axis), ValueError, 'axis')]


reduction('sum', arr, NUMERIC, same_float,
          errors=_bad_axis('sum', 2) + [(lambda: K.sum(c(np.zeros((2, 3))), axis='a'), TypeError)])
reduction('prod', lambda s, d, r: arr(s, d, r, -1.5, 1.5), NUMERIC, same_float, grad_maker=pos, big_maker=near1,
          errors=_bad_axis('prod', -3))
reduction('mean', arr, ALL, floatish, errors=_bad_axis('mean', 5))
reduction('var', arr, ALL, floatish, errors=_bad_axis('var', 2))
reduction('std', arr, ALL, floatish, grad_maker=distinct, errors=_bad_axis('std', -4))
reduction('max', distinct, ALL, keep, errors=_bad_axis('max', 2))
reduction('min', distinct, ALL, keep, errors=_bad_axis('min', 2))
reduction('any', arr, ALL, always('bool'), differentiable=False, errors=_bad_axis('any', 2))
reduction('all', arr, ALL, always('bool'), differentiable=False, errors=_bad_axis('all', -3))
reduction('logsumexp', arr, FLOATS, same_float, errors=_bad_axis('logsumexp', 2))


def _arg_samples(dtype, rng):
    x = distinct((2, 3, 4), dtype, rng)
    return [Sample(x), Sample(x, 0), Sample(x, 1), Sample(x, -2).tag('negative_axis'),
            Sample(distinct((5,), dtype, rng), 0), Sample(distinct((1, 1), dtype, rng)),
            Sample(np.zeros((2, 3), dtype), 1), Sample(distinct((0, 3), dtype, rng), 1)]


for _n in ('argmax', 'argmin'):
    row(_n, getattr(R, _n), _arg_samples, NUMERIC, differentiable=False,
        grad_samples=lambda rng: [Sample(distinct((2, 3), 'float64', rng))],
        errors=[(lambda n=_n: getattr(K, n)(c(np.zeros((2, 3))), axis=2), ValueError),
                (lambda n=_n: getattr(K, n)(c(np.zeros((2, 3))), axis=[0, 1]), (ValueError, TypeError))],
        out_dtype=always('int64'), na=ONE_INPUT,
        big=lambda rng: [Sample(arr((256, 300), 'float64', rng), -1), Sample(arr((300, 512), 'float64', rng), 0)])


def _cum_samples(dtype, rng):
    x = arr((3, 4), dtype, rng, -1.5, 1.5)
    return [Sample(x), Sample(x, 1), Sample(x, -1).tag('negative_axis'),
            Sample(arr((2, 3, 2), dtype, rng, -1.5, 1.5), -2), Sample(arr((0, 3), dtype, rng), 0),
            Sample(arr((5,), dtype, rng, -1.5, 1.5)), Sample(arr((1, 4), dtype, rng, -1.5, 1.5), 1)]


def _big_cum(rng):
    return [Sample(near1((256, 300), 'float64', rng), -1), Sample(near1((40, 30, 64), 'float64', rng), 1)]


row('cumsum', R.cumsum, _cum_samples, NUMERIC,
    grad_samples=lambda rng: [Sample(arr((3, 4), 'float64', rng)), Sample(arr((3, 4), 'float64', rng), -1)],
    errors=[(lambda: K.cumsum(c(np.zeros((2, 3))), axis=2), ValueError)], out_dtype=same_float, na=ONE_INPUT,
    big=_big_cum)
row('cumprod', R.cumprod, _cum_samples, NUMERIC,
    grad_samples=lambda rng: [Sample(pos((3, 4), 'float64', rng)), Sample(arr((3, 4), 'float64', rng), -1)],
    errors=[(lambda: K.cumprod(c(np.zeros((2, 3))), axis=-3), ValueError)], out_dtype=same_float, na=ONE_INPUT,
    big=_big_cum)
