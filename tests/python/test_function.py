"""K.function, gradients and the Tensor protocol: updates from pre-call values, repeated calls,
None batch dims, higher-order gradients, update handles, values, learning phase, switch,
operators, indexing, attributes, and inputs left untouched."""
import numpy as np
import pytest

from keras_cpp import backend as K

import gradcheck


def _f32(x):
    return np.asarray(x, dtype='float32')


# ---------------------------------------------------------------- updates
def test_outputs_and_updates_use_pre_call_values():
    x = K.variable(_f32([1., 2.]))
    y = K.placeholder((2,))
    f = K.function([y], [K.square(x) + y], updates=[(x, x * 2)])
    out = f([_f32([10., 20.])])[0]
    np.testing.assert_allclose(out, [11., 24.])
    np.testing.assert_allclose(K.get_value(x), [2., 4.])


def test_updates_see_each_other_pre_call():
    a = K.variable(_f32([1.]))
    b = K.variable(_f32([2.]))
    f = K.function([], [a + b], updates=[(a, b), (b, a)])  # a swap
    assert f([])[0] == 3.
    np.testing.assert_allclose(K.get_value(a), [2.])
    np.testing.assert_allclose(K.get_value(b), [1.])
    # an update's right-hand side reading a variable updated in the same call sees the old value
    c = K.variable(_f32(1.))
    d = K.variable(_f32(0.))
    f2 = K.function([], [], updates=[K.update_add(c, 1.), K.update(d, c * 10)])
    f2([])
    assert K.get_value(c) == 2. and K.get_value(d) == 10.


def test_repeated_calls():
    x = K.variable(_f32(0.))
    f = K.function([], [x], updates=[K.update_add(x, 1.)])
    outs = [float(f([])[0]) for _ in range(5)]
    assert outs == [0., 1., 2., 3., 4.]
    assert K.get_value(x) == 5.


def test_update_handles_in_function():
    v1, v2, v3, v4 = [K.variable(_f32([10., 4.])) for _ in range(4)]
    p = K.placeholder((2,))
    f = K.function([p], [v1 + v2 + v3 + v4], updates=[
        K.update(v1, p), K.update_add(v2, p), K.update_sub(v3, p), K.moving_average_update(v4, p, 0.9)])
    out = f([_f32([2., 2.])])[0]
    np.testing.assert_allclose(out, [40., 16.])
    np.testing.assert_allclose(K.get_value(v1), [2., 2.])
    np.testing.assert_allclose(K.get_value(v2), [12., 6.])
    np.testing.assert_allclose(K.get_value(v3), [8., 2.])
    np.testing.assert_allclose(K.get_value(v4), [9.2, 3.8], rtol=1e-6)


def test_update_handle_eval_applies_once_per_eval():
    v = K.variable(_f32(1.))
    h = K.update_add(v, 2.)
    assert K.get_value(v) == 1.
    assert K.eval(h) == 3.
    assert K.eval(h) == 5.
    assert K.get_value(v) == 5.


def test_function_with_no_updates_leaves_variables():
    v = K.variable(_f32([1., 2.]))
    f = K.function([], [v * 3])
    f([])
    np.testing.assert_array_equal(K.get_value(v), [1., 2.])


def test_single_output_function_returns_array():
    p = K.placeholder((2,))
    f = K.function([p], p * 2)
    np.testing.assert_array_equal(f([_f32([1., 2.])]), [2., 4.])


def test_function_name_kwarg_and_dict_feed():
    p = K.placeholder((2,))
    f = K.function([p], [p + 1], name='train_function')
    np.testing.assert_array_equal(f([[1., 2.]])[0], [2., 3.])


