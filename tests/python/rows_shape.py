"""Table rows: shape manipulation, padding and resizing (concatenate ... resize_volumes, size)."""
import numpy as np

from keras_cpp import backend as K

import reference as R
from op_info import *  # noqa: F401,F403  (the table's vocabulary)

ROWS = []


def row(*args, **kwargs):
    ROWS.append(OpInfo(*args, **kwargs))


def ph(shape, dtype='float32'):
    return K.placeholder(shape=shape, dtype=dtype)


SAME_SHAPES = 'the inputs agree on every axis but one: nothing broadcasts'


# ---------------------------------------------------------------- concatenate / stack
def _concat_samples(dtype, rng):
    cases = [([(5, 4, 6, 3), (5, 4, 6, 2)], -1), ([(2, 3), (4, 3), (1, 3)], 0), ([(2, 3), (2, 0)], 1),
             ([(2, 3, 4), (2, 1, 4)], -2), ([(3,), (2,)], 0), ([(2, 3), (2, 3)], -2), ([(2, 3)], 1)]
    return [Sample([arr(s, dtype, rng) for s in shapes], axis).tag(*(['negative_axis'] if axis < 0 else []))
            for shapes, axis in cases]


row('concatenate', R.concatenate, _concat_samples, ALL, out_dtype=keep,
    grad_samples=lambda rng: [Sample([arr((2, 3), 'float64', rng), arr((2, 2), 'float64', rng)], 1),
                              Sample([arr((1, 2), 'float64', rng), arr((3, 2), 'float64', rng)], 0)],
    errors=[(lambda: K.concatenate([ph((2, 3)), ph((3, 3))], 1), ValueError),
            (lambda: K.concatenate([ph((2, 3)), ph((2,))], 0), ValueError),
            (lambda: K.concatenate([ph((2, 3)), ph((2, 3))], 2), ValueError, 'axis'),
            (lambda: K.concatenate([]), ValueError)],
    na={'broadcast': SAME_SHAPES},
    big=lambda rng: [Sample([arr((256, 300), 'float64', rng), arr((256, 200), 'float64', rng)], -1),
                     Sample([arr((200, 256), 'float64', rng), arr((100, 256), 'float64', rng)], 0)])


def _stack_samples(dtype, rng):
    cases = [((5, 2), 1), ((5, 2), 0), ((5, 2), -1), ((), 0), ((2, 0), 2), ((1, 1), 1)]
    return [Sample([arr(s, dtype, rng) for _ in range(3)], axis).tag(*(['negative_axis'] if axis < 0 else []))
            for s, axis in cases]


row('stack', R.stack, _stack_samples, ALL, out_dtype=keep,
    grad_samples=lambda rng: [Sample([arr((2, 3), 'float64', rng), arr((2, 3), 'float64', rng)], 1)],
    errors=[(lambda: K.stack([ph((2, 3)), ph((3, 2))]), ValueError), (lambda: K.stack([ph((2, 3))] * 2, 3), ValueError)],
    na={'broadcast': 'stacked tensors have one shape: nothing broadcasts'},
    big=lambda rng: [Sample([arr((256, 300), 'float64', rng) for _ in range(2)], 1)])


# ---------------------------------------------------------------- tile / repeat_elements / repeat
def _tile_samples(dtype, rng):
    cases = [((2, 3), (2, 1)), ((2, 3), 3), ((3, 4, 5), (1, 2)), ((2, 0), (3, 2)), ((1, 1), (1, 0)), ((4,), [2])]
    return [Sample(arr(s, dtype, rng), n) for s, n in cases]


row('tile', R.tile, _tile_samples, ALL, out_dtype=keep,
    grad_samples=lambda rng: [Sample(arr((2, 3), 'float64', rng), (2, 3)), Sample(arr((2, 1, 2), 'float64', rng), 2)],
    errors=[(lambda: K.tile(ph((2, 3)), 'ab'), TypeError), (lambda: K.tile(ph((2, 3)), [ph(()), 1]), TypeError),
            (lambda: K.tile(ph((2, 3)), (-1, 1)), ValueError)],
    na=dict(ONE_INPUT, **NO_AXIS), big=lambda rng: [Sample(arr((256, 150), 'float64', rng), (1, 2)),
                                                    Sample(arr((128, 300), 'float64', rng), (2, 1))])


