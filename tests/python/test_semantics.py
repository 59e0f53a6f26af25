"""The lines of ../shared/spec/semantics_checklist.md for ops that exist now, one test each:
the Keras 2.3.1 (TF backend) rule, with the numbers from the checklist."""
import numpy as np
import pytest

from keras_cpp import backend as K


def ev(x):
    return K.eval(x)


def c(x, dtype='float32'):
    return K.constant(np.asarray(x), dtype=dtype)


# ---------------------------------------------------------------- linear algebra
@pytest.mark.parametrize('xs,ys,out', [((2, 3), (4, 3, 5), (2, 4, 5)), ((2, 3, 4), (5, 4, 6), (2, 3, 5, 6)),
                                       ((32, 28, 3), (3, 4), (32, 28, 4)), ((4, 2), (5, 2, 3), (4, 5, 3))])
def test_dot_nd_rule(xs, ys, out):
    rng = np.random.default_rng(0)
    a, b = rng.random(xs), rng.random(ys)
    r = K.dot(c(a, 'float64'), c(b, 'float64'))
    assert r.shape == out
    np.testing.assert_allclose(ev(r), np.dot(a, b), rtol=1e-12)


def test_dot_with_unknown_dims():
    x = K.placeholder((None, 3, 4))
    y = K.placeholder((5, 4, 6))
    assert K.int_shape(K.dot(x, y)) == (None, 3, 5, 6)
    x2 = K.placeholder((None, 4))
    assert K.int_shape(K.dot(x2, K.placeholder((4, None)))) == (None, None)


def test_batch_dot_basic():
    r = K.batch_dot(c([[1, 2], [3, 4]]), c([[5, 6], [7, 8]]), axes=1)
    assert r.shape == (2, 1)
    np.testing.assert_array_equal(ev(r), [[17], [53]])


@pytest.mark.parametrize('xs,ys,axes,out', [
    ((4, 2, 3), (4, 5, 3), (2, 2), (4, 2, 5)), ((4, 2, 3), (4, 3), (2, 1), (4, 2)), ((4, 2), (4, 2, 3), (1, 1), (4, 3)),
    ((32, 20), (32, 20), 1, (32, 1)), ((7, 3, 4, 5), (7, 2, 3, 4), (2, 3), (7, 3, 5, 2, 3)),
    ((7, 3, 4, 5), (7, 2, 4), 2, (7, 3, 5, 2)), ((7, 3, 4), (7, 2, 3, 4), (2, 3), (7, 3, 2, 3)),
    ((7, 4, 3), (7, 3, 5), (2, 1), (7, 4, 5)), ((7, 4), (7, 3, 4), (1, 2), (7, 3)), ((7, 4), (7, 4), None, (7, 1)),
    ((7, 3, 4), (7, 4, 5), None, (7, 3, 5)), ((32, 20, 1), (32, 30, 20), (1, 2), (32, 1, 30)),
    ((7, 3, 4), (7, 5, 4), (-1, -1), (7, 3, 5))])
def test_batch_dot_shapes(xs, ys, axes, out):
    import reference as R
    rng = np.random.default_rng(1)
    a, b = rng.random(xs), rng.random(ys)
    r = K.batch_dot(c(a, 'float64'), c(b, 'float64'), axes=axes)
    assert r.shape == out
    np.testing.assert_allclose(ev(r), R.batch_dot(a, b, axes), rtol=1e-12)


@pytest.mark.parametrize('xs,ys,axes', [((2, 3), (2, 3), 0), ((2, 3, 4), (2, 3, 4), (0, 1)), ((3,), (3, 3), None),
                                        ((2, 3), (3,), 1), ((2, 3), (4, 3), 1), ((2, 3, 4), (2, 5, 4), (2, 1)),
                                        ((2, 3, 4), (2, 3, 4), [[1], [1]])])
def test_batch_dot_errors(xs, ys, axes):
    with pytest.raises(ValueError, match=r'\[batch_dot\]'):
        K.batch_dot(c(np.zeros(xs)), c(np.zeros(ys)), axes=axes)


def test_batch_dot_unknown_dims():
    r = K.batch_dot(K.placeholder((None, 3, 4, 5)), K.placeholder((None, 2, 3, 4)), axes=(2, 3))
    assert K.int_shape(r) == (None, 3, 5, 2, 3)
    r2 = K.batch_dot(K.placeholder(ndim=4), K.placeholder(ndim=4), axes=(2, 3))
    assert K.int_shape(r2) == (None,) * 5
    x, y = K.placeholder((None, 3, 4)), K.placeholder((None, 4, 5))
    f = K.function([x, y], [K.batch_dot(x, y)])
    for n in (1, 3):
        a, b = np.ones((n, 3, 4), 'float32'), np.ones((n, 4, 5), 'float32')
        np.testing.assert_array_equal(f([a, b])[0], np.full((n, 3, 5), 4.))


