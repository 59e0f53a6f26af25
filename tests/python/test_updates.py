"""Update ops as graph tensors with an effect (as TF's assign ops), K.control_dependencies, the
order of updates and variable reads within one call, all-or-nothing commits and atomicity
across threads. Expected values are worked out by hand in each test."""
import threading

import numpy as np
import pytest

from keras_cpp import backend as K



def _f32(x):
    return np.asarray(x, dtype='float32')


# ---------------------------------------------------------------- an update op is a tensor
def test_eval_of_an_update_applies_it_and_yields_the_new_value():
    v = K.variable(_f32([1., 2.]))
    inc = K.update_add(v, 1.)
    np.testing.assert_array_equal(K.get_value(v), [1., 2.])  # building it does nothing
    np.testing.assert_array_equal(K.eval(inc), [2., 3.])
    np.testing.assert_array_equal(K.eval(inc), [3., 4.])
    np.testing.assert_array_equal(K.get_value(v), [3., 4.])
    assert K.eval(K.update_sub(K.variable(5.), 2.)) == 3.
    assert K.eval(K.update(K.variable(5.), 7.)) == 7.
    m = K.variable(10.)
    np.testing.assert_allclose(K.eval(K.moving_average_update(m, 2., 0.9)), 10 * 0.9 + 2 * 0.1, rtol=1e-6)


def test_update_op_feeds_other_ops():
    v = K.variable(_f32(1.))
    y = K.update_add(v, 2.) * 10.  # the new value flows on
    assert K.eval(y) == 30.
    assert K.get_value(v) == 3.


def test_update_add_broadcasts_a_scalar_and_casts_to_the_variable_dtype():
    v = K.variable(np.zeros((2, 2)), dtype='float64')
    K.eval(K.update_add(v, K.constant(0.5, dtype='float32')))
    np.testing.assert_array_equal(K.get_value(v), np.full((2, 2), 0.5))
    assert K.get_value(v).dtype == np.float64
    with pytest.raises(ValueError, match=r'\[update_add\].*broadcast'):
        K.update_add(v, np.ones(3, 'float32'))
    with pytest.raises(ValueError, match=r'\[update\].*does not match'):
        K.update(v, np.ones(2))


# ---------------------------------------------------------------- control_dependencies
def test_ops_made_inside_control_dependencies_run_the_updates_first():
    total = K.variable(0.)
    count = K.variable(0.)
    x = K.placeholder(shape=(None,))
    ups = [K.update_add(total, K.sum(x)), K.update_add(count, K.cast(K.size(x), 'float32'))]
    with K.control_dependencies(ups):
        mean = K.identity(total / count)
    f = K.function([x], [mean])
    assert f([_f32([1., 3.])])[0] == 2.      # (1 + 3) / 2
    assert f([_f32([8.])])[0] == 4.          # (4 + 8) / 3
    assert K.get_value(total) == 12. and K.get_value(count) == 3.
    outside = total / count                  # made outside the block: reads, no update
    assert K.eval(outside) == 4. and K.get_value(count) == 3.


def test_control_dependencies_nest_accept_one_tensor_and_none():
    a, b = K.variable(0.), K.variable(0.)
    with K.control_dependencies(K.update_add(a, 1.)):       # one tensor, not a list
        with K.control_dependencies([[K.update_add(b, 1.)]]):  # nested lists are flattened
            both = a + b                                    # depends on both updates
        only_a = a * 1.
        with K.control_dependencies(None):
            neither = a * 1.
    assert K.eval(both) == 2.
    assert K.get_value(a) == 1. and K.get_value(b) == 1.
    assert K.eval(only_a) == 2. and K.get_value(b) == 1.
    assert K.eval(neither) == 2. and K.get_value(a) == 2.
    with pytest.raises(TypeError, match='control_dependencies'):
        with K.control_dependencies(['not a tensor']):
            pass
    c = K.variable(1.)
    assert K.eval(c * 2.) == 2.  # the scopes above are closed


def test_a_failing_body_leaves_the_scope():
    v = K.variable(0.)
    with pytest.raises(RuntimeError):
        with K.control_dependencies([K.update_add(v, 1.)]):
            raise RuntimeError('boom')
    y = v * 1.
    assert K.eval(y) == 0. and K.get_value(v) == 0.


# ---------------------------------------------------------------- order within one call
def test_reads_that_do_not_depend_on_an_update_see_the_pre_call_value():
    v = K.variable(1.)
    u = K.update_add(v, 10.)
    with K.control_dependencies([u]):
        after = K.identity(v)
    before = v * 1.
    f = K.function([], [before, after, u, v])
    b, a, new, leaf = f([])
    assert (b, a, new, leaf) == (1., 11., 11., 1.)
    assert K.get_value(v) == 11.


def test_an_update_in_outputs_and_updates_runs_once():
    v = K.variable(0.)
    u = K.update_add(v, 1.)
    with K.control_dependencies([u]):
        r = K.identity(v)
    f = K.function([], [r, u], updates=[u])
    assert f([]) == [1., 1.]
    assert f([]) == [2., 2.]
    assert K.get_value(v) == 2.


def test_updates_of_one_variable_apply_in_order():
    v = K.variable(1.)
    f = K.function([], [], updates=[K.update_add(v, 1.), K.update_add(v, 2.), K.update_sub(v, 0.5)])
    f([])
    assert K.get_value(v) == 1. + 1. + 2. - 0.5  # each starts from the previous result
    w = K.variable(1.)
    g = K.function([], [], updates=[K.update_add(w, 1.), K.update(w, 5.)])
    g([])
    assert K.get_value(w) == 5.  # list order: +1, then =5
    # an update that depends on another one of the same variable runs after it
    x = K.variable(2.)
    first = K.update(x, 10.)
    with K.control_dependencies([first]):
        second = K.update_add(x, x)  # x read after `first`: 10 + 10
    h = K.function([], [], updates=[second])
    h([])
    assert K.get_value(x) == 20.