# ---------------------------------------------------------------- None dims
def test_placeholder_none_batch_fed_different_sizes():
    x = K.placeholder((None, 3))
    w = K.variable(np.arange(6, dtype='float32').reshape(3, 2))
    y = K.dot(x, w)
    assert K.int_shape(y) == (None, 2)
    f = K.function([x], [y, K.sum(x, axis=0), K.mean(x)])
    for n in (1, 4, 7, 2):
        a = np.random.default_rng(n).random((n, 3)).astype('float32')
        outs = f([a])
        np.testing.assert_allclose(outs[0], a @ K.get_value(w), rtol=1e-5)
        np.testing.assert_allclose(outs[1], a.sum(0), rtol=1e-5)
        np.testing.assert_allclose(outs[2], a.mean(), rtol=1e-5)


def test_placeholder_ndim_only_and_gradient_with_none_batch():
    x = K.placeholder(ndim=2)
    assert K.int_shape(x) == (None, None)
    w = K.variable(np.ones((3, 1), 'float32'))
    loss = K.mean(K.square(K.dot(x, w)))
    g = K.gradients(loss, [w])[0]
    f = K.function([x], [loss, g])
    for n in (2, 5):
        a = np.arange(3 * n, dtype='float32').reshape(n, 3)
        l, gv = f([a])
        pred = a.sum(1, keepdims=True)
        np.testing.assert_allclose(l, np.mean(pred ** 2), rtol=1e-5)
        np.testing.assert_allclose(gv, 2 * a.T @ pred / n, rtol=1e-5)


# ---------------------------------------------------------------- gradients
def test_gradients_of_gradients():
    x = K.variable(np.array([1., 2., -3.]), dtype='float64')
    y = K.sum(x ** 3)
    g = K.gradients(y, [x])[0]
    gg = K.gradients(K.sum(g), [x])[0]
    ggg = K.gradients(K.sum(gg), [x])[0]
    v = np.array([1., 2., -3.])
    np.testing.assert_allclose(K.eval(g), 3 * v ** 2)
    np.testing.assert_allclose(K.eval(gg), 6 * v)
    np.testing.assert_allclose(K.eval(ggg), [6., 6., 6.])


def test_hessian_vector_through_tanh_and_dot():
    rng = np.random.default_rng(0)
    w0 = rng.random((3, 2))
    w = K.variable(w0, dtype='float64')
    x = K.constant(rng.random((4, 3)), dtype='float64')
    loss = K.sum(K.tanh(K.dot(x, w)))
    g = K.gradients(loss, [w])[0]
    h = K.gradients(K.sum(g * g), [w])[0]  # gradient of |grad|^2, checked numerically
    f = K.function([], [K.sum(g * g)])

    def sq_norm(v):
        K.set_value(w, v)
        return float(f([])[0])
    num = gradcheck.numeric_gradient(sq_norm, w0)
    K.set_value(w, w0)
    np.testing.assert_allclose(K.eval(h), num, rtol=gradcheck.GRAD_TOL[0], atol=gradcheck.GRAD_TOL[1])


def test_gradient_none_for_unconnected_variables():
    a = K.variable(_f32([1., 2.]))
    b = K.variable(_f32([3., 4.]))
    c = K.variable(_f32([5., 6.]))
    loss = K.sum(a * 2) + K.sum(K.stop_gradient(c))
    grads = K.gradients(loss, [a, b, c])
    assert grads[1] is None and grads[2] is None
    np.testing.assert_allclose(K.eval(grads[0]), [2., 2.])


def test_gradient_of_broadcast_input_is_reduced():
    a = K.variable(_f32([[1.], [2.]]))
    b = K.variable(_f32([1., 2., 3.]))
    g = K.gradients(K.sum(a * b), [a, b])
    np.testing.assert_allclose(K.eval(g[0]), [[6.], [6.]])
    np.testing.assert_allclose(K.eval(g[1]), [3., 3., 3.])


