"""Shape manipulation, padding and resizing (issue 4): forward vs numpy references written like
Keras's numpy_backend.py, float64 finite-difference gradients, bad inputs, and the
semantics_checklist.md lines "Shape manipulation" / "Resizing and padding" as exact values."""
import numpy as np
import pytest

from keras_cpp import backend as K

COVERED = ['concatenate', 'stack', 'repeat_elements', 'repeat', 'tile', 'flatten', 'batch_flatten',
           'reverse', 'slice', 'gather', 'temporal_padding', 'spatial_2d_padding',
           'spatial_3d_padding', 'resize_images', 'resize_volumes', 'size']

DTYPES = ['float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool']


# ---------------------------------------------------------------- numpy references
def ref_tile(x, n):
    n = (n,) if isinstance(n, int) else tuple(n)
    return np.tile(x, (1,) * (x.ndim - len(n)) + n)


def ref_slice(x, start, size):
    return x[tuple(slice(b, None if n == -1 else b + n) for b, n in zip(start, size))]


def ref_repeat(x, n):
    return np.repeat(np.expand_dims(x, 1), n, axis=1)


def ref_batch_flatten(x):
    return np.reshape(x, (x.shape[0], int(np.prod(x.shape[1:]))))


def ref_pad(x, axes, pairs):
    pad = [(0, 0)] * x.ndim
    for a, p in zip(axes, pairs):
        pad[a] = tuple(p)
    return np.pad(x, pad, mode='constant')


def ref_spatial_axes(fmt, n):
    return list(range(2, 2 + n)) if fmt == 'channels_first' else list(range(1, 1 + n))


def ref_nearest(x, factors, axes):
    for f, a in zip(factors, axes):
        x = np.repeat(x, f, axis=a)
    return x


def ref_lerp_axis(x, f, axis):
    """Legacy TF resize_bilinear along one axis: source i/f, neighbours clamped at the edge."""
    x = np.moveaxis(x.astype(np.float64), axis, 0)
    n = x.shape[0]
    out = []
    for i in range(n * f):
        y0 = i // f
        y1 = min(y0 + 1, n - 1)
        w = (i % f) / f
        out.append(x[y0] + (x[y1] - x[y0]) * w)
    return np.moveaxis(np.array(out).reshape((n * f,) + x.shape[1:]), 0, axis)


def ref_bilinear(x, fh, fw, fmt):
    a = ref_spatial_axes(fmt, 2)
    return ref_lerp_axis(ref_lerp_axis(x, fh, a[0]), fw, a[1])


# ---------------------------------------------------------------- helpers
def rand(shape, dtype='float64', seed=0):
    r = np.random.RandomState(seed)
    if dtype == 'bool':
        return np.asarray(r.rand(*shape) > 0.5)
    if dtype.startswith('float'):
        return np.asarray(r.randn(*shape)).astype(dtype)
    return np.asarray(r.randint(0, 100, size=shape)).astype(dtype)


def run(f, *arrays, shapes=None):
    """Evaluate f on placeholders fed with arrays; returns (value, symbolic output)."""
    phs = [K.placeholder(shape=a.shape if shapes is None else shapes[i], dtype=a.dtype.name)
           for i, a in enumerate(arrays)]
    out = f(*phs)
    copies = [a.copy() for a in arrays]
    val = K.function(phs, [out])(list(arrays))[0]
    for a, c in zip(arrays, copies):  # inputs are never modified
        np.testing.assert_array_equal(a, c)
    return val, out


def check(f, ref, *arrays, shapes=None):
    val, out = run(f, *arrays, shapes=shapes)
    exp = ref(*arrays)
    assert val.shape == exp.shape
    np.testing.assert_array_equal(val, exp)
    st = K.int_shape(out)
    assert len(st) == exp.ndim and all(s is None or s == e for s, e in zip(st, exp.shape)), (st, exp.shape)
    return val, out


def grad_check(f, *arrays, wrt=0, eps=1e-6, tol=1e-6):
    arrays = [np.asarray(a, np.float64) if np.asarray(a).dtype.kind == 'f' else np.asarray(a) for a in arrays]
    phs = [K.placeholder(shape=a.shape, dtype=a.dtype.name) for a in arrays]
    y = f(*phs)
    yval = K.function(phs, [y])(arrays)[0]
    w = K.constant(np.random.RandomState(1).randn(*yval.shape), dtype='float64')
    loss = K.sum(y * w)
    g = K.gradients(loss, [phs[wrt]])[0]
    fn = K.function(phs, [loss, g])
    analytic = fn(arrays)[1]
    x = arrays[wrt]
    num = np.zeros_like(x)
    for i in range(x.size):
        for s in (1, -1):
            xp = x.copy()
            xp.flat[i] += s * eps
            args = list(arrays)
            args[wrt] = xp
            num.flat[i] += s * fn(args)[0] / (2 * eps)
    np.testing.assert_allclose(analytic, num, rtol=tol, atol=tol)


