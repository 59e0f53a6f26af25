"""Table rows: arange and the random ops. A random row's reference is a checker of the drawn
values (reference_random.py); the sweep also checks that a seed gives the same numbers in a fresh
graph, and the parallel sweep that they are the same at every thread count."""
import numpy as np

from keras_cpp import backend as K

import reference as R
from op_info import *  # noqa: F401,F403  (the table's vocabulary)

ROWS = []

RANDOM_NA = dict(NO_AXIS, broadcast='the parameters are scalars: nothing broadcasts',
                 noncontig='takes a shape and scalar parameters, no array',
                 gradient='fresh numbers on each call, so no finite differences; test_random.py checks the '
                          'parameter gradients and the dropout mask gradient by hand')


def row(*args, **kwargs):
    kwargs.setdefault('kind', 'random')
    kwargs.setdefault('differentiable', False)
    kwargs.setdefault('na', RANDOM_NA)
    ROWS.append(OpInfo(*args, **kwargs))


def shapes(*extra):
    """Samples for shapes: a large draw (moments), an empty and a size-1 one, a scalar."""
    return [Sample((200, 200), *extra, seed=1), Sample((0, 3), *extra, seed=2).tag('empty'),
            Sample((1, 1), *extra, seed=3).tag('size1'), Sample((), *extra, seed=4), Sample([2, np.int64(3)], *extra)]


def big_draw(*extra):
    """256 x 300 draws: above the 2 x 2048 blocks of 4 numbers that split the Philox loop."""
    return lambda rng: [Sample((256, 300), *extra, seed=7)]


def _uniform_samples(dtype, rng):
    if dtype in INTS:
        return [Sample((200, 200), 2, 7, dtype=dtype, seed=4), Sample((3,), 0, 1, dtype=dtype, seed=5)]
    out = [Sample(*s.args, dtype=dtype, **s.kwargs).tag(*s.tags) for s in shapes(-1.0, 3.0)]
    return out + [Sample((1000,), np.array(2.0, dtype), np.array(4.0, dtype), dtype=dtype, seed=6)]


row('random_uniform', R.random_uniform, _uniform_samples, FLOATS + ('int32', 'int64', 'uint8'),
    errors=[(lambda: K.random_uniform((2,), dtype='bool'), TypeError),
            (lambda: K.random_uniform((2,), 0, 0.5, dtype='int32'), ValueError, 'integer'),
            (lambda: K.random_uniform((2, -1)), ValueError, 'invalid dimension'),
            (lambda: K.random_uniform(K.placeholder(shape=(2, 2), dtype='int32')), ValueError, '1-D'),
            (lambda: K.random_uniform((2,), dtype='int42'), TypeError, 'Unknown dtype')],
    big=big_draw(-1.0, 3.0))


def _normal_samples(dtype, rng):
    return [Sample(*s.args, dtype=dtype, **s.kwargs).tag(*s.tags) for s in shapes(1.5, 2.0)] + [
        Sample((1000,), np.array(0.5, dtype), np.array(2.0, dtype), dtype=dtype, seed=8)]


row('random_normal', R.random_normal, _normal_samples, FLOATS,
    errors=[(lambda: K.random_normal((2, 3), dtype='int32'), TypeError, 'dtype'),
            (lambda: K.random_normal((2, None)), TypeError, 'entries'), (lambda: K.random_normal((2, 1.5)), TypeError, 'entries'),
            (lambda: K.random_normal(K.constant([2., 3.])), TypeError, 'integer dtype'),
            (lambda: K.random_normal('ab'), TypeError)],
    big=big_draw(1.5, 2.0))
row('truncated_normal', R.truncated_normal,
    lambda dtype, rng: [Sample(*s.args, dtype=dtype, **s.kwargs).tag(*s.tags) for s in shapes(-1.0, 3.0)], FLOATS,
    errors=[(lambda: K.truncated_normal((2,), dtype='bool'), TypeError, 'dtype')], big=big_draw(-1.0, 3.0))
