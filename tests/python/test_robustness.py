"""Adversarial calls that once crashed, hung or answered wrongly: each must now give a clear
exception naming the op, or numpy's answer. Calls that used to crash run in a sandbox process
(sandbox.py), so a regression fails its test instead of killing pytest."""
import numpy as np
import pytest

from keras_cpp import backend as K
from sandbox import Sandbox

SETUP = "x = K.constant(np.ones((2, 3, 4), 'float32')); c = K.constant(np.ones(4, 'float32'))\n"


@pytest.fixture(scope='module')
def box():
    b = Sandbox(timeout=30)
    yield b
    b.close()


def raises_in_sandbox(box, code, exc, op):
    r = box.run(code, setup=SETUP)
    assert r.crash is None, 'crashed (%s): %s' % (r.crash, code)
    assert r.exc == exc, 'expected %s, got %r' % (exc, r)
    assert '[%s]' % op in r.msg, 'message does not name %s: %s' % (op, r.msg)
    return r.msg


# ---------------------------------------------------------------- crashes and hangs
@pytest.mark.parametrize('fn', ['random_uniform', 'random_normal', 'truncated_normal', 'random_binomial'])
@pytest.mark.parametrize('shape', ['(2**31, 2**31)', '(2**63-1,)*2'])
def test_random_shape_whose_size_overflows_raises(box, fn, shape):
    raises_in_sandbox(box, 'K.eval(K.%s(%s, seed=1))' % (fn, shape), 'ValueError', fn)


@pytest.mark.parametrize('fn,args', [('random_uniform_variable', '0, 1'), ('random_normal_variable', '0, 1')])
def test_random_variable_shape_whose_size_overflows_raises(box, fn, args):
    r = box.run('K.%s((2**31, 2**31), %s, seed=1)' % (fn, args), setup=SETUP)
    assert r.crash is None and r.exc == 'ValueError' and 'does not fit' in r.msg, r


def test_random_shape_tensor_whose_size_overflows_raises_at_run_time(box):
    code = ("s = K.placeholder((2,), dtype='int64')\n"
            "K.function([s], [K.random_uniform(s, seed=1)])([np.array([2**31, 2**31])])")
    raises_in_sandbox(box, code, 'ValueError', 'random_uniform')


def test_dropout_noise_shape_that_overflows_raises(box):
    code = "K.eval(K.dropout(K.constant(np.ones((2,3),'float32')), 0.5, noise_shape=(2**63-1, 2**63-1), seed=1))"
    raises_in_sandbox(box, code, 'ValueError', 'dropout')


@pytest.mark.parametrize('n', ['-2**63', '-1'])
def test_repeat_with_hugely_negative_count_raises(box, n):
    raises_in_sandbox(box, "K.eval(K.repeat(K.constant(np.ones((2,3),'float32')), %s))" % n, 'ValueError', 'repeat')


def test_tile_with_int64_min_raises(box):
    raises_in_sandbox(box, "K.eval(K.tile(K.constant(np.ones((2,3),'float32')), (1, -2**63)))", 'ValueError', 'tile')


def test_pool_with_a_window_far_larger_than_the_input_finishes():
    # The window loops once ran 2**40 times per output; padding never counts, so each output is
    # the max (mean) over every row its column reaches.
    x = np.random.RandomState(0).rand(2, 5, 5, 3).astype('float32')
    for mode, red in (('max', np.max), ('avg', np.mean)):
        y = K.eval(K.pool2d(K.constant(x), (2**40, 1), strides=(2, 2), padding='same', pool_mode=mode))
        expect = red(x, axis=1, keepdims=True)[:, :, ::2].repeat(3, axis=1)
        np.testing.assert_allclose(y, expect, rtol=1e-6)
    y = K.eval(K.pool2d(K.constant(x), (2**62, 2**62), strides=(2**62, 2**62), padding='same'))
    np.testing.assert_allclose(y, x.max(axis=(1, 2), keepdims=True))


def test_pool_with_a_huge_window_and_valid_padding_raises():
    with pytest.raises(ValueError, match=r'\[pool2d\]'):
        K.pool2d(K.constant(np.ones((2, 5, 5, 3), 'float32')), (2**40, 1), padding='valid')


@pytest.mark.parametrize('code,op', [
    ("K.eval(K.tile(K.constant(np.ones((2,3),'float32')), (2**62, 2**62)))", 'tile'),
    ("K.eval(K.reshape(K.constant(np.ones((2,3),'float32')), (2**62, 2**62, 0)))", 'reshape'),
    ("K.eval(K.arange(0, 2**62))", 'arange'),
    ("K.eval(K.repeat_elements(x, 2**62, 1))", 'repeat_elements'),
])
def test_sizes_that_overflow_int64_raise(box, code, op):
    raises_in_sandbox(box, code, 'ValueError', op)


@pytest.mark.parametrize('code,op', [
    ("K.batch_normalization(x, c, c, 'abc', c)", 'batch_normalization'),
    ("K.batch_normalization(x, c, c, c, 'abc')", 'batch_normalization'),
    ("K.normalize_batch_in_training(x, 'abc', c, [0, 1])", 'normalize_batch_in_training'),
    ("K.normalize_batch_in_training(x, c, 'abc', [0, 1])", 'normalize_batch_in_training'),
])
def test_optional_tensor_parameter_refuses_strings(box, code, op):
    raises_in_sandbox(box, code, 'TypeError', op)


