"""Threads: keras_cpp.set_num_threads/get_num_threads, and kernels at thread counts whose chunk
counts differ from the thread count (issue 8: the conv kernel gradient indexed per-thread partial
sums per chunk and crashed at 2+ threads on shapes large enough to split). The crash reproducer
runs in subprocesses, so a regression fails those tests instead of killing pytest."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import keras_cpp
from keras_cpp import backend as K

THREADS = [1, 2, 3, 8]


@pytest.fixture
def threads():
    saved = keras_cpp.get_num_threads()
    yield keras_cpp.set_num_threads
    keras_cpp.set_num_threads(saved)


def test_get_and_set_num_threads(threads):
    assert keras_cpp.get_num_threads() >= 1
    threads(3)
    assert keras_cpp.get_num_threads() == 3
    threads(1)
    assert keras_cpp.get_num_threads() == 1


@pytest.mark.parametrize('bad, err', [(0, ValueError), (-1, ValueError), (2**40, ValueError), (2**70, ValueError), (1.5, TypeError),
                                      ('2', TypeError), (None, TypeError)])
def test_set_num_threads_rejects_bad_values(threads, bad, err):
    before = keras_cpp.get_num_threads()
    with pytest.raises(err):
        threads(bad)
    assert keras_cpp.get_num_threads() == before


def test_omp_num_threads_sets_the_default(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS='3', KERAS_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, '-c', 'import keras_cpp; print(keras_cpp.get_num_threads())'],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '3'


REPRO = textwrap.dedent('''
    import sys
    import numpy as np
    import keras_cpp
    from keras_cpp import backend as K
    keras_cpp.set_num_threads(int(sys.argv[1]))
    x = K.placeholder(shape=(None, 28, 28, 1))
    w = K.variable(np.random.RandomState(0).randn(3, 3, 1, 16).astype("float32"))
    g, = K.gradients(K.sum(K.conv2d(x, w)), [w])
    xv = np.random.RandomState(1).rand(64, 28, 28, 1).astype("float32")
    print(repr(float(K.function([x], [g])([xv])[0].astype("float64").sum())))
''')


@pytest.mark.parametrize('n', THREADS)
def test_issue8_conv2d_kernel_gradient_at_n_threads_does_not_crash(n, tmp_path):
    env = dict(os.environ, KERAS_HOME=str(tmp_path))
    r = subprocess.run([sys.executable, '-c', REPRO, str(n)], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    # sum over all of dW = sum over every (output position, kernel tap) of the input it reads
    x = np.random.RandomState(1).rand(64, 28, 28, 1)
    ref = sum(x[:, a:a + 26, b:b + 26].sum() for a in range(3) for b in range(3)) * 16
    assert float(r.stdout) == pytest.approx(ref, rel=1e-5)


def _conv_case(rng, shape_x, shape_w, **kw):
    x = K.placeholder(shape=(None,) + shape_x[1:])
    w = K.variable(rng.randn(*shape_w).astype('float32'))
    y = K.conv2d(x, w, **kw)
    loss = K.sum(y * y)
    gx, gw = K.gradients(loss, [x, w])
    return K.function([x], [y, gx, gw]), rng.rand(*shape_x).astype('float32')


@pytest.mark.parametrize('kw', [dict(), dict(padding='same', strides=(2, 2)), dict(dilation_rate=(2, 2))])
def test_conv2d_forward_and_gradients_agree_across_thread_counts(threads, kw):
    """Large enough that the forward, input and kernel gradients all split into chunks."""
    rng = np.random.RandomState(5)
    f, xv = _conv_case(rng, (32, 20, 20, 8), (3, 3, 8, 12), **kw)
    results = {}
    for n in THREADS:
        threads(n)
        results[n] = [o.astype('float64') for o in f([xv])]
    for n in THREADS[1:]:
        for a, b in zip(results[1], results[n]):
            np.testing.assert_allclose(b, a, rtol=2e-5, atol=1e-3)


def test_a_function_follows_set_num_threads_between_calls(threads):
    x = K.placeholder(shape=(None, 4096))
    f = K.function([x], [K.sum(K.exp(x) * 2.0, axis=1)])
    xv = np.random.RandomState(0).rand(256, 4096).astype('float32')
    ref = (np.exp(xv.astype('float64')) * 2).sum(axis=1)
    for n in THREADS + [1]:
        threads(n)
        np.testing.assert_allclose(f([xv])[0], ref, rtol=1e-5)