row('random_binomial', R.random_binomial,
    lambda dtype, rng: [Sample(*s.args, dtype=dtype, **s.kwargs).tag(*s.tags) for s in shapes(0.5)] + [
        Sample((50, 3), 0.0, dtype=dtype, seed=9), Sample((50, 3), 1.0, dtype=dtype, seed=9),
        Sample((1000,), np.array(0.25, 'float32'), dtype=dtype, seed=10)], FLOATS + ('int32', 'bool'),
    errors=[(lambda: K.random_binomial((2,), p='x'), TypeError, 'p')], big=big_draw(0.5))
row('random_uniform_variable', R.random_uniform_variable,
    lambda dtype, rng: [Sample(*s.args, dtype=dtype, **s.kwargs).tag(*s.tags) for s in shapes(-2.0, 2.0)], FLOATS,
    errors=[(lambda: K.random_uniform_variable((2,), 0, 1, dtype='int42'), TypeError, 'dtype')], big=big_draw(-2.0, 2.0))
row('random_normal_variable', R.random_normal_variable,
    lambda dtype, rng: [Sample(*s.args, dtype=dtype, **s.kwargs).tag(*s.tags) for s in shapes(1.0, 3.0)], FLOATS,
    errors=[(lambda: K.random_normal_variable((2, -3), 0, 1), ValueError, 'invalid dimension')], big=big_draw(1.0, 3.0))


def _dropout_samples(dtype, rng):
    x = pos((100, 100), dtype, rng)
    return [Sample(x, 0.5, seed=21), Sample(x, 0.2, seed=22), Sample(pos((4, 5), dtype, rng), 0.5, (4, 1), 23),
            Sample(pos((6, 3, 4), dtype, rng), 0.5, [6, 1, 4], 24), Sample(pos((0, 3), dtype, rng), 0.3, seed=25),
            Sample(pos((1, 4), dtype, rng), 0.5, seed=28),
            Sample(pos((2, 3), dtype, rng), 0.0, seed=26)]


row('dropout', R.dropout, _dropout_samples, FLOATS,
    errors=[(lambda: K.dropout(K.ones((3,)), 1.0), ValueError, 'level'), (lambda: K.dropout(K.ones((3,)), -0.5), ValueError, 'level'),
            (lambda: K.dropout(K.ones((3,)), float('nan')), ValueError, 'level'),
            (lambda: K.dropout(K.ones((4, 1)), 0.5, noise_shape=(4, 5)), ValueError, 'noise_shape'),
            (lambda: K.dropout(c([1, 2], 'int32'), 0.5), TypeError, 'x must be a float')],
    na=dict(NO_AXIS, gradient=RANDOM_NA['gradient'], broadcast='the mask broadcasts along noise_shape\'s 1-axes: the '
            'noise_shape samples (size1 layout) cover it'),
    big=lambda rng: [Sample(pos((256, 300), 'float64', rng), 0.3, seed=27)])


# ---------------------------------------------------------------- arange (deterministic)
def _arange_samples(dtype, rng):
    cases = [((5,), {}), ((0,), {}), ((-3,), {}), ((2, 10, 3), {}), ((10, 2, -3), {}), ((5, 2), {}), ((1,), {}),
             ((0., 1., .25), {}), ((0, 5), {'dtype': dtype}), ((3,), {'dtype': dtype})]
    out = [Sample(*a, **kw).tag(*(['empty'] if a in ((0,), (-3,), (5, 2)) else []) + (['size1'] if a == (1,) else []))
           for a, kw in cases]
    return out + [Sample(np.array(5, 'int32')), Sample(np.array(1, 'int32'), np.array(7, 'int32'), 2, dtype=dtype)]


row('arange', R.arange, _arange_samples, ('int32', 'int64', 'float32', 'float64', 'uint8'), kind='pure',
    grad_samples=lambda rng: [Sample(np.array(3.0), 10., 1.)],
    errors=[(lambda: K.arange(0, 5, 0), ValueError, 'step'), (lambda: K.arange('a'), TypeError),
            (lambda: K.arange(0, 5, 1, 'int42'), TypeError, 'dtype'),
            (lambda: K.arange(0, 5, K.constant(0, dtype='int32')), ValueError, 'step')],
    na=dict(NO_AXIS, broadcast='scalar bounds: nothing broadcasts', noncontig='takes scalars, no array',
            parallel='fills a range on the calling thread (no parallel_for)'))