def test_gradient_through_function_training_step():
    rng = np.random.default_rng(1)
    w = K.variable(rng.random((3, 1)).astype('float32'))
    x = K.placeholder((None, 3))
    t = K.placeholder((None, 1))
    loss = K.mean(K.square(K.dot(x, w) - t))
    g = K.gradients(loss, [w])[0]
    f = K.function([x, t], [loss], updates=[K.update_sub(w, 0.1 * g)])
    a = rng.random((8, 3)).astype('float32')
    tv = a @ np.array([[1.], [-2.], [0.5]], 'float32')
    losses = [float(f([a, tv])[0]) for _ in range(30)]
    assert losses[-1] < losses[0] * 0.5


# ---------------------------------------------------------------- values
def test_eval_get_set_value_and_batches():
    v = K.variable(np.arange(6).reshape(2, 3), dtype='float32', name='v')
    assert K.eval(v).dtype == np.float32
    np.testing.assert_array_equal(K.eval(v * 2), np.arange(6).reshape(2, 3) * 2)
    K.set_value(v, np.ones((2, 3), 'float64'))  # cast to the variable's dtype
    assert K.get_value(v).dtype == np.float32
    np.testing.assert_array_equal(K.get_value(v), np.ones((2, 3)))
    w = K.variable(_f32(0.))
    K.batch_set_value([(v, np.zeros((2, 3))), (w, 7.)])
    vals = K.batch_get_value([v, w])
    np.testing.assert_array_equal(vals[0], np.zeros((2, 3)))
    assert vals[1] == 7.
    assert K.batch_get_value([]) == []


def test_get_value_is_a_copy_and_variable_keeps_own_buffer():
    init = np.ones(3, 'float32')
    v = K.variable(init)
    init[:] = 5  # the variable does not alias the initial array
    got = K.get_value(v)
    np.testing.assert_array_equal(got, [1., 1., 1.])
    got[:] = 9  # nor the returned array
    np.testing.assert_array_equal(K.get_value(v), [1., 1., 1.])


def test_eval_of_placeholder_free_expressions_and_constants():
    c = K.constant([[1, 2], [3, 4]], dtype='int32')
    assert K.eval(c).dtype == np.int32
    np.testing.assert_array_equal(K.eval(K.sum(c, axis=0)), [4, 6])
    np.testing.assert_array_equal(K.eval(K.constant(0, shape=(2, 3))), np.zeros((2, 3)))
    np.testing.assert_array_equal(K.eval(K.constant(np.arange(6), shape=(3, 2))), np.arange(6).reshape(3, 2))


def test_variable_dtypes_and_shapes():
    assert K.dtype(K.variable(1, 'int16')) == 'int16'
    assert K.dtype(K.variable([True, False], 'bool')) == 'bool'
    assert K.dtype(K.variable(1.)) == K.floatx()
    v = K.variable(np.zeros((2, 3)))
    assert K.int_shape(v) == (2, 3) and K.ndim(v) == 2 and K.count_params(v) == 6
    assert K.count_params(K.variable(3.)) == 1
    assert K.is_variable(v) and not K.is_placeholder(v) and K.is_tensor(v)
    p = K.placeholder((None, 2), name='inp')
    assert K.is_placeholder(p) and not K.is_variable(p) and not K.is_tensor(np.zeros(2))
    np.testing.assert_array_equal(K.eval(K.shape(K.zeros((2, 3)))), [2, 3])
    np.testing.assert_array_equal(K.eval(K.eye(3)), np.eye(3))
    np.testing.assert_array_equal(K.eval(K.eye((2, 3))), np.eye(2, 3))
    np.testing.assert_array_equal(K.eval(K.ones((2,), dtype='int32')), [1, 1])
    assert K.dtype(K.ones((2,), dtype='int32')) == 'int32'


# ---------------------------------------------------------------- learning phase, switch
def test_learning_phase_placeholder_fed_and_default():
    x = K.variable(_f32([1., 2.]))
    y = K.in_train_phase(x * 10, x)
    assert getattr(y, '_uses_learning_phase', False)
    lp = K.learning_phase()
    assert lp is K.learning_phase()
    f = K.function([lp], [y])
    np.testing.assert_array_equal(f([1])[0], [10., 20.])
    np.testing.assert_array_equal(f([0])[0], [1., 2.])
    np.testing.assert_array_equal(K.eval(y), [1., 2.])  # unfed -> test phase
    np.testing.assert_array_equal(K.eval(K.in_test_phase(x * 10, x)), [10., 20.])