def raises(exc, op, fn):
    with pytest.raises(exc) as e:
        fn()
    assert op in str(e.value), str(e.value)


# ---------------------------------------------------------------- concatenate / stack
@pytest.mark.parametrize('shapes,axis', [
    ([(5, 4, 6, 3), (5, 4, 6, 2)], -1), ([(2, 3), (4, 3), (1, 3)], 0), ([(2, 3), (2, 0)], 1),
    ([(2, 3, 4), (2, 1, 4)], -2), ([(3,), (2,)], 0), ([(2, 3), (2, 3)], -3)])
def test_concatenate_forward(shapes, axis):
    arrays = [rand(s, seed=i) for i, s in enumerate(shapes)]
    rank = len(shapes[0])
    check(lambda *xs: K.concatenate(list(xs), axis), lambda *xs: np.concatenate(xs, axis % rank), *arrays)


@pytest.mark.parametrize('dtype', DTYPES)
def test_concatenate_stack_dtypes(dtype):
    a, b = rand((2, 3), dtype, 0), rand((2, 3), dtype, 1)
    v, out = check(lambda x, y: K.concatenate([x, y], 0), lambda x, y: np.concatenate([x, y], 0), a, b)
    assert out.dtype == dtype
    v, out = check(lambda x, y: K.stack([x, y], 1), lambda x, y: np.stack([x, y], 1), a, b)
    assert v.dtype == np.dtype(dtype)


def test_concatenate_unknown_dims_and_shape_tensors():
    a, b = rand((2, 3)), rand((2, 4))
    v, out = check(lambda x, y: K.concatenate([x, y]), lambda x, y: np.concatenate([x, y], -1), a, b,
                   shapes=[(None, 3), (None, None)])
    assert K.int_shape(out) == (None, None)
    x = K.placeholder(shape=(None, 5))
    s = K.concatenate([K.shape(x)[:1], [7]])  # Keras builds shape vectors like this
    assert K.function([x], [s])([np.zeros((3, 5), 'float32')])[0].tolist() == [3, 7]


def test_concatenate_grad():
    grad_check(lambda x, y: K.concatenate([x, y], 1), rand((2, 3)), rand((2, 2), seed=1), wrt=0)
    grad_check(lambda x, y: K.concatenate([x, y], 1), rand((2, 3)), rand((2, 2), seed=1), wrt=1)
    # run-time offsets (unknown sizes along the axis)
    x = K.placeholder(shape=(2, None), dtype='float64')
    y = K.placeholder(shape=(2, None), dtype='float64')
    g = K.gradients(K.sum(K.concatenate([x, y]) * K.constant(np.arange(5.), 'float64')), [x, y])
    gx, gy = K.function([x, y], g)([np.ones((2, 3)), np.ones((2, 2))])
    np.testing.assert_array_equal(gx, [[0, 1, 2]] * 2)
    np.testing.assert_array_equal(gy, [[3, 4]] * 2)


def test_concatenate_second_order_dynamic():
    x = K.placeholder(shape=(None,), dtype='float64')
    y = K.placeholder(shape=(None,), dtype='float64')
    c = K.concatenate([x, y])
    gx = K.gradients(K.sum(c * c * c), [x])[0]  # 3 x^2, its grad 6 x goes through _concat_part
    gxx = K.gradients(K.sum(gx), [x])[0]
    assert K.function([x, y], [gxx])([np.array([1., 2.]), np.array([3.])])[0].tolist() == [6., 12.]


def test_concatenate_errors():
    a, b = K.placeholder(shape=(2, 3)), K.placeholder(shape=(3, 3))
    raises(ValueError, '[concatenate]', lambda: K.concatenate([a, b], 1))
    raises(ValueError, '[concatenate]', lambda: K.concatenate([a, K.placeholder(shape=(2,))], 0))
    raises(ValueError, '[concatenate]', lambda: K.concatenate([a, a], 2))
    raises(ValueError, '[concatenate]', lambda: K.concatenate([]))
    # a run-time mismatch of unknown dims
    x, y = K.placeholder(shape=(None, 3)), K.placeholder(shape=(None, 3))
    f = K.function([x, y], [K.concatenate([x, y], 1)])
    raises(ValueError, '[concatenate]', lambda: f([np.zeros((2, 3)), np.zeros((3, 3))]))


