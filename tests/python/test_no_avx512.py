"""keras_cpp on a CPU without AVX-512: valgrind's CPU hides AVX-512 from CPUID and has no AVX-512
instructions, so a kernel family that runs code of a -mavx512f translation unit on such a CPU
(building its AVX-512 kernel table, say) dies there with SIGILL. The script below touches every
kernel family once with small shapes under `valgrind --tool=none` and checks the results against
numpy. Skipped where valgrind is missing or shows AVX-512 (then it cannot stand for such a CPU)."""
import os
import shutil
import subprocess
import sys

import pytest

SCRIPT = r'''
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from keras_cpp import _core
from keras_cpp import backend as K

if _core._kernel_info()['avx512_available']:
    print('AVX512-VISIBLE')
    sys.exit(0)
rng = np.random.default_rng(0)
def r(*s, dt='float32'):
    return rng.standard_normal(s).astype(dt)
def check(name, got, want, tol=1e-4):
    np.testing.assert_allclose(np.asarray(got), want, rtol=tol, atol=tol, err_msg=name)

for dt in ('float32', 'float64'):
    x, y = r(37, 19, dt=dt), r(19, dt=dt)
    cx, cy = K.constant(x, dtype=dt), K.constant(y, dtype=dt)
    for name, f, ref in [('relu', K.relu, lambda v: np.maximum(v, 0)), ('exp', K.exp, np.exp),
                         ('tanh', K.tanh, np.tanh), ('sigmoid', K.sigmoid, lambda v: 1 / (1 + np.exp(-v))),
                         ('log', lambda t: K.log(K.abs(t) + 1), lambda v: np.log(np.abs(v) + 1))]:
        check(name + dt, K.eval(f(cx)), ref(x))
    check('add' + dt, K.eval(cx + cy), x + y)
    check('max' + dt, K.eval(K.maximum(cx, cy)), np.maximum(x, y))
    check('sum' + dt, K.eval(K.sum(cx, axis=-1)), x.sum(-1))
    check('max0' + dt, K.eval(K.max(cx, axis=0)), x.max(0))
    check('mean' + dt, K.eval(K.mean(cx)), x.mean())
    check('softmax' + dt, K.eval(K.softmax(cx)), np.exp(x) / np.exp(x).sum(-1, keepdims=True))
    check('transpose' + dt, K.eval(K.transpose(cx)), x.T)
    check('concat' + dt, K.eval(K.concatenate([cx, cx], axis=-1)), np.concatenate([x, x], -1))
    for m, k, n in [(1, 33, 65), (7, 33, 257), (70, 40, 50)]:
        a, b = r(m, k, dt=dt), r(k, n, dt=dt)
        check('dot%d' % m + dt, K.eval(K.dot(K.constant(a, dtype=dt), K.constant(b, dtype=dt))), a @ b, 1e-3)

a, b = r(3, 9, 8), r(3, 8, 11)
check('batch_dot', K.eval(K.batch_dot(K.constant(a), K.constant(b), axes=(2, 1))), a @ b, 1e-3)
xi = r(2, 10, 10, 8)
w = r(3, 3, 8, 16)
def conv_ref(x, w, s):
    kh, kw = w.shape[:2]
    oh, ow = (x.shape[1] - kh) // s + 1, (x.shape[2] - kw) // s + 1
    out = np.zeros((x.shape[0], oh, ow, w.shape[3]), np.float64)
    for i in range(kh):
        for j in range(kw):
            out += np.einsum('nhwc,cd->nhwd', x[:, i:i + s * oh:s, j:j + s * ow:s, :], w[i, j])
    return out
for s in (1, 2):  # 3x3 stride 1 is Winograd, stride 2 the implicit GEMM
    check('conv2d s%d' % s, K.eval(K.conv2d(K.constant(xi), K.constant(w), strides=(s, s))), conv_ref(xi, w, s), 1e-3)
dw = r(3, 3, 8, 1)
want = conv_ref(xi, np.einsum('hwc,cd->hwcd', dw[..., 0], np.eye(8)), 1)
check('depthwise', K.eval(K.depthwise_conv2d(K.constant(xi), K.constant(dw))), want, 1e-3)
check('pool', K.eval(K.pool2d(K.constant(xi), (2, 2), strides=(2, 2))),
      xi.reshape(2, 5, 2, 5, 2, 8).max(axis=(2, 4)))
check('conv1d', K.eval(K.conv1d(K.constant(xi[:, 0]), K.constant(w[0]))),
      conv_ref(xi[:, :1], w[:1], 1)[:, 0], 1e-3)
check('conv3d', K.eval(K.conv3d(K.constant(r(1, 4, 4, 4, 2)), K.constant(np.ones((2, 2, 2, 2, 3), 'float32')))).shape,
      (1, 3, 3, 3, 3))

# A compiled function with a gradient: fused elementwise chain, GEMM with its transposes, conv backward.
px, pw = K.placeholder(shape=(None, 10, 10, 8)), K.variable(w)
loss = K.sum(K.tanh(K.conv2d(px, pw) * 0.5 + 1.0))
f = K.function([px], [loss] + K.gradients(loss, [px, pw]))
l, gx, gw = f([xi])
h = conv_ref(xi, w, 1)
check('loss', l, np.tanh(h * 0.5 + 1).sum(), 1e-2)
assert gx.shape == xi.shape and gw.shape == w.shape and np.isfinite(gx).all() and np.isfinite(gw).all()
print('NO-AVX512-OK')
'''


@pytest.mark.skipif(sys.platform != 'linux' or shutil.which('valgrind') is None, reason='needs valgrind on Linux')
@pytest.mark.skipif('libasan' in os.environ.get('LD_PRELOAD', ''), reason='an ASan build does not run under valgrind')
def test_every_kernel_family_runs_on_a_cpu_without_avx512(tmp_path):
    import keras_cpp
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(keras_cpp.__file__)))
    script = tmp_path / 'no_avx512.py'
    script.write_text(SCRIPT)
    env = dict(os.environ)
    env.pop('KERAS_CPP_ISA', None)
    out = subprocess.run(['valgrind', '--tool=none', '-q', sys.executable, str(script), pkg],
                         capture_output=True, text=True, timeout=600, env=env)
    if 'AVX512-VISIBLE' in out.stdout:
        pytest.skip('this valgrind shows AVX-512 in CPUID')
    assert out.returncode == 0 and 'NO-AVX512-OK' in out.stdout, out.stdout[-2000:] + out.stderr[-4000:]
