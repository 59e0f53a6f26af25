"""Shape manipulation, padding and resizing beyond the op table's sweep (op_table.py: values
against reference.py over shapes and dtypes, finite-difference gradients, bad calls, parallel
sizes): the semantics_checklist.md lines "Shape manipulation" / "Resizing and padding" as exact
values, unknown (None) dims, tensor-valued counts and bounds, run-time errors, second order."""
import numpy as np
import pytest

from keras_cpp import backend as K

import gradcheck
import reference as R


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


def raises(exc, op, fn):
    with pytest.raises(exc) as e:
        fn()
    assert op in str(e.value), str(e.value)


# ---------------------------------------------------------------- concatenate / stack
def test_concatenate_unknown_dims_and_shape_tensors():
    a, b = rand((2, 3)), rand((2, 4))
    v, out = check(lambda x, y: K.concatenate([x, y]), lambda x, y: np.concatenate([x, y], -1), a, b,
                   shapes=[(None, 3), (None, None)])
    assert K.int_shape(out) == (None, None)
    x = K.placeholder(shape=(None, 5))
    s = K.concatenate([K.shape(x)[:1], [7]])  # Keras builds shape vectors like this
    assert K.function([x], [s])([np.zeros((3, 5), 'float32')])[0].tolist() == [3, 7]


def test_concatenate_grad_with_run_time_offsets():
    # unknown sizes along the axis: the offsets are found when it runs
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


def test_concatenate_run_time_mismatch():
    # a run-time mismatch of unknown dims
    x, y = K.placeholder(shape=(None, 3)), K.placeholder(shape=(None, 3))
    f = K.function([x, y], [K.concatenate([x, y], 1)])
    raises(ValueError, '[concatenate]', lambda: f([np.zeros((2, 3)), np.zeros((3, 3))]))


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


# ---------------------------------------------------------------- flatten / batch_flatten / reverse / size
def test_checklist_batch_flatten_and_concat_stack_shapes():
    assert K.int_shape(K.batch_flatten(K.placeholder(shape=(2, 3, 4)))) == (2, 12)
    assert K.int_shape(K.concatenate([K.placeholder(shape=(5, 4, 6, 3)), K.placeholder(shape=(5, 4, 6, 2))], -1)) == (5, 4, 6, 5)
    assert K.int_shape(K.stack([K.placeholder(shape=(5, 2))] * 2, 1)) == (5, 2, 2)


def test_flatten_unknown_dims():
    a = rand((2, 3, 4)).astype('float32')
    v, out = check(K.batch_flatten, R.batch_flatten, a, shapes=[(None, 3, 4)])
    assert K.int_shape(out) == (None, 12)
    v, out = check(K.batch_flatten, R.batch_flatten, a, shapes=[(2, None, None)])
    assert K.int_shape(out)[0] == 2
    check(K.batch_flatten, R.batch_flatten, a, shapes=[(None, None, None)])
    u = K.placeholder(shape=None)  # unknown rank: the length is unknown too
    assert K.int_shape(K.flatten(u)) == (None,)
    assert K.function([u], [K.flatten(u)])([np.ones((2, 3), 'float32')])[0].shape == (6,)


def test_checklist_reverse():
    x = K.constant(np.arange(6).reshape(2, 3), dtype='int32')
    assert K.eval(K.reverse(x, (0, -1))).tolist() == [[5, 4, 3], [2, 1, 0]]


def test_size_unknown_and_no_gradient():
    x = K.placeholder(shape=(None, 3))
    assert K.function([x], [K.size(x, name='n')])([np.zeros((4, 3), 'float32')])[0] == 12
    assert K.gradients(K.cast(K.size(x), 'float32'), [x]) == [None]


# ---------------------------------------------------------------- slice / gather
def test_checklist_slice():
    x = K.constant(np.arange(10).reshape(2, 5), dtype='int32')
    assert K.eval(K.slice(x, (0, 1), (2, 3))).tolist() == [[1, 2, 3], [6, 7, 8]]
    raises(ValueError, '[slice]', lambda: K.slice(x, (0,), (2, 3)))


def test_slice_tensor_bounds_and_their_gradient():
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
    xd = K.placeholder(shape=(3, 5), dtype='float64')
    g = K.gradients(K.sum(K.slice(xd, [b, 1], [1, 2])), [xd])[0]
    exp = np.zeros((3, 5))
    exp[2, 1:3] = 1
    np.testing.assert_array_equal(K.function([xd, b], [g])([np.ones((3, 5)), 2])[0], exp)
    gg = K.gradients(K.sum(g * K.constant(np.arange(15.).reshape(3, 5), 'float64')), [xd])  # no path back to x
    assert gg == [None]