@pytest.mark.parametrize('shape,axis', [((5, 2), 1), ((5, 2), 0), ((5, 2), -1), ((), 0), ((2, 0), 2)])
def test_stack_forward(shape, axis):
    arrays = [rand(shape, seed=i) for i in range(3)]
    check(lambda *xs: K.stack(list(xs), axis), lambda *xs: np.stack(xs, axis), *arrays)


def test_stack_grad_and_errors():
    grad_check(lambda x, y: K.stack([x, y], 1), rand((2, 3)), rand((2, 3), seed=1), wrt=1)
    a = K.placeholder(shape=(2, 3))
    raises(ValueError, '[stack]', lambda: K.stack([a, K.placeholder(shape=(3, 2))]))
    raises(ValueError, '[stack]', lambda: K.stack([a, a], 3))


def test_list_of_scalar_tensors_is_stacked():
    x = K.placeholder(shape=(None, None, 4))
    n = K.prod([K.shape(x)[0], K.shape(x)[1]])  # BatchNormalization's sample size
    m = K.sum([K.shape(x)[0], 10, K.shape(x)[2]])
    assert K.function([x], [n, m])([np.zeros((2, 3, 4), 'float32')]) == [6, 16]
    assert K.function([x], [K.reshape(x, [-1, K.shape(x)[1] * 4])])([np.zeros((2, 3, 4), 'float32')])[0].shape == (2, 12)


# ---------------------------------------------------------------- tile / repeat_elements / repeat
def test_checklist_repeat_elements_vs_tile():
    x = np.array([[1, 2], [3, 4]], 'float32')
    assert K.eval(K.repeat_elements(K.constant(x), 2, 1)).tolist() == [[1, 1, 2, 2], [3, 3, 4, 4]]
    assert K.eval(K.repeat_elements(K.constant(x), 2, 0)).tolist() == [[1, 2], [1, 2], [3, 4], [3, 4]]
    assert K.eval(K.tile(K.constant(x), (1, 2))).tolist() == [[1, 2, 1, 2], [3, 4, 3, 4]]


def test_checklist_repeat():
    x = np.array([[1, 2], [3, 4]], 'float32')
    v = K.eval(K.repeat(K.constant(x), 3))
    assert v.shape == (2, 3, 2) and v.tolist() == [[[1, 2]] * 3, [[3, 4]] * 3]


def test_checklist_tile_rank_padding():
    x = K.placeholder(shape=(3, 4, 5))
    assert K.int_shape(K.tile(x, (1, 2))) == (3, 4, 10)
    assert K.int_shape(K.tile(x, 2)) == (3, 4, 10)
    raises(NotImplementedError, '[tile]', lambda: K.tile(x, (1, 1, 1, 2)))


@pytest.mark.parametrize('shape,n', [((2, 3), (2, 1)), ((2, 3), 3), ((3, 4, 5), (1, 2)), ((2, 0), (3, 2)),
                                     ((1, 1), (1, 0)), ((4,), [2])])
def test_tile_forward(shape, n):
    check(lambda x: K.tile(x, n), lambda x: ref_tile(x, n), rand(shape))


@pytest.mark.parametrize('dtype', DTYPES)
def test_tile_repeat_dtypes(dtype):
    a = rand((2, 3), dtype)
    check(lambda x: K.tile(x, (2, 2)), lambda x: np.tile(x, (2, 2)), a)
    check(lambda x: K.repeat_elements(x, 3, -1), lambda x: np.repeat(x, 3, -1), a)
    check(lambda x: K.repeat(x, 2), lambda x: ref_repeat(x, 2), a)


def test_tile_tensor_reps():
    x = K.placeholder(shape=(2, None))
    n = K.placeholder(shape=(), dtype='int32')
    y = K.tile(x, [n, 1])
    assert K.int_shape(y) == (None, None)
    a = rand((2, 3)).astype('float32')
    np.testing.assert_array_equal(K.function([x, n], [y])([a, 3])[0], np.tile(a, (3, 1)))
    v = K.placeholder(shape=(1,), dtype='int32')  # a 1-D tensor shorter than the rank
    np.testing.assert_array_equal(K.function([x, v], [K.tile(x, v)])([a, [2]])[0], np.tile(a, (1, 2)))
    np.testing.assert_array_equal(K.eval(K.tile(K.constant(a), K.constant([2, 1], 'int32'))), np.tile(a, (2, 1)))
    # gradient with a run-time count: sum over the repeated blocks
    xd = K.placeholder(shape=(2, 3), dtype='float64')
    g = K.gradients(K.sum(K.tile(xd, [n, 2]) * 1.5), [xd])[0]
    assert np.all(K.function([xd, n], [g])([np.ones((2, 3)), 4])[0] == 1.5 * 8)
    v2 = K.placeholder(shape=(2,), dtype='int32')  # counts from a 1-D tensor, x with a None dim
    xu = K.placeholder(shape=(2, None), dtype='float64')
    g = K.gradients(K.sum(K.tile(xu, v2) * 2.), [xu])[0]
    assert np.all(K.function([xu, v2], [g])([np.ones((2, 3)), np.array([3, 2], 'int32')])[0] == 12.)