def _rep_el_samples(dtype, rng):
    cases = [((2, 3), 2, 1), ((2, 3), 3, 0), ((2, 3, 4), 2, -2), ((2, 0), 2, 1), ((3, 2), 0, 0), ((1,), 4, 0)]
    return [Sample(arr(s, dtype, rng), rep, axis).tag(*(['negative_axis'] if axis < 0 else [])) for s, rep, axis in cases]


row('repeat_elements', R.repeat_elements, _rep_el_samples, ALL, out_dtype=keep,
    grad_samples=lambda rng: [Sample(arr((2, 3), 'float64', rng), 3, 1), Sample(arr((2, 3, 2), 'float64', rng), 2, -2)],
    errors=[(lambda: K.repeat_elements(ph((2, 3)), 2, 2), ValueError, 'axis'),
            (lambda: K.repeat_elements(ph((2, 3)), -1, 0), ValueError)],
    na=ONE_INPUT, big=lambda rng: [Sample(arr((256, 150), 'float64', rng), 2, 1), Sample(arr((128, 300), 'float64', rng), 2, 0)])


def _repeat_samples(dtype, rng):
    return [Sample(arr((2, 3), dtype, rng), 2), Sample(arr((0, 3), dtype, rng), 2), Sample(arr((1, 1), dtype, rng), 3),
            Sample(arr((2, 3), dtype, rng), 0)]


row('repeat', R.repeat, _repeat_samples, ALL, out_dtype=keep,
    grad_samples=lambda rng: [Sample(arr((2, 3), 'float64', rng), 2)],
    errors=[(lambda: K.repeat(ph((2, 3, 4)), 2), ValueError)], na=dict(ONE_INPUT, **NO_AXIS),
    big=lambda rng: [Sample(arr((256, 300), 'float64', rng), 2)])


# ---------------------------------------------------------------- flatten / batch_flatten / reverse / size
row('flatten', R.flatten, lambda d, rng: [Sample(arr(s, d, rng)) for s in [(2, 3, 4), (5,), (), (2, 0, 3), (1, 1)]],
    ALL, out_dtype=keep, grad_samples=lambda rng: [Sample(arr((2, 3), 'float64', rng))],
    errors=[(lambda: K.flatten(), TypeError)], na=dict(ONE_INPUT, **NO_AXIS),
    big=lambda rng: [Sample(noncontig(arr((256, 300), 'float64', rng)))])
row('batch_flatten', R.batch_flatten, lambda d, rng: [Sample(arr(s, d, rng)) for s in [(2, 3, 4), (5,), (2, 0, 3),
                                                                                         (0, 3), (1, 1, 1, 1)]],
    ALL, out_dtype=keep, grad_samples=lambda rng: [Sample(arr((2, 3, 2), 'float64', rng))],
    errors=[(lambda: K.batch_flatten(K.constant(1.)), ValueError)], na=dict(ONE_INPUT, **NO_AXIS),
    big=lambda rng: [Sample(noncontig(arr((256, 20, 15), 'float64', rng)))])


def _rev_samples(dtype, rng):
    cases = [((2, 3), 0), ((2, 3), [1]), ((2, 3, 4), (0, 2)), ((2, 0), -1), ((3,), []), ((1, 4), (-2, -1))]
    return [Sample(arr(s, dtype, rng), axes).tag(*(['negative_axis'] if min(np.ravel(axes), default=0) < 0 else []))
            for s, axes in cases]


row('reverse', R.reverse, _rev_samples, ALL, out_dtype=keep,
    grad_samples=lambda rng: [Sample(arr((2, 3), 'float64', rng), (0, 1)), Sample(arr((2, 3, 2), 'float64', rng), -1)],
    errors=[(lambda: K.reverse(ph((2, 3)), 2), ValueError, 'axis'), (lambda: K.reverse(ph((2, 3)), (1, -1)), ValueError)],
    na=ONE_INPUT, big=lambda rng: [Sample(arr((256, 300), 'float64', rng), -1), Sample(arr((256, 300), 'float64', rng), 0)])
row('size', R.size, lambda d, rng: [Sample(arr(s, d, rng)) for s in [(2, 3), (), (0, 4), (2, 3, 4), (1,)]], ALL,
    differentiable=False, out_dtype=always('int32'), grad_samples=lambda rng: [Sample(arr((2, 3), 'float64', rng))],
    errors=[(lambda: K.size(), TypeError)],
    na=dict(ONE_INPUT, parallel='reads the shape: no kernel over the data', **NO_AXIS))


