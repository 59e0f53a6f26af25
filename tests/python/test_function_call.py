"""How a compiled Function is called: a list of plain arrays runs in C++ with no Python frame
(_core.Function.__call__); tuples, dicts and symbolic tensors among the values take the Python
path (Function._call_general). Both give the same results and the same errors; feeds that need a
conversion (byte order, strides, dtype, numbers, nested lists) are converted; results are arrays
of their own, also when one output is listed twice or is an input."""
import numpy as np
import pytest

from keras_cpp import _core, backend as K


def _f():
    x = K.placeholder(shape=(None, 3), name='xin')
    y = K.placeholder(shape=(), dtype='int32', name='k')
    return x, y, K.function([x, y], [x * 2.0 + K.cast(y, 'float32'), K.sum(x)])


def test_list_tuple_dict_and_symbolic_feeds_agree():
    x, y, f = _f()
    assert isinstance(f, _core.Function) and f._fn is f and f._fn.num_steps >= 1
    a = np.arange(6, dtype='float32').reshape(2, 3)
    want = [a * 2 + 4, np.float32(a.sum())]
    for feed in ([a, 4], (a, 4), {x: a, y: 4}, [K.constant(a), 4], [a, K.constant(4, dtype='int32')]):
        got = f(feed)
        assert type(got) is list and len(got) == 2
        np.testing.assert_array_equal(got[0], want[0])
        assert got[1] == want[1] and isinstance(got[1], np.float32)  # 0-d results are numpy scalars


def test_feeds_that_need_a_conversion():
    x, y, f = _f()
    a = np.arange(12, dtype='float64').reshape(2, 6)[:, ::2]  # strided, float64 for a float32 input
    b = a.astype('>f4')  # big-endian
    for v in (a, b, a.tolist(), np.asfortranarray(a)):
        np.testing.assert_array_equal(f([v, np.uint16(1)])[0], np.asarray(a, 'float32') * 2 + 1)
    z = K.placeholder(shape=(2,), dtype='int64')
    np.testing.assert_array_equal(K.function([z], [z + 1])([np.array([1, 2], dtype='uint16')])[0], [2, 3])


def test_errors_are_the_same_on_both_paths():
    x, y, f = _f()
    a = np.ones((2, 3), dtype='float32')
    for call in (lambda v: f(v), lambda v: f(tuple(v))):
        with pytest.raises(ValueError, match=r"\[function\] expected 2 input values, got 1"):
            call([a])
        with pytest.raises(TypeError, match=r'\[function\] input 1: expected an array or a number, got None'):
            call([a, None])
        with pytest.raises(TypeError, match=r"\[function\] input 0: expected an array or a number, got 'a'"):
            call(['a', 1])
        with pytest.raises(ValueError, match=r"\[function\] input 0 \('xin'\) expects shape \(None, 3\), got a value of shape \(2, 4\)"):
            call([np.ones((2, 4)), 1])
        with pytest.raises(ValueError, match=r'\[function\] input 0: cannot make an array'):
            call([[[1, 2], [3]], 1])
    with pytest.raises(TypeError, match=r'\[function\] call it with a list of input values, got ndarray'):
        f(a)


def test_results_are_arrays_of_their_own():
    x = K.placeholder(shape=(3,))
    out = x + 1
    f = K.function([x], [out, out, x])
    a = np.array([1, 2, 3], dtype='float32')
    r = f([a])
    assert r[0] is not r[1] and not np.shares_memory(r[0], r[1]) and not np.shares_memory(r[2], a)
    r[0][:] = -1
    r[2][:] = -2
    np.testing.assert_array_equal(r[1], [2, 3, 4])
    np.testing.assert_array_equal(a, [1, 2, 3])
    assert all(v.flags.writeable and v.flags.c_contiguous and v.flags.owndata is False for v in r)
    np.testing.assert_array_equal(f([a])[0], [2, 3, 4])  # the next call is not affected


def test_update_target_returned_and_moved_outputs():
    v = K.variable(np.zeros(2, dtype='float32'))
    x = K.placeholder(shape=(2,))
    new = v + x
    f = K.function([x], [new, x * 3], updates=[(v, new)])
    r = f([np.ones(2, dtype='float32')])
    np.testing.assert_array_equal(r[0], [1, 1])
    r[0][:] = 100  # the returned array is not the variable's buffer
    np.testing.assert_array_equal(K.get_value(v), [1, 1])
    np.testing.assert_array_equal(f([np.ones(2, dtype='float32')])[0], [2, 2])


def test_fast_path_feeds_and_keyword_call():
    # Plain float32 arrays take the tp_call path; float16, an ndarray subclass and a keyword
    # call take _call; all agree, and the fed arrays are untouched.
    x = K.placeholder(shape=(None, 2))
    f = K.function([x], [x + 1, K.sum(x)])
    a = np.ones((3, 2), dtype='float32')

    class Sub(np.ndarray):
        pass
    for call in (lambda: f([a]), lambda: f(values=[a]), lambda: f([a.astype('float16')]), lambda: f([a.view(Sub)])):
        r = call()
        np.testing.assert_array_equal(r[0], a + 1)
        assert r[1] == 6.0
    np.testing.assert_array_equal(a, np.ones((3, 2)))
    with pytest.raises(TypeError, match='incompatible function arguments'):
        f()

    class Uninit(_core.Function):
        def __init__(self):
            pass
    with pytest.raises(TypeError, match='__init__'):
        Uninit()([a])


def test_light_and_heavy_calls_from_threads():
    # A light Function (small static shapes, no variables) keeps the GIL; one with a variable
    # releases it. Calls from several threads give each its own right answer.
    import threading
    x = K.placeholder(shape=(4,))
    light = K.function([x], [x * 2.0])
    v = K.variable(np.zeros(4, dtype='float32'))
    heavy = K.function([x], [x * 3.0 + v])
    errors = []

    def work(k):
        a = np.full(4, k, dtype='float32')
        for _ in range(200):
            if not (np.array_equal(light([a])[0], a * 2) and np.array_equal(heavy([a])[0], a * 3)):
                errors.append(k)
                return
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