@pytest.mark.parametrize('shape,rep,axis', [((2, 3), 2, 1), ((2, 3), 3, 0), ((2, 3, 4), 2, -2), ((2, 0), 2, 1),
                                            ((3, 2), 0, 0), ((1,), 4, 0)])
def test_repeat_elements_forward(shape, rep, axis):
    check(lambda x: K.repeat_elements(x, rep, axis), lambda x: np.repeat(x, rep, axis), rand(shape))


def test_repeat_elements_unknown_dim():
    x = K.placeholder(shape=(None, 3, None))
    y = K.repeat_elements(x, 2, 1)
    assert K.int_shape(y) == (None, 6, None) and y._keras_shape == (None, 6, None)
    z = K.repeat_elements(x, 2, 2)
    assert K.int_shape(z) == (None, 3, None) and z._keras_shape == K.int_shape(z)
    a = rand((2, 3, 4)).astype('float32')
    np.testing.assert_array_equal(K.function([x], [z])([a])[0], np.repeat(a, 2, 2))
    xd = K.placeholder(shape=(None, 3), dtype='float64')  # gradient with a None dim
    g = K.gradients(K.sum(K.repeat_elements(xd, 3, 0) * 2.), [xd])[0]
    assert np.all(K.function([xd], [g])([np.ones((2, 3))])[0] == 6.)


def test_repeat_grads():
    grad_check(lambda x: K.tile(x, (2, 3)), rand((2, 3)))
    grad_check(lambda x: K.repeat_elements(x, 3, 1), rand((2, 3)))
    grad_check(lambda x: K.repeat(x, 2), rand((2, 3)))


def test_repeat_errors():
    x = K.placeholder(shape=(2, 3))
    raises(ValueError, '[repeat]', lambda: K.repeat(K.placeholder(shape=(2, 3, 4)), 2))
    raises(ValueError, '[repeat_elements]', lambda: K.repeat_elements(x, 2, 2))
    raises(ValueError, '[repeat_elements]', lambda: K.repeat_elements(x, -1, 0))
    raises(TypeError, '[tile]', lambda: K.tile(x, 'ab'))
    raises(TypeError, '[tile]', lambda: K.tile(x, [K.placeholder(shape=(), dtype='float32'), 1]))
    raises(ValueError, '[tile]', lambda: K.tile(x, (-1, 1)))


# ---------------------------------------------------------------- flatten / batch_flatten / reverse / size
@pytest.mark.parametrize('shape', [(2, 3, 4), (5,), (), (2, 0, 3), (1, 1)])
def test_flatten(shape):
    check(K.flatten, lambda x: x.reshape(-1), rand(shape))


@pytest.mark.parametrize('shape', [(2, 3, 4), (5,), (2, 0, 3), (0, 3), (1, 1, 1, 1)])
def test_batch_flatten(shape):
    check(K.batch_flatten, ref_batch_flatten, rand(shape))


def test_checklist_batch_flatten_and_concat_stack_shapes():
    assert K.int_shape(K.batch_flatten(K.placeholder(shape=(2, 3, 4)))) == (2, 12)
    assert K.int_shape(K.concatenate([K.placeholder(shape=(5, 4, 6, 3)), K.placeholder(shape=(5, 4, 6, 2))], -1)) == (5, 4, 6, 5)
    assert K.int_shape(K.stack([K.placeholder(shape=(5, 2))] * 2, 1)) == (5, 2, 2)


def test_flatten_unknown_dims_and_grads():
    a = rand((2, 3, 4)).astype('float32')
    v, out = check(K.batch_flatten, ref_batch_flatten, a, shapes=[(None, 3, 4)])
    assert K.int_shape(out) == (None, 12)
    v, out = check(K.batch_flatten, ref_batch_flatten, a, shapes=[(2, None, None)])
    assert K.int_shape(out)[0] == 2
    check(K.batch_flatten, ref_batch_flatten, a, shapes=[(None, None, None)])
    grad_check(K.batch_flatten, rand((2, 3, 2)))
    grad_check(K.flatten, rand((2, 3)))
    raises(ValueError, '[batch_flatten]', lambda: K.batch_flatten(K.constant(1.)))
    u = K.placeholder(shape=None)  # unknown rank: the length is unknown too
    assert K.int_shape(K.flatten(u)) == (None,)
    assert K.function([u], [K.flatten(u)])([np.ones((2, 3), 'float32')])[0].shape == (6,)