def test_optional_tensor_parameter_takes_a_list_of_numbers_as_a_constant(box):
    r = box.run("result = K.eval(K.batch_normalization(x, c, c, [1., 2, 3, 4], [2., 2, 2, 2])).tolist()", setup=SETUP)
    assert r.crash is None and r.exc is None, r
    expect = (np.ones((2, 3, 4)) - 1) / np.sqrt(1 + 1e-3) * 2 + np.array([1., 2, 3, 4])
    np.testing.assert_allclose(eval(r.value), expect, rtol=1e-6)


@pytest.mark.parametrize('code,exc,op', [
    ("K.batch_normalization(x, c, c, [[1, 2], [3]], c)", 'ValueError', 'batch_normalization'),
    ("K.sum([[1, 2], [3]])", 'ValueError', 'sum'),
    ("x + [[1, 2], [3]]", 'ValueError', 'add'),
    ("K.batch_normalization(x, c, c, ['a'], c)", 'TypeError', 'batch_normalization'),
])
def test_ragged_or_string_lists_raise(box, code, exc, op):
    raises_in_sandbox(box, code, exc, op)


# ---------------------------------------------------------------- silently wrong answers
BIG = np.array([1., 2., 3.], '>f4')


def test_function_feed_in_non_native_byte_order():
    x = K.placeholder((3,))
    np.testing.assert_array_equal(K.function([x], [x * 1])([BIG])[0], [1, 2, 3])
    y = K.placeholder((3,), dtype='float64')
    np.testing.assert_array_equal(K.function([y], [y * 1])([np.array([1., 2., 3.], '>f8')])[0], [1, 2, 3])


def test_set_value_in_non_native_byte_order():
    v = K.variable(np.zeros(3, 'float32'))
    K.set_value(v, BIG)
    np.testing.assert_array_equal(K.get_value(v), [1, 2, 3])


def test_update_with_a_numpy_value_in_non_native_byte_order():
    v = K.variable(np.zeros(3, 'float32'))
    K.eval(K.update(v, BIG))
    np.testing.assert_array_equal(K.get_value(v), [1, 2, 3])
    K.eval(K.update_add(v, np.array([1, 1, 1], '>i4')))
    np.testing.assert_array_equal(K.get_value(v), [2, 3, 4])


def test_numpy_argument_in_non_native_byte_order():
    assert float(K.eval(K.sum(BIG))) == 6.0
    np.testing.assert_array_equal(K.eval(K.constant(np.ones(3, 'float32')) + BIG), [2, 3, 4])
    np.testing.assert_array_equal(K.eval(K.variable(BIG)), [1, 2, 3])
    np.testing.assert_array_equal(K.eval(K.constant(np.array([1, 2], '>i8'), dtype='int64')), [1, 2])


def test_transpose_of_unknown_rank():
    p = K.placeholder(shape=None)
    f = K.function([p], [K.transpose(p)])
    a = np.arange(6, dtype='float32').reshape(2, 3)
    np.testing.assert_array_equal(f([a])[0], a.T)
    b = np.arange(24, dtype='float32').reshape(2, 3, 4)
    np.testing.assert_array_equal(f([b])[0], b.T)
    g = K.gradients(K.sum(K.transpose(p) * K.constant(a.T)), [p])[0]
    np.testing.assert_array_equal(K.function([p], [g])([np.ones((2, 3), 'float32')])[0], a)


def test_permute_dimensions_of_unknown_rank_checks_the_pattern_at_run_time():
    p = K.placeholder(shape=None)
    y = K.permute_dimensions(p, (1, 0))
    assert y.shape == (None, None)
    a = np.arange(6, dtype='float32').reshape(2, 3)
    np.testing.assert_array_equal(K.function([p], [y])([a])[0], a.T)
    with pytest.raises(ValueError, match=r'\[permute_dimensions\]'):
        K.function([p], [y])([np.ones((2, 3, 4), 'float32')])


@pytest.mark.parametrize('key', [np.s_[::-2**63], np.s_[::2**63 - 1], np.s_[-2**63:], np.s_[:-2**63],
                                 np.s_[2**63 - 1::-1], np.s_[::-2**63 + 1], np.s_[-2**63::-1], np.s_[1, ::-2**62]])
def test_slices_with_extreme_bounds_follow_numpy(key):
    a = np.arange(24, dtype='float32').reshape(2, 3, 4)
    np.testing.assert_array_equal(K.eval(K.constant(a)[key]), a[key])


# ---------------------------------------------------------------- messages
def test_int_beyond_64_bits_is_a_value_error_naming_the_op():
    with pytest.raises(ValueError, match=r'\[sum\] .*does not fit in 64 bits'):
        K.sum(K.constant(np.ones((2, 3))), axis=2**63)
    with pytest.raises(ValueError, match=r'\[getitem\] .*does not fit in 64 bits'):
        K.constant(np.ones(3))[2**64]


@pytest.mark.parametrize('value', [None, 'abc', b'abc', [[1, 2], [3]], {'a': 1}])
def test_function_feed_that_is_not_an_array_names_the_input(value):
    x = K.placeholder((3,))
    y = K.placeholder((3,))
    with pytest.raises((TypeError, ValueError), match=r'\[function\] input 1'):
        K.function([x, y], [x + y])([np.ones(3, 'float32'), value])