def test_in_train_phase_python_flags_and_callables():
    a, b = K.constant(np.ones((3, 3))), K.constant(np.zeros((2, 2)))
    assert K.in_train_phase(a, b, training=1) is a
    assert K.in_train_phase(a, b, training=0) is b
    assert K.in_train_phase(lambda: a, lambda: b, training=True) is a
    assert K.in_test_phase(a, b, training=True) is b


def test_set_learning_phase_fixes_the_flag():
    x = K.constant([1.])
    try:
        K.set_learning_phase(1)
        assert K.learning_phase() == 1
        assert K.in_train_phase(x * 2, x) is not x
    finally:
        K.clear_session()
    assert not isinstance(K.learning_phase(), int)


def test_switch_scalar_and_elementwise():
    c = K.placeholder(shape=(), dtype='bool')
    t, e = K.constant(np.ones((2, 3))), K.constant(np.zeros((2, 3)))
    f = K.function([c], [K.switch(c, t, e)])
    np.testing.assert_array_equal(f([True])[0], np.ones((2, 3)))
    np.testing.assert_array_equal(f([False])[0], np.zeros((2, 3)))
    r = K.switch(K.constant([1, 0], dtype='int32'), t, e)  # rank-1 condition on (2,3)
    np.testing.assert_array_equal(K.eval(r), [[1, 1, 1], [0, 0, 0]])
    r2 = K.switch(K.greater(t - 0.5, 0), lambda: t * 2, lambda: e)
    np.testing.assert_array_equal(K.eval(r2), 2 * np.ones((2, 3)))
    with pytest.raises(ValueError):
        K.switch(K.constant(np.ones((2, 3, 4))), t, e)


def test_switch_gradient_flows_to_selected_branch():
    x = K.variable(np.array([1., -2., 3.]), dtype='float64')
    y = K.switch(K.greater(x, 0), x * 3, x * x)
    g = K.gradients(K.sum(y), [x])[0]
    np.testing.assert_allclose(K.eval(g), [3., -4., 3.])