def test_checklist_reverse():
    x = K.constant(np.arange(6).reshape(2, 3), dtype='int32')
    assert K.eval(K.reverse(x, (0, -1))).tolist() == [[5, 4, 3], [2, 1, 0]]


@pytest.mark.parametrize('shape,axes', [((2, 3), 0), ((2, 3), [1]), ((2, 3, 4), (0, 2)), ((2, 0), -1), ((3,), []),
                                        ((1, 4), (-2, -1))])
def test_reverse(shape, axes):
    check(lambda x: K.reverse(x, axes), lambda x: np.flip(x, axes) if axes != [] else x, rand(shape))


def test_reverse_dtypes_grad_errors():
    for dt in DTYPES:
        check(lambda x: K.reverse(x, 1), lambda x: x[:, ::-1], rand((2, 3), dt))
    grad_check(lambda x: K.reverse(x, (0, 1)), rand((2, 3)))
    x = K.placeholder(shape=(2, 3))
    raises(ValueError, '[reverse]', lambda: K.reverse(x, 2))
    raises(ValueError, '[reverse]', lambda: K.reverse(x, (1, -1)))


@pytest.mark.parametrize('shape', [(2, 3), (), (0, 4), (2, 3, 4)])
def test_size(shape):
    v, out = run(K.size, rand(shape), )
    assert v == int(np.prod(shape)) and v.dtype == np.int32 and out.dtype == 'int32'


def test_size_unknown_and_no_gradient():
    x = K.placeholder(shape=(None, 3))
    assert K.function([x], [K.size(x, name='n')])([np.zeros((4, 3), 'float32')])[0] == 12
    assert K.gradients(K.cast(K.size(x), 'float32'), [x]) == [None]


# ---------------------------------------------------------------- slice / gather
def test_checklist_slice():
    x = K.constant(np.arange(10).reshape(2, 5), dtype='int32')
    assert K.eval(K.slice(x, (0, 1), (2, 3))).tolist() == [[1, 2, 3], [6, 7, 8]]
    raises(ValueError, '[slice]', lambda: K.slice(x, (0,), (2, 3)))


@pytest.mark.parametrize('shape,start,size', [((2, 5), (0, 1), (2, 3)), ((3, 4, 5), (1, 0, 2), (-1, 2, -1)),
                                              ((4,), (4,), (0,)), ((2, 0), (1, 0), (1, 0)), ((3, 3), [0, 0], [-1, -1])])
def test_slice_forward(shape, start, size):
    for dt in ('float32', 'int64', 'bool'):
        check(lambda x: K.slice(x, start, size), lambda x: ref_slice(x, start, size), rand(shape, dt))


def test_slice_tensor_bounds_and_grads():
    a = rand((3, 5)).astype('float32')
    x = K.placeholder(shape=(None, 5))
    b = K.placeholder(shape=(), dtype='int32')
    y = K.slice(x, [b, 1], [2, -1])
    assert K.int_shape(y) == (2, 4)
    np.testing.assert_array_equal(K.function([x, b], [y])([a, 1])[0], a[1:3, 1:])
    v = K.placeholder(shape=(2,), dtype='int32')
    np.testing.assert_array_equal(K.function([x, v], [K.slice(x, v, (1, 2))])([a, [2, 3]])[0], a[2:3, 3:5])
    f = K.function([x, b], [y])
    raises(ValueError, '[slice]', lambda: f([a, 2]))  # 2 + 2 > 3 rows at run time
    grad_check(lambda x: K.slice(x, (1, 0, 2), (1, -1, 2)), rand((2, 3, 4)))
    xd = K.placeholder(shape=(3, 5), dtype='float64')
    g = K.gradients(K.sum(K.slice(xd, [b, 1], [1, 2])), [xd])[0]
    exp = np.zeros((3, 5))
    exp[2, 1:3] = 1
    np.testing.assert_array_equal(K.function([xd, b], [g])([np.ones((3, 5)), 2])[0], exp)
    gg = K.gradients(K.sum(g * K.constant(np.arange(15.).reshape(3, 5), 'float64')), [xd])  # no path back to x
    assert gg == [None]


def test_slice_errors():
    x = K.placeholder(shape=(2, 5))
    raises(ValueError, '[slice]', lambda: K.slice(x, (0, 3), (1, 3)))
    raises(ValueError, '[slice]', lambda: K.slice(x, (-1, 0), (1, 1)))
    raises(ValueError, '[slice]', lambda: K.slice(x, (0, 0), (1, -2)))
    raises(TypeError, '[slice]', lambda: K.slice(x, 'a', (1, 1)))


