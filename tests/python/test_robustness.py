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
    r = box.run("result = K.eval(K.normalize_batch_in_training(x, [2., 2, 2, 2], [1., 2, 3, 4], [0, 1])[0]).tolist()",
                setup=SETUP)
    assert r.crash is None and r.exc is None, r
    np.testing.assert_allclose(eval(r.value), np.zeros((2, 3, 4)) + np.array([1., 2, 3, 4]), rtol=1e-6)


@pytest.mark.parametrize('code,exc,op', [
    ("K.batch_normalization(x, c, c, [[1, 2], [3]], c)", 'ValueError', 'batch_normalization'),
    ("K.sum([[1, 2], [3]])", 'ValueError', 'sum'),
    ("x + [[1, 2], [3]]", 'ValueError', 'add'),
    ("K.batch_normalization(x, c, c, ['a'], c)", 'TypeError', 'batch_normalization'),
    ("K.normalize_batch_in_training(x, [[1, 2], [3]], c, [0, 1])", 'ValueError', 'normalize_batch_in_training'),
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


def test_dot_whose_shapes_mismatch_only_at_run_time_names_dot():
    a, b = K.placeholder((None, None)), K.placeholder((None, None))
    f = K.function([a, b], [K.dot(a, b)])
    with pytest.raises(ValueError, match=r'\[dot\] contracted dimensions differ at run time: \(4, 2\) @ \(3, 2\)'):
        f([np.ones((4, 2), 'float32'), np.ones((3, 2), 'float32')])
    c, d = K.placeholder((None, None, None)), K.placeholder((None, None, None))
    with pytest.raises(ValueError):  # a clean error (from batch_dot's reshape of y)
        K.function([c, d], [K.batch_dot(c, d, axes=(2, 1))])([np.ones((2, 3, 4), 'float32'), np.ones((2, 3, 5), 'float32')])


@pytest.mark.parametrize('fn', ['binary_crossentropy', 'categorical_crossentropy', 'sparse_categorical_crossentropy'])
@pytest.mark.parametrize('dtype', ['int32', 'bool'])
def test_crossentropies_refuse_non_float_outputs(fn, dtype):
    out = K.constant(np.array([[0, 1]]), dtype=dtype)
    target = K.constant(np.array([1]), dtype='int32') if fn.startswith('sparse') else out
    with pytest.raises(TypeError, match=r'\[%s\] output must be a float tensor' % fn):
        getattr(K, fn)(target, out)


@pytest.mark.parametrize('value', [None, 'abc'])
@pytest.mark.parametrize('fn', ['variable', 'constant'])
def test_variable_and_constant_of_none_or_a_string_raise(fn, value):
    with pytest.raises(ValueError, match=r'\[%s\]' % fn):
        getattr(K, fn)(value)


@pytest.mark.parametrize('ndim', [-1, 1.5, True])
def test_placeholder_with_a_bad_ndim_raises(ndim):
    with pytest.raises(ValueError, match=r'\[placeholder\] ndim'):
        K.placeholder(ndim=ndim)


@pytest.mark.parametrize('sparse', [False, True])
def test_placeholder_with_a_float_dim_raises(sparse):
    with pytest.raises(TypeError, match=r'\[placeholder\]'):
        K.placeholder((2.5, 3), sparse=sparse)


@pytest.mark.parametrize('sparse', [False, True])
def test_placeholder_with_a_huge_or_negative_dim_raises(sparse):
    with pytest.raises(ValueError, match=r'\[placeholder\].*64 bits'):
        K.placeholder((2**64, 3), sparse=sparse)
    with pytest.raises(ValueError, match=r'\[placeholder\].*negative'):
        K.placeholder((-1, 3), sparse=sparse)


# ---------------------------------------------------------------- more wrong answers
PROBS = np.array([[.2, .3, .5], [.1, .6, .3]], 'float32')


@pytest.mark.parametrize('ids', [[5., 1.], [-1., 1.], [np.nan, 1.], [3., 0.]])
def test_sparse_categorical_crossentropy_with_an_invalid_class_id_raises(ids):
    loss = K.sparse_categorical_crossentropy(K.constant(np.array(ids, 'float32')), K.constant(PROBS))
    with pytest.raises(ValueError, match=r'\[sparse_categorical_crossentropy\] target holds class id'):
        K.eval(loss)


def test_sparse_categorical_crossentropy_with_invalid_int_ids_fed_at_run_time_raises():
    t = K.placeholder((None,), dtype='int32')
    f = K.function([t], [K.sparse_categorical_crossentropy(t, K.constant(PROBS), from_logits=True)])
    good = f([np.array([2, 1], 'int32')])[0]
    lsm = PROBS - np.log(np.exp(PROBS).sum(-1, keepdims=True))
    np.testing.assert_allclose(good, [-lsm[0, 2], -lsm[1, 1]], rtol=1e-6)
    with pytest.raises(ValueError, match=r'\[sparse_categorical_crossentropy\] target holds class id 3 '):
        f([np.array([3, 1], 'int32')])


def test_repeat_elements_with_bool_rep_repeats_once_like_numpy():
    x = np.arange(24, dtype='float32').reshape(2, 3, 4)
    np.testing.assert_array_equal(K.eval(K.repeat_elements(K.constant(x), True, 1)), np.repeat(x, True, 1))
    np.testing.assert_array_equal(K.eval(K.repeat_elements(K.constant(x), False, 1)), np.repeat(x, False, 1))


def test_stack_and_expand_dims_with_bool_axis_follow_numpy():
    c = np.arange(4, dtype='float32')
    np.testing.assert_array_equal(K.eval(K.stack([K.constant(c), K.constant(c)], axis=True)), np.stack([c, c], axis=True))
    np.testing.assert_array_equal(K.eval(K.expand_dims(K.constant(c), axis=True)), np.expand_dims(c, axis=True))


@pytest.mark.parametrize('args', [(1, 7, 1e300), (1, 7, float('inf')), (7, 1, -float('inf')), (1, 7, -float('inf')),
                                  (1., 7., 1e39), (0.5, 1e300, 1e300)])
def test_arange_with_a_huge_step_follows_numpy(args):
    np.testing.assert_array_equal(K.eval(K.arange(*args)), np.arange(*args).astype('float32'))


@pytest.mark.parametrize('args', [(-2**62, 2**62, 2**61), (2**62, -2**62, -2**61), (-2**62, 2**62, 2**62)])
def test_arange_whose_span_exceeds_int64_is_exact(args):
    np.testing.assert_array_equal(K.eval(K.arange(*args, dtype='int64')), np.arange(*args))


@pytest.mark.parametrize('xs,ys', [((2, 3), (4, None, 5)), ((None, 3), (4, 3, None)), ((2, None), (None, None, 5))])
def test_dot_with_unknown_dims_in_y(xs, ys):
    x, y = K.placeholder(xs), K.placeholder(ys)
    a = np.random.RandomState(0).rand(2, 3).astype('float32')
    b = np.random.RandomState(1).rand(4, 3, 5).astype('float32')
    out = K.function([x, y], [K.dot(x, y)])([a, b])[0]
    np.testing.assert_allclose(out, np.dot(a, b), rtol=1e-5)


@pytest.mark.parametrize('xs,ys', [((2, 0), (3, 0, 4)), ((1, 1, 0), (0, 2)), ((0, 3), (2, 3, 4)), ((2, 3), (0, 3, 4)),
                                   ((2, 0), (0, 4)), ((0,), (0, 2))])
def test_dot_with_size_zero_dims(xs, ys):
    a, b = np.ones(xs, 'float32'), np.ones(ys, 'float32')
    np.testing.assert_array_equal(K.eval(K.dot(K.constant(a), K.constant(b))), np.dot(a, b))
    x, y = K.placeholder((None,) * len(xs)), K.placeholder((None,) * len(ys))
    np.testing.assert_array_equal(K.function([x, y], [K.dot(x, y)])([a, b])[0], np.dot(a, b))


@pytest.mark.parametrize('code,op', [
    ("K.concatenate([K.placeholder((2**62,), dtype='int8'), K.placeholder((2**62,), dtype='int8')], 0)", 'concatenate'),
    ("K.temporal_padding(K.placeholder((1, 2**63 - 2, 1), dtype='int8'), (1, 1))", 'temporal_padding'),
    ("K.resize_images(K.placeholder((1, 2**61, 2, 1), dtype='int8'), 4, 1, 'channels_last')", 'resize_images'),
    ("K.one_hot(K.placeholder((2**62,), dtype='int8'), 2**62)", 'one_hot'),
    ("K.placeholder((2**62, 2**62))", 'placeholder'),
    ("K.placeholder((2**62,), dtype='float32')", 'placeholder'),
    ("K.ones((2**64,))", 'ones'),
    ("K.zeros((-1,))", 'zeros'),
])
def test_more_sizes_that_overflow_raise_naming_the_op(box, code, op):
    raises_in_sandbox(box, code, 'ValueError', op)


@pytest.mark.parametrize('ksize', [(2**32, 2**32), (2**62 + 4, 4)])
def test_local_conv_kernel_size_whose_product_overflows_raises(ksize):
    # The product wrapped (to 0, or to 16 = the kernel's dim 1, which then passed the check).
    x, w = K.placeholder((1, 4, 4, 1)), K.placeholder((1, 16, 1))
    with pytest.raises(ValueError, match=r'\[local_conv2d\] .*does not fit in a 64-bit size'):
        K.local_conv2d(x, w, ksize, (1, 1), (1, 1))


# ---------------------------------------------------------------- found by test_fuzz.py
@pytest.mark.parametrize('code,op', [
    ("K.squeeze(K.constant(1.), -1)", 'squeeze'),
    ("K.logsumexp(K.placeholder(shape=None), axis=(-1, -1))", 'logsumexp'),
    ("K.reshape(K.constant(1.), (3, 4, -2**63))", 'reshape'),
    ("K.repeat_elements(K.constant(1.), 1, 0)", 'repeat_elements'),
    ("K.repeat_elements(2**64, 1, 0)", 'repeat_elements'),
])
def test_calls_that_crashed_under_fuzzing_raise(box, code, op):
    raises_in_sandbox(box, code, 'ValueError', op)


def test_iterating_a_tensor_with_an_unknown_first_dim_raises(box):
    r = box.run("tuple(K.placeholder((None, 2)))", timeout=20)
    assert r.crash is None and r.exc == 'TypeError' and 'not iterable' in r.msg, r
    rows = [K.eval(t) for t in K.constant(np.arange(6.).reshape(3, 2))]
    np.testing.assert_array_equal(rows, np.arange(6.).reshape(3, 2))


def test_dot_with_an_unknown_rank_raises_instead_of_multiplying():
    with pytest.raises(ValueError, match=r'\[dot\] needs tensors of known rank'):
        K.dot(K.constant(np.ones(4, 'float32')), K.placeholder(shape=None))


def test_categorical_crossentropy_of_unknown_rank_reduces_the_last_axis():
    import reference as R
    t, o = K.placeholder(shape=None), K.placeholder(shape=None)
    a = np.random.RandomState(0).rand(2, 3).astype('float32')
    b = np.random.RandomState(1).rand(2, 3).astype('float32')
    np.testing.assert_allclose(K.function([t, o], [K.categorical_crossentropy(t, o)])([a, b])[0],
                               R.categorical_crossentropy(a, b), rtol=1e-5)


def test_relu_with_a_negative_max_value_clips_as_tf():
    # TF: clip_by_value(relu(x), 0, max_value) gives max_value when it is below 0 (no K.clip fix-up).
    x = np.array([-0.5, 0.25, 3.0], 'float32')
    y = K.eval(K.relu(K.constant(x), alpha=1.0, max_value=-1.5))
    np.testing.assert_allclose(y, -1.5 - np.maximum(-x, 0), rtol=1e-6)


def test_cumsum_of_a_scalar_raises_as_tf():
    with pytest.raises(ValueError, match=r'\[cumsum\] needs a tensor of rank >= 1'):
        K.cumsum(K.constant(1.))


@pytest.mark.parametrize('code', ["K.variable(2**62, dtype='uint8')", "K.placeholder(ndim=2**64)",
                                  "K.random_binomial((0, 2**62, 2**62), p=K.variable([0.5]))",
                                  "K.constant(np.ones(2), dtype='int8') + 300"])
def test_out_of_range_values_raise_value_errors(box, code):
    r = box.run(code)
    assert r.crash is None and r.exc == 'ValueError' and r.msg.startswith('['), r
