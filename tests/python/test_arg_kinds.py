"""The registry's argument kinds (cpp/ops/registry.cpp convert_arg): each converts a Python
argument once into the form the op's build and kernel see, and a bad value is an error naming
the op and the argument."""
import re

import numpy as np
import pytest

from keras_cpp import _core
from keras_cpp import backend as K


def ev(x):
    return K.eval(x)


def test_no_signature_has_an_untyped_parameter():
    loose = [s for s in _core._op_signatures.values() if re.search(r':\s*any\b', s)]
    assert not loose, loose


@pytest.mark.parametrize('strides', [2, (2, 2), [2, 2], [np.int64(2), np.int64(2)]])
def test_ints_n_takes_an_int_for_every_axis(strides):
    x = K.constant(np.arange(2 * 6 * 6 * 1, dtype='float32').reshape(2, 6, 6, 1))
    y = K.pool2d(x, (2, 2), strides=strides, data_format='channels_last')
    assert K.int_shape(y) == (2, 3, 3, 1)


@pytest.mark.parametrize('strides,exc', [((1, 1, 1), ValueError), ([1, 'a'], ValueError), ('ab', TypeError), (1.5, TypeError)])
def test_ints_n_errors_name_the_op_and_argument(strides, exc):
    x = K.placeholder((1, 5, 5, 3))
    with pytest.raises(exc, match=r"\[conv2d\].*'strides'"):
        K.conv2d(x, K.placeholder((3, 3, 3, 2)), strides=strides)


def test_ints_n_none_only_where_it_is_the_default():
    x, y = K.constant(np.ones((2, 3, 4))), K.constant(np.ones((2, 4, 5)))
    assert K.int_shape(K.batch_dot(x, y, axes=None)) == (2, 3, 5)
    assert K.int_shape(K.batch_dot(x, y, axes=(2, 1))) == (2, 3, 5)
    with pytest.raises(TypeError, match=r"\[pool2d\].*'pool_size'"):
        K.pool2d(K.placeholder((1, 4, 4, 1)), None)


def test_pairs_flatten_and_check():
    x = K.constant(np.ones((1, 2, 3, 1), 'float32'))
    assert K.int_shape(K.spatial_2d_padding(x, ((1, 0), (0, 2)), 'channels_last')) == (1, 3, 5, 1)
    assert K.int_shape(K.temporal_padding(K.constant(np.ones((1, 2, 3))), (2, 1))) == (1, 5, 3)
    for bad in [((1, 1),), ((1, -1), (0, 0)), ((1, 1, 1), (0, 0)), 3]:
        with pytest.raises(ValueError, match=r"\[spatial_2d_padding\].*'padding'"):
            K.spatial_2d_padding(x, bad, 'channels_last')


def test_data_format_is_normalised_once():
    x = K.constant(np.ones((1, 2, 3, 4), 'float32'))
    assert K.int_shape(K.spatial_2d_padding(x, data_format='Channels_First')) == (1, 2, 5, 6)
    b = K.bias_add(K.constant(np.zeros((1, 3, 2, 2), 'float32')), K.constant(np.arange(3, dtype='float32')), 'CHANNELS_FIRST')
    assert ev(b)[0, :, 0, 0].tolist() == [0, 1, 2]
    for fn in (lambda: K.spatial_2d_padding(x, data_format='nhwc'), lambda: K.bias_add(x, K.constant(np.zeros(4)), 'nchw'),
               lambda: K.resize_images(x, 2, 2, 'nhwc')):
        with pytest.raises(ValueError, match=r"Unknown data_format: 'nhwc'|Unknown data_format: 'nchw'"):
            fn()
    with pytest.raises(TypeError, match=r"\[resize_images\].*'data_format'"):
        K.resize_images(x, 2, 2, 3)


def test_number_keeps_ints_and_takes_scalar_tensors():
    assert K.dtype(K.arange(3)) == 'int32' and ev(K.arange(3)).tolist() == [0, 1, 2]
    assert K.dtype(K.arange(0.5, 2)) == 'float32'
    assert ev(K.arange(True, 3)).tolist() == [1, 2]
    assert ev(K.arange(K.constant(1, dtype='int32'), 4)).tolist() == [1, 2, 3]
    with pytest.raises(TypeError, match=r"\[arange\].*'stop'"):
        K.arange(0, 'x')
    with pytest.raises(ValueError, match=r"\[arange\].*'start'.*scalar"):
        K.arange(K.constant([1, 2], dtype='int32'))


def test_indices_take_nested_int_lists():
    ref = K.constant(np.arange(12, dtype='float32').reshape(4, 3))
    assert ev(K.gather(ref, [[0, 3], [1, 1]])).shape == (2, 2, 3)
    assert ev(K.gather(ref, 2)).tolist() == [6, 7, 8]
    with pytest.raises(TypeError, match=r"\[gather\].*'indices'.*rectangular"):
        K.gather(ref, [[0, 1], [2]])
    with pytest.raises(TypeError, match=r"\[gather\].*'indices'"):
        K.gather(ref, 'a')


def test_dtype_becomes_the_enum_once():
    x = K.constant(np.ones((2, 2), 'float32'))
    assert K.dtype(K.cast(x, 'int64')) == 'int64'
    assert K.dtype(K.zeros_like(x, dtype='float16')) == 'float16'
    assert K.dtype(K.ones_like(x)) == K.floatx()
    assert ev(K.random_uniform((2,), dtype='float64', seed=1)).dtype == np.float64
    with pytest.raises(TypeError, match=r"\[cast\].*float33"):
        K.cast(x, 'float33')
    with pytest.raises(TypeError, match=r"\[zeros_like\].*'dtype'"):
        K.zeros_like(x, dtype=3)
    with pytest.raises(TypeError, match=r"\[cast\].*'dtype'"):  # required: None is not floatx here
        K.cast(x, None)