def test_checklist_gather():
    ref = np.arange(12.).reshape(4, 3).astype('float32')
    v = K.eval(K.gather(K.constant(ref), [[0, 3], [1, 1]]))
    assert v.shape == (2, 2, 3)
    np.testing.assert_array_equal(v, ref[[[0, 3], [1, 1]]])


@pytest.mark.parametrize('rshape,ishape', [((4, 3), (5,)), ((4,), (2, 3)), ((5, 2, 3), ()), ((4, 3), (0,)),
                                           ((3, 0), (2,))])
def test_gather_forward(rshape, ishape):
    for it in ('int32', 'int64', 'uint8'):
        idx = np.random.RandomState(2).randint(0, rshape[0], size=ishape).astype(it)
        for dt in ('float32', 'int16', 'bool'):
            check(lambda r, i: K.gather(r, i), lambda r, i: r[i], rand(rshape, dt), idx)


def test_gather_grad_duplicates_add_up():
    idx = np.array([0, 2, 0, 0])
    grad_check(lambda r: K.gather(r, K.constant(idx, 'int32')), rand((3, 2)))
    r = K.placeholder(shape=(3, 2), dtype='float64')
    g = K.gradients(K.sum(K.gather(r, [0, 2, 0, 0])), [r])[0]
    np.testing.assert_array_equal(K.function([r], [g])([np.zeros((3, 2))])[0], [[3, 3], [0, 0], [1, 1]])
    gg = K.gradients(K.sum(g * g), [r])  # second order: the scatter does not depend on r
    assert gg == [None]


def test_gather_errors():
    r = K.placeholder(shape=(4, 3))
    raises(TypeError, '[gather]', lambda: K.gather(r, K.placeholder(shape=(2,))))
    raises(ValueError, '[gather]', lambda: K.gather(K.constant(1.), [0]))
    i = K.placeholder(shape=(2,), dtype='int32')
    f = K.function([r, i], [K.gather(r, i)])
    with pytest.raises(ValueError) as e:
        f([np.zeros((4, 3), 'float32'), np.array([1, 4], 'int32')])
    assert '[gather]' in str(e.value) and 'index 4' in str(e.value) and '4 rows' in str(e.value)
    with pytest.raises(ValueError) as e:
        f([np.zeros((4, 3), 'float32'), np.array([-1, 0], 'int32')])
    assert 'index -1' in str(e.value)


# ---------------------------------------------------------------- padding
def test_checklist_padding():
    x = np.arange(1, 4, dtype='float32').reshape(1, 3, 1)
    assert K.eval(K.temporal_padding(K.constant(x), (1, 2)))[0, :, 0].tolist() == [0, 1, 2, 3, 0, 0]
    assert K.int_shape(K.spatial_2d_padding(K.placeholder(shape=(1, 2, 2, 1)), ((1, 1), (2, 2)))) == (1, 4, 6, 1)
    assert K.int_shape(K.spatial_2d_padding(K.placeholder(shape=(1, 1, 2, 2)), ((1, 1), (2, 2)), 'channels_first')) == (1, 1, 4, 6)
    assert K.int_shape(K.spatial_3d_padding(K.placeholder(shape=(1, 5, 5, 5, 3)), ((1, 2), (2, 1), (1, 2)))) == (1, 8, 8, 8, 3)
    p = K.spatial_2d_padding(K.placeholder(shape=(1, None, None, 1)))
    assert K.int_shape(p) == (1, None, None, 1)


@pytest.mark.parametrize('fmt', ['channels_last', 'channels_first', 'Channels_First', None])
def test_padding_forward(fmt):
    f = (fmt or K.image_data_format()).lower()
    for dt in ('float32', 'int32', 'bool'):
        check(lambda x: K.spatial_2d_padding(x, ((1, 0), (2, 1)), fmt),
              lambda x: ref_pad(x, ref_spatial_axes(f, 2), [(1, 0), (2, 1)]), rand((2, 3, 2, 2), dt))
        check(lambda x: K.spatial_3d_padding(x, ((0, 1), (1, 1), (2, 0)), fmt),
              lambda x: ref_pad(x, ref_spatial_axes(f, 3), [(0, 1), (1, 1), (2, 0)]), rand((1, 2, 2, 3, 2), dt))
    check(lambda x: K.temporal_padding(x), lambda x: ref_pad(x, [1], [(1, 1)]), rand((2, 0, 3)))
    check(lambda x: K.spatial_2d_padding(x, data_format=fmt), lambda x: ref_pad(x, ref_spatial_axes(f, 2), [(1, 1)] * 2),
          rand((2, 3, 4, 2)), shapes=[(None, None, None, 2)])