def test_transpose():
    a = np.arange(6.).reshape(2, 3)
    np.testing.assert_array_equal(ev(K.transpose(c(a))), a.T)
    np.testing.assert_array_equal(ev(K.transpose(c([1., 2.]))), [1., 2.])


# ---------------------------------------------------------------- reductions
def test_var_std_population():
    np.testing.assert_allclose(ev(K.var(c([1., 2., 3., 4.]))), 1.25, rtol=1e-6)
    np.testing.assert_allclose(ev(K.std(c([1., 2., 3., 4.]))), 1.118034, rtol=1e-6)


def test_axis_lists_and_negatives():
    assert ev(K.max(c(np.zeros((4, 2, 3))), axis=[1, -1])).shape == (4,)
    r = ev(K.mean(c([[1, 2, 3, 4], [2, 2, 2, 2]]), axis=(0, 1), keepdims=True))
    assert r.shape == (1, 1)
    np.testing.assert_allclose(r, [[2.25]])


def test_mean_var_of_bool_is_floatx():
    r = K.mean(c([True, False, True], 'bool'))
    assert r.dtype == 'float32'
    np.testing.assert_allclose(ev(r), 0.6666667, rtol=1e-6)
    v = K.var(c([True, False, True, True], 'bool'))
    assert v.dtype == 'float32'
    np.testing.assert_allclose(ev(v), 0.1875, rtol=1e-6)
    m = K.mean(K.equal(c([1, 2, 3]), c([1, 0, 3])))
    np.testing.assert_allclose(ev(m), 2 / 3., rtol=1e-6)


def test_any_all_return_bool():
    r = K.any(c([[0, 0], [0, 2]]), axis=1)
    assert r.dtype == 'bool'
    np.testing.assert_array_equal(ev(r), [False, True])
    r = K.all(c([[1, 0], [3, 2]]), axis=1)
    assert r.dtype == 'bool'
    np.testing.assert_array_equal(ev(r), [False, True])


def test_argmax_argmin_int64_first_occurrence():
    r = K.argmax(c([[1, 3, 3]]))
    assert r.dtype == 'int64'
    np.testing.assert_array_equal(ev(r), [1])
    np.testing.assert_array_equal(ev(K.argmin(c([[2, 1, 1, 5]]))), [1])
    np.testing.assert_array_equal(ev(K.argmax(c([[1, 5], [5, 5]]), axis=0)), [1, 0])


def test_logsumexp_stable():
    np.testing.assert_allclose(ev(K.logsumexp(c([1e4, 1e-4]))), 1e4, rtol=1e-6)
    np.testing.assert_allclose(ev(K.logsumexp(c([-1e4, -1e4]))), -1e4 + np.log(2), rtol=1e-6)
    r = ev(K.logsumexp(c([[0., 0.], [1000., 1000.]]), axis=1, keepdims=True))
    np.testing.assert_allclose(r, [[np.log(2)], [1000 + np.log(2)]], rtol=1e-6)


def test_cumsum_default_axis_0():
    np.testing.assert_array_equal(ev(K.cumsum(c([[1, 2], [3, 4]]))), [[1, 2], [4, 6]])
    np.testing.assert_array_equal(ev(K.cumprod(c([[1, 2], [3, 4]]))), [[1, 2], [3, 8]])


def test_prod_of_python_list_of_scalars():
    a, b = K.constant(3.), K.constant(4.)
    np.testing.assert_allclose(ev(K.prod([a, b, 2.])), 24.)


def test_count_params():
    assert K.count_params(K.variable(np.zeros(()))) == 1
    assert K.count_params(K.zeros((3, 4))) == 12


# ---------------------------------------------------------------- elementwise
def test_round_half_to_even():
    r = ev(K.round(c([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.6])))
    np.testing.assert_array_equal(r, [-2, -2, -0., 0, 2, 2, 3])


def test_sign_of_zero():
    np.testing.assert_array_equal(ev(K.sign(c([-2., -0., 0., 3.]))), [-1, 0, 0, 1])


def test_clip_min_greater_than_max():
    np.testing.assert_allclose(ev(K.clip(c([.1, .5, .9]), .6, .4)), [.6, .6, .6], rtol=1e-6)
    np.testing.assert_array_equal(ev(K.clip(c([1, 5, 9], 'int32'), 6, 4)), [6, 6, 6])


