"""arange and the random ops beyond the op table's sweep (op_table.py checks shapes, dtypes,
supports and moments of 200x200 draws, seeds, bad calls, and the same numbers at 1, 2, 3 and 8
threads): symbolic and numpy shapes, tensor parameters and their gradients, numpy's global seed,
fresh numbers per call and once per variable, across processes, dropout's noise_shape with
symbolic dims, its mask gradient, its exact Philox draws (philox_ref.py), level 0 as x itself, and
its independence from the learning phase.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from keras_cpp import _core, backend as K

import gradcheck
import philox_ref


# ---------------------------------------------------------------- helpers
def ev(t):
    return K.eval(t)


# ---------------------------------------------------------------- arange
@pytest.mark.parametrize('start,want', [(5, np.arange(5)), (-3, np.arange(0)), (0, np.arange(0))])
def test_arange_scalar_tensor_argument(start, want):
    r = K.arange(K.constant(start, dtype='int32'))
    assert r.shape == (None,)
    np.testing.assert_array_equal(ev(r), want.astype('int32'))


def test_arange_from_a_symbolic_length_and_tensor_bounds():
    x = K.placeholder(shape=(None, 2))
    f = K.function([x], [K.arange(K.shape(x)[0]), K.arange(1, K.shape(x)[0], 2, dtype='float32')])
    a, b = f([np.zeros((6, 2))])
    np.testing.assert_array_equal(a, np.arange(6, dtype='int32'))
    np.testing.assert_array_equal(b, np.arange(1, 6, 2, dtype='float32'))
    a, _ = f([np.zeros((0, 2))])
    assert a.shape == (0,)


# ---------------------------------------------------------------- moments
def test_random_uniform_never_reaches_maxval_after_rounding():
    # A float32 draw just below 1 can round to maxval when scaled; it must stay below it.
    v = ev(K.random_uniform((100000,), 0.0, 0.1, dtype='float16', seed=3)).astype('float64')
    assert v.max() < 0.1 and v.min() >= 0


@pytest.mark.parametrize('dtype', ['float16', 'float32', 'float64'])
def test_random_uniform_tensor_bounds_never_reach_maxval(dtype):
    lo, hi = K.constant(2.0, dtype=dtype), K.constant(4.0, dtype=dtype)
    v = ev(K.random_uniform((100000,), lo, hi, dtype=dtype, seed=6)).astype('float64')
    assert v.max() < 4.0 and v.min() >= 2.0
    # reversed tensor bounds are scaled as they are, like TF (no clamp to the value below maxval)
    w = ev(K.random_uniform((1000,), hi, lo, dtype=dtype, seed=6)).astype('float64')
    assert w.max() <= 4.0 and w.min() > 2.0 - 1e-3


def test_below_is_the_next_float_down():
    x = K.constant(np.array([1.0, 0.0, -2.0, np.inf, -np.inf, np.nan], 'float16'), dtype='float16')
    got = K.eval(_core._below(x))
    want = np.nextafter(np.array([1.0, 0.0, -2.0, np.inf, -np.inf, np.nan], 'float16'), np.float16(-np.inf))
    want[4] = -np.inf
    np.testing.assert_array_equal(got, want)
    y = np.array([1.5, 1e-30, -3.0], 'float32')
    np.testing.assert_array_equal(K.eval(_core._below(K.constant(y))), np.nextafter(y, np.float32(-np.inf)))
    with pytest.raises(TypeError, match=r'\[_below\]'):
        _core._below(K.constant(np.array([1, 2], 'int32'), dtype='int32'))


@pytest.mark.parametrize('p,want', [(0.0, 0.0), (1.0, 1.0)])
def test_random_binomial_extreme_p(p, want):
    assert np.all(ev(K.random_binomial((50, 3), p=p, seed=7)) == want)


def test_dtype_none_is_floatx_at_call_time():
    old = K.floatx()
    try:
        K.set_floatx('float64')
        assert K.random_uniform((2,)).dtype == 'float64'
        assert K.random_normal_variable((2,), 0, 1).dtype == 'float64'
    finally:
        K.set_floatx(old)
    assert K.random_normal((2,)).dtype == old


# ---------------------------------------------------------------- symbolic shapes and parameters
def test_shape_from_k_shape_keeps_static_dims_and_resamples():
    x = K.placeholder(shape=(None, 3))
    noise = K.random_normal(K.shape(x), stddev=0.5, seed=8)  # GaussianNoise's call
    assert noise.shape == (None, 3)
    f = K.function([x], [x + noise])
    a = f([np.ones((4, 3))])[0]
    b = f([np.ones((4, 3))])[0]
    assert a.shape == (4, 3) and not np.array_equal(a, b)
    assert f([np.ones((7, 3))])[0].shape == (7, 3)


def test_shape_mixing_ints_and_scalar_tensors():
    x = K.placeholder(shape=(None, 5))
    r = K.random_uniform((K.shape(x)[0], 2, K.shape(x)[1]), seed=9)
    assert r.shape == (None, 2, None)
    assert K.function([x], [r])([np.zeros((3, 5))])[0].shape == (3, 2, 5)


@pytest.mark.parametrize('shape', [np.array([2, 3]), [2, np.int64(3)], (np.int32(2), 3)])
def test_numpy_shapes(shape):
    r = K.random_binomial(shape, 0.5, seed=10)
    assert r.shape == (2, 3) and ev(r).shape == (2, 3)


def test_constant_shape_tensor_is_folded():
    r = K.random_normal(K.constant([4, 2], dtype='int32'), seed=11)
    assert r.shape == (4, 2)


def test_tensor_parameters_are_differentiable():
    m, s = K.variable(0.5, dtype='float64'), K.variable(2.0, dtype='float64')
    r = K.random_normal((1000,), mean=m, stddev=s, dtype='float64', seed=13)
    gm, gs = K.gradients(K.sum(r), [m, s])
    rv, gmv, gsv = K.function([], [r, gm, gs])([])
    assert gmv == pytest.approx(1000.0)
    assert gsv == pytest.approx(((rv - 0.5) / 2.0).sum())  # d/ds sum(m + s*z) = sum(z)
    u = ev(K.random_uniform((1000,), minval=K.constant(2.0), maxval=K.constant(4.0), seed=14))
    assert u.min() >= 2 and u.max() < 4
    b = ev(K.random_binomial((1000,), p=K.constant(0.25), seed=15))
    assert b.dtype == 'float32' and abs(b.mean() - 0.25) < 0.05


def test_random_ops_have_no_gradient_to_the_shape():
    x = K.variable(np.ones((3, 2)))
    r = K.random_normal(K.shape(x), seed=16)
    assert K.gradients(K.sum(r), [x]) == [None]


# ---------------------------------------------------------------- reproducibility
def test_same_seed_same_numbers_other_seed_other_numbers():
    a = ev(K.random_normal((50, 50), seed=123))
    b = ev(K.random_normal((50, 50), seed=123))
    c = ev(K.random_normal((50, 50), seed=124))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_seed_none_follows_numpys_global_rng():
    np.random.seed(1337)
    assert np.random.randint(10e6) == 1313943  # the op seed Keras draws
    np.random.seed(1337)
    a = ev(K.random_uniform((20,)))
    np.testing.assert_array_equal(a, ev(K.random_uniform((20,), seed=1313943)))
    np.random.seed(1337)
    np.testing.assert_array_equal(a, ev(K.random_uniform((20,))))
    # *_variable draw randint(10e8): 259973309 is the next draw after the one above.
    np.random.seed(1337)
    np.random.randint(10e6)
    v = K.get_value(K.random_uniform_variable((20,), 0, 1))
    np.testing.assert_array_equal(v, K.get_value(K.random_uniform_variable((20,), 0, 1, seed=259973309)))
    np.random.seed(1337)
    d1 = ev(K.dropout(K.ones((30,)), 0.5))
    np.random.seed(1337)
    np.testing.assert_array_equal(d1, ev(K.dropout(K.ones((30,)), 0.5)))


def test_each_call_of_a_function_draws_fresh_numbers():
    r = K.random_uniform((100,), seed=17)
    f = K.function([], [r, r * 1.0])
    a, a2 = f([])
    b, _ = f([])
    np.testing.assert_array_equal(a, a2)  # one evaluation per call: both outputs see the same draw
    assert not np.array_equal(a, b)
    assert not np.array_equal(ev(r), ev(r))


def test_variables_are_sampled_once():
    v = K.random_normal_variable((10,), 0, 1, seed=18, name='rv')
    first = K.get_value(v)
    f = K.function([], [v * 1.0])
    np.testing.assert_array_equal(f([])[0], first)
    np.testing.assert_array_equal(f([])[0], first)
    assert K.is_variable(v) and v.dtype == 'float32'
    u = K.get_value(K.random_uniform_variable((200, 200), -2, 2, dtype='float64', seed=19))
    assert u.dtype == 'float64' and u.min() >= -2 and u.max() < 2 and abs(u.mean()) < 0.03
    n = K.get_value(K.random_normal_variable((200, 200), 1, 3, seed=20)).astype('float64')
    assert abs(n.mean() - 1) < 0.015 * 3 and abs(n.std() - 3) < 0.015 * 3


_CHILD = textwrap.dedent('''
    import sys
    import numpy as np
    from keras_cpp import backend as K
    x = K.placeholder(shape=(None, 300))
    outs = [K.random_uniform(K.shape(x), seed=1), K.random_normal((300, 300), seed=2),
            K.truncated_normal((300, 300), dtype='float64', seed=3), K.random_binomial((300, 300), .3, seed=4),
            K.dropout(x, 0.4, seed=5), K.random_uniform((300, 300), 0, 100, dtype='int64', seed=6)]
    f = K.function([x], outs)
    feed = np.ones((300, 300), dtype='float32')
    np.savez(sys.argv[1], *(f([feed]) + f([feed])))
''')


def _run_child(tmp_path, threads, tag):
    import keras_cpp
    root = os.path.dirname(os.path.dirname(os.path.abspath(keras_cpp.__file__)))
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), KERAS_HOME=str(tmp_path / 'kh'),
               PYTHONPATH=os.pathsep.join([root] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    out = str(tmp_path / ('%s.npz' % tag))
    subprocess.run([sys.executable, '-c', _CHILD, out], env=env, check=True, cwd=str(tmp_path), timeout=120)
    with np.load(out) as z:
        return [z['arr_%d' % i] for i in range(len(z.files))]


def test_same_numbers_across_runs_and_thread_counts(tmp_path):
    one = _run_child(tmp_path, 1, 'one')
    three = _run_child(tmp_path, 3, 'three')
    again = _run_child(tmp_path, 3, 'again')
    n = len(one) // 2
    for a, b, c in zip(one, three, again):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(b, c)
    for i in range(n):  # the second call of the function drew new numbers
        assert not np.array_equal(one[i], one[n + i])


# ---------------------------------------------------------------- dropout
def test_dropout_noise_shape_with_symbolic_dims():
    # Keras' Dropout layer: [shape(x)[0], 1, shape(x)[2]] for noise_shape (None, 1, None).
    x = K.placeholder(shape=(None, 3, 4))
    s = K.shape(x)
    y = K.dropout(x, 0.5, noise_shape=[s[0], 1, s[2]], seed=23)
    assert y.shape == (None, 3, 4)
    v = K.function([x], [y])([np.ones((6, 3, 4))])[0]
    assert v.shape == (6, 3, 4)
    assert np.all(v == v[:, :1, :])  # one draw shared along the length-1 axis


def test_dropout_mean_is_preserved():
    x = np.random.RandomState(0).rand(100, 100).astype('float32')
    xt = K.constant(x)
    means = [ev(K.dropout(xt, 0.2, seed=s)).mean() for s in range(5)]
    assert abs(np.mean(means) - x.mean()) < 0.05


def test_dropout_is_not_gated_by_the_learning_phase():
    K.set_learning_phase(0)
    try:
        v = ev(K.dropout(K.ones((50, 50)), 0.5, seed=25))
    finally:
        K.clear_session()
    assert (v == 0).any()


def test_dropout_gradient_is_the_scaled_mask():
    x = np.random.RandomState(2).rand(4, 6) + 0.5
    w = np.random.RandomState(3).rand(4, 6)

    def loss(xv):  # a fresh node per call with the same seed draws the same mask
        y = K.dropout(K.constant(xv, dtype='float64'), 0.4, seed=27)
        return K.sum(y * K.constant(w, dtype='float64'))

    xv = K.variable(x, dtype='float64')
    y = K.dropout(xv, 0.4, seed=27)
    g = K.gradients(K.sum(y * K.constant(w, dtype='float64')), [xv])[0]
    yv, gv = K.function([], [y, g])([])
    np.testing.assert_allclose(gv, w * yv / x, rtol=1e-12)
    num = gradcheck.numeric_gradient(lambda v: float(ev(loss(v))), x)
    np.testing.assert_allclose(gv, num, rtol=gradcheck.GRAD_TOL[0], atol=gradcheck.GRAD_TOL[1])


def test_dropout_noise_shape_checked_at_run_time():
    x = K.placeholder(shape=(None, 3))
    n = K.placeholder(shape=(), dtype='int32')
    f = K.function([x, n], [K.dropout(x, 0.5, noise_shape=(n, 3), seed=1)])
    with pytest.raises(ValueError, match=r'\[dropout\] noise_shape'):
        f([np.ones((2, 3)), 5])


@pytest.mark.parametrize('dtype,level', [('float32', 0.5), ('float32', 0.1), ('float64', 0.3333333),
                                         ('float16', 0.9), ('float32', 1e-9)])
def test_dropout_mask_is_the_philox_draw(dtype, level):
    # The exact numbers: entry i is kept when its uniform draw (philox_ref) is >= level. The size
    # spans several parallel chunks and ends inside a group of eight blocks and inside a block.
    n = 4 * 2048 * 2 + 37 if dtype != 'float64' else 2 * 2048 * 2 + 13
    x = K.placeholder(shape=(None,), dtype=dtype)
    f = K.function([x], [K.dropout(x, level, seed=2 ** 33 + 9)])
    keep = np.array(1.0 / (1.0 - level), dtype=dtype)
    for evaluation in (0, 1):
        u = (philox_ref.unit53 if dtype == 'float64' else philox_ref.unit24)(2 ** 33 + 9, n, evaluation)
        got = f([np.ones(n, dtype=dtype)])[0]
        np.testing.assert_array_equal(got, np.where(u.astype('float64') >= level, keep, np.zeros((), dtype)))
        assert got.dtype == dtype and not np.signbit(got).any()


def test_dropout_level_0_is_x_itself_with_no_draw():
    x = K.placeholder(shape=(None, 5))
    assert K.dropout(x, 0.0) is x and K.dropout(x, 0, noise_shape=(1, 5), seed=3) is x
    assert K.dropout(x, 0.0, noise_shape=(5,)) is x
    # The seed is still taken from numpy's global RNG, so later draws do not shift.
    np.random.seed(5)
    K.dropout(x, 0.0)
    after_zero = np.random.randint(10 ** 6)
    np.random.seed(5)
    K.dropout(x, 0.5)
    assert np.random.randint(10 ** 6) == after_zero
    v = np.array([[np.nan, -0.0, np.inf, -1.5, 3e-42]], dtype='float32')
    got = K.function([x], [K.batch_normalization(K.dropout(x, 0.0), K.zeros((5,)), K.ones((5,)), None, None, epsilon=0.0),
                           K.dropout(x, 0.0)])([v])
    np.testing.assert_array_equal(got[1].view('uint32'), v.view('uint32'))
    np.testing.assert_array_equal(got[0], v / np.sqrt(np.float32(1)))
    xv = K.variable(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(ev(K.gradients(K.sum(K.dropout(xv, 0.0) * 2.0), [xv])[0]), np.full((2, 3), 2.0))


def test_dropout_level_0_keeps_the_run_time_noise_shape_check():
    x = K.placeholder(shape=(None, 3))
    s = K.shape(x)
    y = K.dropout(x, 0.0, noise_shape=[s[0], 1], seed=4)  # symbolic: checked when it runs
    assert y is not x
    np.testing.assert_array_equal(K.function([x], [y])([np.arange(6.0).reshape(2, 3)])[0], np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=r'\[dropout\] noise_shape'):  # does not fit x: still an error
        ev(K.dropout(K.ones((4, 1)), 0.0, noise_shape=(4, 5)))
    n = K.placeholder(shape=(), dtype='int32')
    f = K.function([x, n], [K.dropout(x, 0.0, noise_shape=(n, 3), seed=1)])
    with pytest.raises(ValueError, match=r'\[dropout\] noise_shape'):
        f([np.ones((2, 3)), 5])


# ---------------------------------------------------------------- errors
def test_negative_run_time_dimension():
    n = K.placeholder(shape=(), dtype='int32')
    f = K.function([n], [K.random_uniform((n, 2), seed=1)])
    assert f([3])[0].shape == (3, 2)
    with pytest.raises(ValueError, match=r'\[random_uniform\] shape .*negative'):
        f([-1])


def test_random_op_made_inside_map_fn_draws_per_element():
    f = K.function([], [K.map_fn(lambda r: r + K.random_uniform((4,), seed=28), K.zeros((3, 4)))])
    a = f([])[0]
    assert a.shape == (3, 4) and not np.array_equal(a[0], a[1]) and not np.array_equal(a[1], a[2])
    assert not np.array_equal(a, f([])[0])