def test_padding_grads_and_errors():
    grad_check(lambda x: K.temporal_padding(x, (2, 1)), rand((2, 3, 2)))
    grad_check(lambda x: K.spatial_2d_padding(x, ((1, 0), (0, 2)), 'channels_first'), rand((1, 2, 2, 3)))
    grad_check(lambda x: K.spatial_3d_padding(x, ((1, 0), (0, 1), (1, 1))), rand((1, 2, 1, 2, 1)))
    xd = K.placeholder(shape=(None, None, 2), dtype='float64')  # None dims: the grad slices from the end
    g = K.gradients(K.sum(K.temporal_padding(xd, (1, 2)) * 3.), [xd])[0]
    assert np.all(K.function([xd], [g])([np.ones((2, 3, 2))])[0] == 3.)
    x4 = K.placeholder(shape=(1, 2, 2, 1))
    raises(ValueError, '[spatial_2d_padding]', lambda: K.spatial_2d_padding(x4, data_format='channels_middle'))
    raises(ValueError, '[spatial_2d_padding]', lambda: K.spatial_2d_padding(x4, ((1, 1),)))
    raises(ValueError, '[spatial_2d_padding]', lambda: K.spatial_2d_padding(K.placeholder(shape=(2, 2, 1))))
    raises(ValueError, '[temporal_padding]', lambda: K.temporal_padding(K.placeholder(shape=(2, 2, 1)), (1, 2, 3)))
    raises(ValueError, '[temporal_padding]', lambda: K.temporal_padding(K.placeholder(shape=(2, 2, 1)), (-1, 2)))
    raises(ValueError, '[spatial_3d_padding]', lambda: K.spatial_3d_padding(x4))


# ---------------------------------------------------------------- resizing
def test_checklist_resize_nearest():
    x = np.array([[1, 2], [3, 4]], 'float32').reshape(1, 2, 2, 1)
    v = K.eval(K.resize_images(K.constant(x), 2, 2, 'channels_last'))
    assert v[0, :, :, 0].tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]
    assert K.int_shape(K.resize_images(K.placeholder(shape=(1, 2, 2, 1)), 2, 3, 'channels_last')) == (1, 4, 6, 1)


def test_checklist_resize_bilinear():
    def one_d(vals, f):
        x = K.constant(np.array(vals, 'float32').reshape(1, 1, -1, 1))
        return K.eval(K.resize_images(x, 1, f, 'channels_last', interpolation='bilinear'))[0, 0, :, 0].tolist()
    assert one_d([0, 1], 2) == [0, .5, 1, 1]
    assert one_d([0, 1, 2], 2) == [0, .5, 1, 1.5, 2, 2]
    assert one_d([0, 3], 3) == [0, 1, 2, 3, 3, 3]
    x = K.constant(np.array([[1, 2], [3, 4]], 'float32').reshape(1, 1, 2, 2))
    v = K.eval(K.resize_images(x, 2, 2, 'channels_first', interpolation='bilinear'))
    assert v[0, 0].tolist() == [[1, 1.5, 2, 2], [2, 2.5, 3, 3], [3, 3.5, 4, 4], [3, 3.5, 4, 4]]


@pytest.mark.parametrize('fmt', ['channels_last', 'channels_first'])
@pytest.mark.parametrize('shape,fh,fw', [((2, 3, 2, 2), 2, 3), ((1, 1, 4, 3), 3, 1), ((1, 2, 2, 1), 1, 1),
                                         ((0, 2, 2, 2), 2, 2)])
def test_resize_images_forward(fmt, shape, fh, fw):
    axes = ref_spatial_axes(fmt, 2)
    for dt in ('float32', 'int32', 'bool'):
        check(lambda x: K.resize_images(x, fh, fw, fmt), lambda x: ref_nearest(x, (fh, fw), axes), rand(shape, dt))
    for dt in ('float32', 'float64', 'float16'):
        a = rand(shape, dt)
        v, out = run(lambda x: K.resize_images(x, fh, fw, fmt, 'bilinear'), a)
        assert v.dtype == np.dtype(dt)
        np.testing.assert_allclose(v, ref_bilinear(a, fh, fw, fmt), rtol=1e-6, atol=1e-2 if dt == 'float16' else 1e-6)
    v, out = run(lambda x: K.resize_images(x, fh, fw, fmt, 'bilinear'), rand(shape, 'int32'))
    assert out.dtype == K.floatx()
    np.testing.assert_allclose(v, ref_bilinear(rand(shape, 'int32'), fh, fw, fmt), rtol=1e-6)