def test_pairs_and_update_ops_compute_right_hand_sides_from_the_pre_call_state():
    a, b = K.variable(1.), K.variable(2.)
    f = K.function([], [a + b], updates=[(a, b), K.update(b, a)])  # a swap
    assert f([])[0] == 3.
    assert K.get_value(a) == 2. and K.get_value(b) == 1.


# ---------------------------------------------------------------- all or nothing
def test_a_failing_call_applies_no_update():
    v1 = K.variable(_f32([0., 0.]))
    v2 = K.variable(_f32([0., 0.]))
    p = K.placeholder(shape=(None,))
    f = K.function([p], [], updates=[(v1, v1 + 1.), (v2, p)])
    with pytest.raises(ValueError, match=r"\[update\].*variable 'variable.*' of shape \(2,\)"):
        f([_f32([1., 2., 3.])])  # wrong shape for v2
    np.testing.assert_array_equal(K.get_value(v1), [0., 0.])
    np.testing.assert_array_equal(K.get_value(v2), [0., 0.])
    f([_f32([5., 6.])])
    np.testing.assert_array_equal(K.get_value(v1), [1., 1.])
    np.testing.assert_array_equal(K.get_value(v2), [5., 6.])


def test_a_kernel_failing_after_an_update_ran_applies_nothing():
    v = K.variable(0.)
    p = K.placeholder(shape=(None,))
    u = K.update_add(v, 1.)
    with K.control_dependencies([u]):
        bad = K.reshape(p, (2, 2))  # fails at run time for 3 values, after u ran
    f = K.function([p], [bad])
    with pytest.raises(ValueError):
        f([_f32([1., 2., 3.])])
    assert K.get_value(v) == 0.
    f([_f32([1., 2., 3., 4.])])
    assert K.get_value(v) == 1.


# ---------------------------------------------------------------- atomic across threads
def test_concurrent_functions_updating_one_variable_lose_no_increment():
    v = K.variable(0., dtype='float64')
    w = K.variable(np.ones((64, 64)), dtype='float64')
    work = K.sum(K.dot(w, w)) * 0.  # some work between the read and the write of v
    f1 = K.function([], [], updates=[K.update_add(v, 1. + work)])
    f2 = K.function([], [], updates=[(v, v + 2. + work)])
    n = 100

    def run(f):
        for _ in range(n):
            f([])

    threads = [threading.Thread(target=run, args=(f,)) for f in (f1, f2, f1, f2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert K.get_value(v) == 2 * n * 1. + 2 * n * 2.


def test_get_and_set_value_do_not_block_while_other_threads_update():
    v = K.variable(0., dtype='float64')
    f = K.function([], [], updates=[K.update_add(v, 1.)])
    stop = []

    def run():
        while not stop:
            f([])

    t = threading.Thread(target=run)
    t.start()
    try:
        for _ in range(50):
            K.get_value(v)
        K.set_value(v, 1000.)
    finally:
        stop.append(1)
        t.join()
    assert K.get_value(v) >= 1000.


def test_updates_inside_a_loop_body_are_rejected_clearly():
    v = K.variable(0.)
    with pytest.raises(ValueError, match=r'\[update_add\].*inside a map_fn/foldl/foldr/rnn body'):
        K.map_fn(lambda x: K.update_add(v, x), K.constant(_f32([1., 2.])))


# ---------------------------------------------------------------- what comes back
def test_scalar_results_are_numpy_scalars_like_tf_session_run():
    x = K.placeholder(shape=(2,))
    f = K.function([x], [K.sum(x), x * 2])
    s, vec = f([_f32([1., 2.])])
    assert type(s) is np.float32 and s == 3.
    assert isinstance(vec, np.ndarray) and vec.shape == (2,)
    assert round(s, 4) == 3.0  # works on a numpy scalar, not on a 0-d array
    assert type(K.eval(K.sum(K.constant([1., 2.])))) is np.float32
    assert type(K.get_value(K.variable(1.))) is np.float32
    assert type(K.eval(K.variable(np.int32(3), dtype='int32'))) is np.int32


def test_tensor_eval_method():
    a = K.constant(_f32([[1., 2.]]))
    b = K.constant(_f32([[3.], [4.]]))
    np.testing.assert_array_equal(K.dot(a, b).eval(), [[11.]])
    p = K.placeholder(shape=(2,))
    np.testing.assert_array_equal((p * 3).eval(feed_dict={p: _f32([1., 2.])}), [3., 6.])
    v = K.variable(2.)
    assert K.update_add(v, 1.).eval() == 3.


def test_print_tensor_prints_like_numpy_to_sys_stdout(capsys):
    x = K.constant(np.ones((1, 1), 'float32'))
    K.eval(K.print_tensor(x, message='msg'))
    assert capsys.readouterr().out == 'msg [[1.]]\n'
    y = K.constant(np.array([[0.5, 2.], [3., -1.25]], 'float64'))
    K.eval(K.print_tensor(y, message='y:'))
    assert capsys.readouterr().out == 'y: %s\n' % np.array([[0.5, 2.], [3., -1.25]])
    K.eval(K.print_tensor(K.constant(np.array([1, 2]), dtype='int32'), message='i'))
    assert capsys.readouterr().out == 'i [1 2]\n'