def test_checklist_gather():
    ref = np.arange(12.).reshape(4, 3).astype('float32')
    v = K.eval(K.gather(K.constant(ref), [[0, 3], [1, 1]]))
    assert v.shape == (2, 2, 3)
    np.testing.assert_array_equal(v, ref[[[0, 3], [1, 1]]])


def test_gather_grad_duplicates_add_up():
    idx = np.array([0, 2, 0, 0])
    gradcheck.check_gradients(lambda r: K.gather(r, K.constant(idx, 'int32')), [rand((3, 2))])
    r = K.placeholder(shape=(3, 2), dtype='float64')
    g = K.gradients(K.sum(K.gather(r, [0, 2, 0, 0])), [r])[0]
    np.testing.assert_array_equal(K.function([r], [g])([np.zeros((3, 2))])[0], [[3, 3], [0, 0], [1, 1]])
    gg = K.gradients(K.sum(g * g), [r])  # second order: the scatter does not depend on r
    assert gg == [None]


# ---------------------------------------------------------------- padding
def test_checklist_padding():
    x = np.arange(1, 4, dtype='float32').reshape(1, 3, 1)
    assert K.eval(K.temporal_padding(K.constant(x), (1, 2)))[0, :, 0].tolist() == [0, 1, 2, 3, 0, 0]
    assert K.int_shape(K.spatial_2d_padding(K.placeholder(shape=(1, 2, 2, 1)), ((1, 1), (2, 2)))) == (1, 4, 6, 1)
    assert K.int_shape(K.spatial_2d_padding(K.placeholder(shape=(1, 1, 2, 2)), ((1, 1), (2, 2)), 'channels_first')) == (1, 1, 4, 6)
    assert K.int_shape(K.spatial_3d_padding(K.placeholder(shape=(1, 5, 5, 5, 3)), ((1, 2), (2, 1), (1, 2)))) == (1, 8, 8, 8, 3)
    p = K.spatial_2d_padding(K.placeholder(shape=(1, None, None, 1)))
    assert K.int_shape(p) == (1, None, None, 1)


@pytest.mark.parametrize('fmt', ['channels_last', 'channels_first', None])
def test_padding_with_unknown_spatial_dims(fmt):
    f = (fmt or K.image_data_format()).lower()
    check(lambda x: K.spatial_2d_padding(x, data_format=fmt), lambda x: R.spatial_2d_padding(x, data_format=f),
          rand((2, 3, 4, 2)), shapes=[(None, None, None, 2)])


def test_padding_grad_with_unknown_dims():
    xd = K.placeholder(shape=(None, None, 2), dtype='float64')  # None dims: the grad slices from the end
    g = K.gradients(K.sum(K.temporal_padding(xd, (1, 2)) * 3.), [xd])[0]
    assert np.all(K.function([xd], [g])([np.ones((2, 3, 2))])[0] == 3.)


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


def test_resize_unknown_dims_and_second_order():
    x = K.placeholder(shape=(None, None, 3, 2))
    assert K.int_shape(K.resize_images(x, 2, 2, None)) == (None, None, 6, 2)
    assert K.int_shape(K.resize_images(x, 2, 2, 'channels_last', 'bilinear')) == (None, None, 6, 2)
    xd = K.placeholder(shape=(1, 3, 2, 1), dtype='float64')  # second order through the bilinear adjoint
    g = K.gradients(K.sum(K.square(K.resize_images(xd, 2, 2, 'channels_last', 'bilinear'))), [xd])[0]
    gradcheck.check_gradients(
        lambda x: K.gradients(K.sum(K.square(K.resize_images(x, 2, 2, 'channels_last', 'bilinear'))), [x])[0],
        [rand((1, 3, 2, 1))])
    assert g is not None


def test_resize_bilinear_of_ints_is_floatx():
    a = rand((2, 3, 2, 2), 'int32')
    v, out = run(lambda x: K.resize_images(x, 2, 3, 'channels_last', 'bilinear'), a)
    assert out.dtype == K.floatx()
    np.testing.assert_allclose(v, R.resize_images(a, 2, 3, 'channels_last', 'bilinear'), rtol=1e-6)


@pytest.mark.parametrize('fmt', ['channels_last', 'channels_first', 'CHANNELS_LAST'])
def test_resize_volumes_with_unknown_dims(fmt):
    check(lambda x: K.resize_volumes(x, 2, 2, 2, fmt), lambda x: R.resize_volumes(x, 2, 2, 2, fmt.lower()),
          rand((1, 2, 2, 2, 2)), shapes=[(None, None, 2, None, 2)])