def test_resize_unknown_dims_grads_errors():
    x = K.placeholder(shape=(None, None, 3, 2))
    assert K.int_shape(K.resize_images(x, 2, 2, None)) == (None, None, 6, 2)
    assert K.int_shape(K.resize_images(x, 2, 2, 'channels_last', 'bilinear')) == (None, None, 6, 2)
    for fmt in ('channels_last', 'channels_first'):
        grad_check(lambda x: K.resize_images(x, 2, 3, fmt), rand((1, 2, 3, 2)))
        grad_check(lambda x: K.resize_images(x, 3, 2, fmt, 'bilinear'), rand((1, 2, 3, 2)))
        grad_check(lambda x: K.resize_volumes(x, 2, 1, 2, fmt), rand((1, 2, 2, 1, 2)))
    xd = K.placeholder(shape=(1, 3, 2, 1), dtype='float64')  # second order through the bilinear adjoint
    g = K.gradients(K.sum(K.square(K.resize_images(xd, 2, 2, 'channels_last', 'bilinear'))), [xd])[0]
    grad_check(lambda x: K.gradients(K.sum(K.square(K.resize_images(x, 2, 2, 'channels_last', 'bilinear'))), [x])[0],
               rand((1, 3, 2, 1)))
    assert g is not None
    x4 = K.placeholder(shape=(1, 2, 2, 1))
    raises(ValueError, '[resize_images]', lambda: K.resize_images(x4, 2, 2, 'channels_middle'))
    raises(ValueError, '[resize_images]', lambda: K.resize_images(x4, 2, 2, 'channels_last', 'bicubic'))
    raises(ValueError, '[resize_images]', lambda: K.resize_images(x4, 0, 2, 'channels_last'))
    raises(ValueError, '[resize_images]', lambda: K.resize_images(K.placeholder(shape=(2, 2, 1)), 2, 2, 'channels_last'))
    raises(ValueError, '[resize_volumes]', lambda: K.resize_volumes(x4, 2, 2, 2, 'channels_last'))
    raises(ValueError, '[resize_volumes]', lambda: K.resize_volumes(K.placeholder(shape=(1, 2, 2, 2, 1)), 2, 2, 2, 'nchw'))


@pytest.mark.parametrize('fmt', ['channels_last', 'channels_first', 'CHANNELS_LAST'])
def test_resize_volumes_forward(fmt):
    axes = ref_spatial_axes(fmt.lower(), 3)
    for dt in ('float32', 'int64', 'bool'):
        check(lambda x: K.resize_volumes(x, 2, 1, 3, fmt), lambda x: ref_nearest(x, (2, 1, 3), axes), rand((2, 2, 3, 1, 2), dt))
    v, out = check(lambda x: K.resize_volumes(x, 2, 2, 2, fmt), lambda x: ref_nearest(x, (2, 2, 2), axes),
                   rand((1, 2, 2, 2, 2)), shapes=[(None, None, 2, None, 2)])


def test_large_inputs_take_the_threaded_paths():
    a, b = rand((300, 200), 'float32'), rand((300, 100), 'float32', 1)
    check(lambda x, y: K.concatenate([x, y]), lambda x, y: np.concatenate([x, y], -1), a, b)
    check(lambda x: K.tile(x, (2, 3)), lambda x: np.tile(x, (2, 3)), a)
    check(lambda x: K.repeat_elements(x, 3, 1), lambda x: np.repeat(x, 3, 1), a)
    idx = np.random.RandomState(3).randint(0, 300, size=(500,)).astype('int32')
    check(lambda r, i: K.gather(r, i), lambda r, i: r[i], a, idx)
    r = K.placeholder(shape=(300, 200))
    g = K.gradients(K.sum(K.gather(r, idx)), [r])[0]
    np.testing.assert_array_equal(K.function([r], [g])([a])[0], np.bincount(idx, minlength=300)[:, None] * np.ones((1, 200)))
    x = rand((2, 40, 30, 8), 'float64')
    v, _ = run(lambda t: K.resize_images(t, 3, 2, 'channels_last', 'bilinear'), x)
    np.testing.assert_allclose(v, ref_bilinear(x, 3, 2, 'channels_last'), rtol=1e-12, atol=1e-12)
    xp = K.placeholder(shape=x.shape, dtype='float64')
    w = rand((2, 120, 60, 8), 'float64', 5)
    gx = K.gradients(K.sum(K.resize_images(xp, 3, 2, 'channels_last', 'bilinear') * K.constant(w, 'float64')), [xp])[0]
    got = K.function([xp], [gx])([x])[0]
    probe = rand(x.shape, 'float64', 6)  # adjoint identity: <L p, w> = <p, L^T w>
    lhs = np.sum(ref_bilinear(probe, 3, 2, 'channels_last') * w)
    np.testing.assert_allclose(np.sum(probe * got), lhs, rtol=1e-10)