def test_clip_none_bound_and_tensor_bounds():
    np.testing.assert_allclose(ev(K.clip(c([.1, .5, .9]), .2, None)), [.2, .5, .9], rtol=1e-6)
    np.testing.assert_allclose(ev(K.clip(c([.1, .5, .9]), None, .3)), [.1, .3, .3], rtol=1e-6)
    x = np.random.default_rng(0).uniform(-2, 2, (3, 4)).astype('float32')
    lo = np.array([-1., 0., .5, -.2], 'float32')
    np.testing.assert_allclose(ev(K.clip(c(x), c(lo), c(lo) + 1)), np.clip(x, lo, lo + 1))


def test_sqrt_of_negatives_is_zero_with_zero_grad():
    np.testing.assert_array_equal(ev(K.sqrt(c([-1., 4.]))), [0., 2.])
    x = K.variable(np.array([-1., 4.]), dtype='float64')
    g = K.gradients(K.sum(K.sqrt(x)), [x])[0]
    np.testing.assert_allclose(ev(g), [0., 0.25])


def test_log_zero_and_pow_negative_base():
    assert ev(K.log(c(0.))) == -np.inf
    assert np.isnan(ev(K.pow(c(-8.), 1. / 3)))
    np.testing.assert_allclose(ev(K.pow(c([-2., 3.]), 2)), [4., 9.])


def test_cast_float_to_int_truncates():
    np.testing.assert_array_equal(ev(K.cast(c([-1.7, 1.7, 2.5]), 'int32')), [-1, 1, 2])
    np.testing.assert_array_equal(ev(K.cast(c([True, False], 'bool'), 'float32')), [1., 0.])
    assert K.cast(K.variable(1.), 'int32').dtype == 'int32'


def test_zeros_like_ones_like_of_int_is_floatx():
    x = c([1, 2], 'int32')
    assert K.zeros_like(x).dtype == K.floatx() and K.ones_like(x).dtype == K.floatx()
    assert K.zeros_like(x, dtype='int64').dtype == 'int64'


def test_mixed_dtype_arithmetic_is_rejected_or_promoted_consistently():
    # Keras inserts casts itself; either way the result must be correct when it builds.
    try:
        r = c([1., 2.], 'float32') + c([1., 2.], 'float64')
    except (TypeError, ValueError) as e:
        assert 'add' in str(e)
    else:
        np.testing.assert_allclose(ev(r), [2., 4.])


# ---------------------------------------------------------------- activations
def test_sigmoid_softsign_softplus_values():
    np.testing.assert_allclose(ev(K.sigmoid(c([0., 2.]))), [.5, .880797], rtol=1e-6)
    np.testing.assert_allclose(ev(K.softsign(c([-1., 0., 3.]))), [-.5, 0., .75], rtol=1e-6)
    r = ev(K.softplus(c([-20., 0., 1., 20.], 'float64')))
    np.testing.assert_allclose(r, [2.06115362e-9, 0.693147, 1.313262, 20.000000002], rtol=1e-6)
    assert np.isfinite(ev(K.softplus(c([1000.])))).all() and np.isfinite(ev(K.sigmoid(c([-1000., 1000.])))).all()


def test_softmax_axis_and_stability():
    r = ev(K.softmax(c([[1., 2., 3.], [1., 1., 1.]])))
    np.testing.assert_allclose(r, [[.090031, .244728, .665241], [1 / 3.] * 3], rtol=1e-5)
    np.testing.assert_allclose(ev(K.softmax(c([[1000., 1001., 1002.]]))), [[.090031, .244728, .665241]], rtol=1e-5)
    r = ev(K.softmax(c(np.arange(6.).reshape(1, 3, 2)), axis=1))
    np.testing.assert_allclose(r[0, :, 0], [.015876, .11731, .866813], rtol=1e-4)
    np.testing.assert_allclose(r[0, :, 1], [.015876, .11731, .866813], rtol=1e-4)


RELU_X = [-3., -1., 0., .5, .8, 1., 7.]


@pytest.mark.parametrize('alpha,max_value,threshold,expected', [
    (0., None, 0., [0, 0, 0, .5, .8, 1, 7]), (.1, None, 0., [-.3, -.1, 0, .5, .8, 1, 7]),
    (0., 5., 0., [0, 0, 0, .5, .8, 1, 5]), (0., None, .8, [0, 0, 0, 0, 0, 1, 7]),
    (.1, 5., .8, [-.38, -.18, -.08, -.03, 0, 1, 5]), (.1, 0., .8, [-.38, -.18, -.08, -.03, 0, 0, 0]),
    (.1, 5., -2.8, [-.02, 0, 0, .5, .8, 1, 5]), (0., None, -2.8, [0, -1, 0, .5, .8, 1, 7]),
    (.1, 6., 0., [-.3, -.1, 0, .5, .8, 1, 6])])