# ---------------------------------------------------------------- slice / gather
def _slice_samples(dtype, rng):
    cases = [((2, 5), (0, 1), (2, 3)), ((3, 4, 5), (1, 0, 2), (-1, 2, -1)), ((4,), (4,), (0,)), ((2, 0), (1, 0), (1, 0)),
             ((3, 3), [0, 0], [-1, -1]), ((1, 3), (0, 1), (1, 1))]
    return [Sample(arr(s, dtype, rng), start, size) for s, start, size in cases]


row('slice', R.slice, _slice_samples, ALL, out_dtype=keep,
    grad_samples=lambda rng: [Sample(arr((2, 3, 4), 'float64', rng), (1, 0, 2), (1, -1, 2))],
    errors=[(lambda: K.slice(ph((2, 5)), (0, 3), (1, 3)), ValueError), (lambda: K.slice(ph((2, 5)), (-1, 0), (1, 1)), ValueError),
            (lambda: K.slice(ph((2, 5)), (0, 0), (1, -2)), ValueError), (lambda: K.slice(ph((2, 5)), 'a', (1, 1)), TypeError),
            (lambda: K.slice(ph((2, 5)), (0,), (2, 3)), ValueError)],
    na=dict(ONE_INPUT, negative_axis='start and size index each axis in order (size -1 means to the end)'),
    big=lambda rng: [Sample(arr((300, 300), 'float64', rng), (10, 20), (256, 256))])


def _gather_samples(dtype, rng):
    out = []
    for k, (rs, ishape) in enumerate([((4, 3), (5,)), ((4,), (2, 3)), ((5, 2, 3), ()), ((4, 3), (0,)), ((3, 0), (2,)),
                                      ((1, 1), (3,))]):
        it = ('int32', 'int64', 'uint8')[k % 3]
        out.append(Sample(arr(rs, dtype, rng), rng.integers(0, rs[0], size=ishape).astype(it)))
    out.append(Sample(arr((4, 3), dtype, rng), [[0, 3], [1, 1]]))  # indices as a Python list
    return out


row('gather', R.gather, _gather_samples, ALL, out_dtype=keep, grad_wrt=(0,),
    grad_samples=lambda rng: [Sample(arr((3, 2), 'float64', rng), np.array([0, 2, 0, 0], 'int32'))],
    errors=[(lambda: K.gather(ph((4, 3)), ph((2,))), TypeError), (lambda: K.gather(K.constant(1.), [0]), ValueError),
            (lambda: K.gather(c(np.zeros((4, 3))), c([1, 4], 'int32')), ValueError, 'index 4.*4 rows'),
            (lambda: K.gather(c(np.zeros((4, 3))), c([-1, 0], 'int32')), ValueError, 'index -1')],
    na=dict(NO_AXIS, broadcast='indices pick rows of reference: nothing broadcasts'),
    big=lambda rng: [Sample(arr((300, 200), 'float64', rng), rng.integers(0, 300, size=(500,)).astype('int32'))])


# ---------------------------------------------------------------- padding
FORMATS = ('channels_last', 'channels_first', None, 'Channels_First')


def _tpad_samples(dtype, rng):
    return [Sample(arr((2, 3, 2), dtype, rng), (1, 2)), Sample(arr((2, 0, 3), dtype, rng)),
            Sample(arr((1, 1, 1), dtype, rng), (0, 3)), Sample(arr((2, 3, 2), dtype, rng), [2, 0])]


row('temporal_padding', R.temporal_padding, _tpad_samples, ALL, out_dtype=keep,
    grad_samples=lambda rng: [Sample(arr((2, 3, 2), 'float64', rng), (2, 1))],
    errors=[(lambda: K.temporal_padding(ph((2, 2, 1)), (1, 2, 3)), ValueError),
            (lambda: K.temporal_padding(ph((2, 2, 1)), (-1, 2)), ValueError)], na=dict(ONE_INPUT, **NO_AXIS),
    big=lambda rng: [Sample(arr((64, 40, 30), 'float64', rng), (2, 3))])


def _pad2_samples(dtype, rng):
    out = [Sample(arr((2, 3, 2, 2), dtype, rng), ((1, 0), (2, 1)), f) for f in FORMATS]
    return out + [Sample(arr((2, 3, 4, 2), dtype, rng)), Sample(arr((0, 1, 1, 2), dtype, rng), ((1, 1), (0, 2)))]