# ---------------------------------------------------------------- operators and indexing
def test_operators_with_python_scalars_both_sides():
    a = np.array([[1., -2., 3.], [4., 5., -6.]], 'float32')
    x = K.constant(a)
    cases = {
        'x + 1': (x + 1, a + 1), '1 + x': (1 + x, 1 + a), 'x - 2.5': (x - 2.5, a - 2.5), '1. - x': (1. - x, 1. - a),
        'x * 3': (x * 3, a * 3), '2 * x': (2 * x, 2 * a), 'x / 4': (x / 4, a / 4), '1 / x': (1 / x, 1 / a),
        'x // 2': (x // 2, a // 2), '7 // x': (7 // x, 7 // a), 'x % 4': (x % 4, a % 4), '7 % x': (7 % x, 7 % a),
        'x ** 2': (x ** 2, a ** 2), '2 ** x': (2 ** x, 2 ** a), '-x': (-x, -a), 'abs(x)': (abs(x), np.abs(a)),
        '+x': (+x, a), 'x + x': (x + x, a + a), 'x * a': (x * a, a * a),
        'sum(list)': (sum([x, x, x]), 3 * a),
    }
    for k, (t, ref) in cases.items():
        out = K.eval(t)
        assert out.dtype == np.float32, k
        np.testing.assert_allclose(out, ref.astype('float32'), rtol=1e-6, err_msg=k)
    for k, (t, ref) in {'x < 1': (x < 1, a < 1), 'x <= 1': (x <= 1, a <= 1), 'x > 1': (x > 1, a > 1),
                        'x >= 3': (x >= 3, a >= 3), '1 < x': (1 < x, 1 < a)}.items():
        out = K.eval(t)
        assert out.dtype == np.bool_, k
        np.testing.assert_array_equal(out, ref, err_msg=k)


def test_python_scalar_takes_tensor_dtype():
    for dt in ('float16', 'float64', 'int32', 'int64'):
        x = K.constant([1, 2], dtype=dt)
        assert (x + 1).dtype == dt and (2 * x).dtype == dt and (x - 1).dtype == dt
    assert (K.constant([1.], dtype='float64') * 0.1).dtype == 'float64'
    np.testing.assert_allclose(K.eval(K.constant([1.], dtype='float64') * 0.1), [0.1], rtol=1e-15)


def test_equality_and_hash_are_identity():
    x = K.placeholder((2,))
    y = K.placeholder((2,))
    d = {x: 1, y: 2}
    assert d[x] == 1 and x in [x] and x != y and not (x == y)


def test_indexing_matches_numpy():
    a = np.arange(24, dtype='float32').reshape(2, 3, 4)
    for x in (K.constant(a), K.variable(a)):
        for key in [(slice(None), slice(1, 3)), (Ellipsis, 0), (slice(None, None, -1),), (0,), (-1, 2),
                    (slice(None), 1), (Ellipsis, slice(1, None, 2)), (slice(None), None, 0), (1, slice(None), -1),
                    (slice(0, 10),), (slice(None), slice(None, None, -2)), (Ellipsis,)]:
            np.testing.assert_array_equal(K.eval(x[key]), a[key], err_msg=repr(key))
            assert x[key].shape == a[key].shape, key
    p = K.placeholder((None, 5))
    s = K.shape(p)
    f = K.function([p], [s[1:], s[0]])
    r = f([np.zeros((3, 5), 'float32')])
    np.testing.assert_array_equal(r[0], [5])
    assert r[1] == 3


def test_indexing_with_none_batch_and_gradient():
    x = K.placeholder((None, 4), dtype='float64')
    y = x[:, 1:3]
    assert K.int_shape(y) == (None, 2)
    g = K.gradients(K.sum(y * y), [x])[0]
    a = np.arange(12, dtype='float64').reshape(3, 4)
    out, gv = K.function([x], [y, g])([a])
    np.testing.assert_array_equal(out, a[:, 1:3])
    ref = np.zeros_like(a)
    ref[:, 1:3] = 2 * a[:, 1:3]
    np.testing.assert_array_equal(gv, ref)
    rev = K.function([x], [K.gradients(K.sum(x[::-1] * K.constant(np.arange(3.)[:, None], dtype='float64')), [x])[0]])
    np.testing.assert_array_equal(rev([a])[0], np.repeat(np.arange(3.)[::-1, None], 4, 1))


def test_tensor_attributes():
    x = K.placeholder((None, 3), name='inp')
    x._keras_shape = (None, 3)
    x._keras_history = ('layer', 0, 0)
    x._uses_learning_phase = True
    y = x * 2
    y.anything = [1, 2]
    assert x._keras_history == ('layer', 0, 0) and y.anything == [1, 2]
    assert K.is_keras_tensor(x) and not K.is_keras_tensor(y)
    with pytest.raises(ValueError):
        K.is_keras_tensor(np.zeros(2))
    assert x.shape == (None, 3) and list(y.shape)[-1] == 3 and x.dtype == 'float32'
    assert isinstance(x.name, str)
    v = K.variable(0., name='w')
    assert v.constraint is None
    v2 = K.variable(0., name='w')
    assert v.name != v2.name


def test_inputs_not_modified():
    a = np.linspace(-1, 1, 12).reshape(3, 4).astype('float32')
    keep = a.copy()
    x = K.placeholder((3, 4))
    outs = [K.exp(x) + 1, K.relu(x), -x, K.square(x) * 2, K.sigmoid(x), x + x, K.sum(x, axis=0)]
    f = K.function([x], outs)
    for _ in range(2):
        f([a])
        np.testing.assert_array_equal(a, keep)
    # passing arrays straight to ops
    K.eval(K.exp(a) * 2 - a)
    np.testing.assert_array_equal(a, keep)
    # a variable's initial value and set_value's argument
    v = K.variable(a)
    f2 = K.function([], [], updates=[(v, v * 3)])
    f2([])
    np.testing.assert_array_equal(a, keep)
    b = a.copy()
    K.set_value(v, b)
    f2([])
    np.testing.assert_array_equal(b, keep)


def test_outputs_are_independent_arrays():
    x = K.placeholder((3,))
    f = K.function([x], [x * 1, K.identity(x)])
    a = _f32([1., 2., 3.])
    r1, r2 = f([a])
    r1[:] = 0
    np.testing.assert_array_equal(r2, [1., 2., 3.])
    r3 = f([a])[0]
    np.testing.assert_array_equal(r3, [1., 2., 3.])


def test_stop_gradient_list_and_identity_name():
    a, b = K.variable(1.), K.variable(2.)
    out = K.stop_gradient([a, b])
    assert isinstance(out, list) and len(out) == 2
    assert K.gradients(K.sum(out[0] * a), [a])[0] is not None
    i = K.identity(a, name='copy')
    assert K.eval(i) == 1.


def test_print_tensor_prints_when_evaluated(capfd):
    x = K.variable(_f32([1., 2.]))
    y = K.print_tensor(x, message='x is')
    assert capfd.readouterr().out == ''
    np.testing.assert_array_equal(K.eval(y * 1), [1., 2.])
    out = capfd.readouterr().out
    assert out.startswith('x is') and '1' in out and out.endswith('\n')


def test_uids_and_name_scope():
    K.reset_uids()
    assert K.get_uid('dense') == 1 and K.get_uid('dense') == 2 and K.get_uid('conv') == 1
    K.reset_uids()
    assert K.get_uid('dense') == 1
    with K.name_scope('outer'):
        with K.name_scope('inner'):
            v = K.variable(1., name='kernel')
    assert v.name.startswith('outer/inner/kernel')


def test_sparse_placeholder_accepts_scipy_and_to_dense():
    scipy_sparse = pytest.importorskip('scipy.sparse')
    p = K.placeholder(shape=(None, 3), sparse=True)
    assert K.is_sparse(p) and not K.is_sparse(K.placeholder(shape=(2, 3)))
    dense = K.to_dense(p)
    f = K.function([p], [K.sum(dense, axis=1)])
    m = scipy_sparse.csr_matrix(np.array([[1., 0., 2.], [0., 0., 3.]], dtype='float32'))
    np.testing.assert_allclose(f([m])[0], [3., 3.])
    x = K.constant([[1., 2.]])
    assert K.to_dense(x) is x


def test_control_dependencies_run_their_updates_first():
    v = K.variable(np.array([1., 2.]))
    with K.control_dependencies([K.update_add(v, np.array([1., 1.]))]):
        y = v * 2.           # made inside: runs the update first and reads the new value
    with K.control_dependencies(None):
        z = y + 1.           # no deps of its own, but it reads y
    np.testing.assert_allclose(K.eval(z), [5., 7.])
    np.testing.assert_allclose(K.get_value(v), [2., 3.])
    np.testing.assert_allclose(K.eval(z), [7., 9.])  # each evaluation runs the update once
    w = v * 1.               # made outside: no update
    np.testing.assert_allclose(K.eval(w), [3., 4.])


def test_manual_variable_initialization_flag_keeps_initial_values():
    K.manual_variable_initialization(True)
    try:
        v = K.variable(np.array([4., 5.]))
        np.testing.assert_allclose(K.get_value(v), [4., 5.])
    finally:
        K.manual_variable_initialization(False)
