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