row('spatial_2d_padding', R.spatial_2d_padding, _pad2_samples, ALL, out_dtype=keep,
    grad_samples=lambda rng: [Sample(arr((1, 2, 2, 3), 'float64', rng), ((1, 0), (0, 2)), 'channels_first')],
    errors=[(lambda: K.spatial_2d_padding(ph((1, 2, 2, 1)), data_format='channels_middle'), ValueError),
            (lambda: K.spatial_2d_padding(ph((1, 2, 2, 1)), ((1, 1),)), ValueError),
            (lambda: K.spatial_2d_padding(ph((2, 2, 1))), ValueError)], na=dict(ONE_INPUT, **NO_AXIS),
    big=lambda rng: [Sample(arr((16, 30, 30, 8), 'float64', rng), ((1, 2), (2, 1))),
                     Sample(arr((16, 8, 30, 30), 'float64', rng), ((1, 1), (1, 1)), 'channels_first')])


def _pad3_samples(dtype, rng):
    out = [Sample(arr((1, 2, 2, 3, 2), dtype, rng), ((0, 1), (1, 1), (2, 0)), f) for f in FORMATS]
    return out + [Sample(arr((1, 1, 0, 1, 1), dtype, rng))]


row('spatial_3d_padding', R.spatial_3d_padding, _pad3_samples, ALL, out_dtype=keep,
    grad_samples=lambda rng: [Sample(arr((1, 2, 1, 2, 1), 'float64', rng), ((1, 0), (0, 1), (1, 1)))],
    errors=[(lambda: K.spatial_3d_padding(ph((1, 2, 2, 1))), ValueError)], na=dict(ONE_INPUT, **NO_AXIS),
    big=lambda rng: [Sample(arr((8, 10, 12, 14, 8), 'float64', rng), ((1, 1), (1, 0), (0, 1)))])


# ---------------------------------------------------------------- resizing
def _resize_samples(dtype, rng):
    out = []
    for fmt in ('channels_last', 'channels_first'):
        for s, fh, fw in [((2, 3, 2, 2), 2, 3), ((1, 1, 4, 3), 3, 1), ((1, 2, 2, 1), 1, 1), ((0, 2, 2, 2), 2, 2)]:
            out.append(Sample(arr(s, dtype, rng), fh, fw, fmt))
            if dtype in FLOATS:
                out.append(Sample(arr(s, dtype, rng), fh, fw, fmt, 'bilinear'))
    return out + [Sample(arr((1, 2, 3, 1), dtype, rng), 2, 2, None)]


row('resize_images', R.resize_images, _resize_samples, ALL, out_dtype=keep, tol={'float16': (2e-2, 5e-2)},
    grad_samples=lambda rng: [Sample(arr((1, 2, 3, 2), 'float64', rng), 2, 3, f, i)
                              for f in ('channels_last', 'channels_first') for i in ('nearest', 'bilinear')],
    errors=[(lambda: K.resize_images(ph((1, 2, 2, 1)), 2, 2, 'channels_middle'), ValueError),
            (lambda: K.resize_images(ph((1, 2, 2, 1)), 2, 2, 'channels_last', 'bicubic'), ValueError),
            (lambda: K.resize_images(ph((1, 2, 2, 1)), 0, 2, 'channels_last'), ValueError),
            (lambda: K.resize_images(ph((2, 2, 1)), 2, 2, 'channels_last'), ValueError)],
    na=dict(ONE_INPUT, **NO_AXIS),
    big=lambda rng: [Sample(arr((2, 40, 30, 8), 'float64', rng), 3, 2, 'channels_last', 'bilinear'),
                     Sample(arr((4, 8, 30, 30), 'float64', rng), 2, 2, 'channels_first')])


def _resize3_samples(dtype, rng):
    out = [Sample(arr((2, 2, 3, 1, 2), dtype, rng), 2, 1, 3, f) for f in ('channels_last', 'channels_first', 'CHANNELS_LAST')]
    return out + [Sample(arr((0, 1, 2, 2, 1), dtype, rng), 2, 2, 2, 'channels_last')]


row('resize_volumes', R.resize_volumes, _resize3_samples, ALL, out_dtype=keep,
    grad_samples=lambda rng: [Sample(arr((1, 2, 2, 1, 2), 'float64', rng), 2, 1, 2, f)
                              for f in ('channels_last', 'channels_first')],
    errors=[(lambda: K.resize_volumes(ph((1, 2, 2, 1)), 2, 2, 2, 'channels_last'), ValueError),
            (lambda: K.resize_volumes(ph((1, 2, 2, 2, 1)), 2, 2, 2, 'nchw'), ValueError)],
    na=dict(ONE_INPUT, **NO_AXIS), big=lambda rng: [Sample(arr((4, 10, 12, 14, 8), 'float64', rng), 2, 1, 2, 'channels_last')])