def test_relu_table(alpha, max_value, threshold, expected):
    r = ev(K.relu(c(RELU_X), alpha=alpha, max_value=max_value, threshold=threshold))
    np.testing.assert_allclose(r, expected, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- losses
def test_categorical_crossentropy_probs():
    t = c([0., 1., 0.])
    for p, want in (([.2, .3, .5], 1.203973), ([.4, .6, 1.], 1.203973), ([1., 0., 0.], 16.118096)):
        np.testing.assert_allclose(ev(K.categorical_crossentropy(t, c(p))), want, rtol=1e-5)


def test_categorical_crossentropy_from_logits_and_axis():
    np.testing.assert_allclose(ev(K.categorical_crossentropy(c([0., 0., 1.]), c([1., 2., 3.]), from_logits=True)),
                               0.407606, rtol=1e-5)
    r = K.categorical_crossentropy(c([[[1., 0.], [0., 1.]]]), c([[[.9, .2], [.1, .8]]]), axis=1)
    assert r.shape == (1, 2)
    np.testing.assert_allclose(ev(r), [[0.105361, 0.223144]], rtol=1e-5)


def test_sparse_categorical_crossentropy():
    for p, want in (([.2, .3, .5], 1.203973), ([1., 0., 0.], 16.118096), ([.4, .6, 1.], 1.203973)):
        np.testing.assert_allclose(ev(K.sparse_categorical_crossentropy(c([1.]), c([p]))), [want], rtol=1e-5)
    p = np.full((4, 3), 1 / 3., 'float32')
    assert ev(K.sparse_categorical_crossentropy(c(np.zeros((4, 1))), c(p))).shape == (4,)
    p3 = np.full((2, 5, 3), 1 / 3., 'float32')
    assert ev(K.sparse_categorical_crossentropy(c(np.zeros((2, 5, 1))), c(p3))).shape == (2, 5)
    t = K.placeholder((None, 1))
    o = K.placeholder((None, 3))
    f = K.function([t, o], [K.sparse_categorical_crossentropy(t, o)])
    assert f([np.zeros((6, 1), 'float32'), np.full((6, 3), 1 / 3., 'float32')])[0].shape == (6,)


def test_binary_crossentropy():
    r = ev(K.binary_crossentropy(c([1., 1., 0., .3]), c([0., .9, .2, .6])))
    np.testing.assert_allclose(r[1:], [0.105361, 0.223144, 0.794651], rtol=1e-5)
    np.testing.assert_allclose(r[0], 16.118096, rtol=1e-2)
    np.testing.assert_allclose(ev(K.binary_crossentropy(c([1., 1.]), c([0., 2.]), from_logits=True)),
                               [0.693147, 0.126928], rtol=1e-5)


def test_one_hot():
    r = K.one_hot(c([[0, 2], [1, 3]], 'int32'), 3)
    assert r.shape == (2, 2, 3) and r.dtype == 'float32'
    v = ev(r)
    np.testing.assert_array_equal(v[1, 1], [0, 0, 0])
    np.testing.assert_array_equal(v[0, 1], [0, 0, 1])
    assert K.one_hot(c([[1], [0]], 'int32'), 4).shape == (2, 1, 4)


def test_switch_rank1_condition():
    r = K.switch(c([1, 0], 'int32'), c(np.ones((2, 3))), c(np.zeros((2, 3))))
    np.testing.assert_array_equal(ev(r), [[1, 1, 1], [0, 0, 0]])


def test_bias_add_channels_first_full_rank_is_reshape():
    x = c(np.zeros((1, 3, 2)))
    b = c(np.arange(6.).reshape(2, 3))
    np.testing.assert_array_equal(ev(K.bias_add(x, b, data_format='channels_first'))[0], [[0, 1], [2, 3], [4, 5]])


def test_moving_average_update():
    x = K.variable(10.)
    K.eval(K.moving_average_update(x, 2., 0.9))
    np.testing.assert_allclose(K.get_value(x), 9.2, rtol=1e-6)
    y = K.variable(np.array([10.]), dtype='float64')
    K.eval(K.moving_average_update(y, K.constant([2.], dtype='float32'), 0.9))  # value cast to x's dtype
    np.testing.assert_allclose(K.get_value(y), [9.2], rtol=1e-12)


@pytest.mark.parametrize('dt', ['int8', 'int16', 'int32', 'int64'])
def test_integer_floordiv_mod_edge_cases(dt):
    mn = np.iinfo(dt).min
    x, y = np.array([mn, 7, -7, 5, mn], dt), np.array([-1, -1, 2, 0, 3], dt)
    fd = ev(K.floordiv(c(x, dt), c(y, dt)))  # INT_MIN // -1 wraps (numpy's result) instead of trapping
    np.testing.assert_array_equal(fd, [mn, -7, -4, 0, np.floor_divide(x[4], y[4])])
    md = ev(K.mod(c(x, dt), c(y, dt)))
    np.testing.assert_array_equal(md, [0, 0, 1, 0, np.mod(x[4], y[4])])
