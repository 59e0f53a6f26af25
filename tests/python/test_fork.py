"""fork() while another thread is inside a compiled Function call (Keras's multiprocessing
workers fork while training runs): the child can call that Function, other functions and read
the variables, and gets the right numbers; nothing hangs. Each scenario runs in its own
interpreter with a time limit, so a hang fails the test instead of stopping pytest."""
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(r'''
    import os, signal, sys, threading, time, warnings
    import numpy as np
    from keras_cpp import backend as K
    warnings.simplefilter('ignore')  # "use of fork() may lead to deadlocks": what is tested here
    big = np.ones((512, 1024), 'float32')  # 2 MiB results: the large-block cache is in use
    p = K.placeholder(shape=(None, 1024))
    w = K.variable(np.full((1024, 256), 0.001, 'float32'))
    f = K.function([p], [K.tanh(K.dot(p, w)) + 1.0], updates=[K.update_add(w, K.zeros_like(w))])
    want = np.tanh(np.float32(1.024)) + 1.0
    # One call first, as a training loop has made before its workers fork: a thread lost while
    # inside a C++ static initializer (first use of a kernel table) would block it in the child.
    f([big])
    stop = False
    def churn():
        while not stop:
            f([big])
    t = threading.Thread(target=churn)
    t.start()
    bad = []
    for i in range(FORKS):
        time.sleep(0.002 * (i % 5))
        pid = os.fork()
        if pid == 0:
            signal.alarm(5)
            ok = np.allclose(K.eval(K.constant(big) + 1.0), 2.0)
            ok &= np.allclose(f([big])[0], want, rtol=1e-5)
            ok &= np.allclose(K.get_value(w), 0.001)
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            bad.append((i, status))
    stop = True
    t.join()
    assert np.allclose(f([big])[0], want, rtol=1e-5)
    print('bad children:', bad)
    sys.exit(1 if bad else 0)
''')


@pytest.mark.skipif(not hasattr(__import__('os'), 'fork'), reason='needs fork()')
def test_fork_while_another_thread_runs_a_function():
    code = SCRIPT.replace('FORKS', '12')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
