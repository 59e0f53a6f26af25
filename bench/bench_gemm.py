"""GEMM benchmarks at the shapes Keras runs (issue 12): dense layers forward and backward, the
LSTM's recurrent product, batch-1 GEMV, a tall-skinny product and batch_dot.

keras_cpp is a compiled K.function called with numpy arrays; a right operand that is a layer's
weight is a K.variable (so keras_cpp packs it once, as it does in a model), every peer gets the
same operands already in its own tensor type.  See bench/README.md.
"""
import numpy as np

from keras_cpp import backend as K

from bench_core import Case, Impl, _jax_block

AREA = 'gemm'


def _matmul_case(key, title, sa, sb, ta=False, tb=False, weight=False):
    """C = op(A) @ op(B) with op a transpose when ta/tb; `weight`: B is a variable in keras_cpp."""
    def build(p, rng):
        a = rng.standard_normal(sa, dtype=np.float32)
        b = rng.standard_normal(sb, dtype=np.float32)
        A, B = (a.T if ta else a), (b.T if tb else b)
        ref = (A.astype(np.float64) @ B.astype(np.float64)).astype(np.float32)
        pa = K.placeholder(shape=(None, sa[1]))
        xa = K.transpose(pa) if ta else pa
        if weight:
            v = K.variable(b)
            f = K.function([pa], [K.dot(xa, K.transpose(v) if tb else v)])
            kc = lambda: f([a])[0]
        else:
            pb = K.placeholder(shape=(None, sb[1]))
            f = K.function([pa, pb], [K.dot(xa, K.transpose(pb) if tb else pb)])
            kc = lambda: f([a, b])[0]
        impls = [Impl('keras_cpp', kc), Impl('numpy', lambda: A @ B)]
        if p.torch:
            T = p.torch
            tA, tB = T.from_numpy(a), T.from_numpy(b)
            tA, tB = (tA.t() if ta else tA), (tB.t() if tb else tB)
            impls.append(Impl('torch', lambda: T.mm(tA, tB)))
        if p.tf:
            tf = p.tf
            ca, cb = tf.constant(a), tf.constant(b)
            tf_f = tf.function(lambda x, y: tf.matmul(x, y, transpose_a=ta, transpose_b=tb))
            impls.append(Impl('tensorflow', lambda: tf_f(ca, cb)))
        if p.jax:
            ja, jb = p.jax.device_put(a), p.jax.device_put(b)
            jf = _jax_block(p.jax.jit(lambda x, y: p.jnp.dot(x.T if ta else x, y.T if tb else y)))
            impls.append(Impl('jax', lambda: jf(ja, jb)))
        k = A.shape[1]
        return Case(key, title, impls, ref, flops=2.0 * A.shape[0] * A.shape[1] * B.shape[1], rtol=0,
                    atol=1e-4 * np.sqrt(k) * 10)
    build.key = key
    return build


def case_batch_dot(p, rng):
    a = rng.standard_normal((32, 100, 64), dtype=np.float32)
    b = rng.standard_normal((32, 64, 100), dtype=np.float32)
    ref = np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(np.float32)
    pa, pb = K.placeholder(shape=(None, 100, 64)), K.placeholder(shape=(None, 64, 100))
    f = K.function([pa, pb], [K.batch_dot(pa, pb, axes=(2, 1))])
    impls = [Impl('keras_cpp', lambda: f([a, b])[0]), Impl('numpy', lambda: np.matmul(a, b))]
    if p.torch:
        ta, tb = p.torch.from_numpy(a), p.torch.from_numpy(b)
        impls.append(Impl('torch', lambda: p.torch.bmm(ta, tb)))
    if p.tf:
        tf = p.tf
        ca, cb = tf.constant(a), tf.constant(b)
        tf_f = tf.function(lambda x, y: tf.matmul(x, y))
        impls.append(Impl('tensorflow', lambda: tf_f(ca, cb)))
    if p.jax:
        ja, jb = p.jax.device_put(a), p.jax.device_put(b)
        jf = _jax_block(p.jax.jit(lambda x, y: p.jnp.matmul(x, y)))
        impls.append(Impl('jax', lambda: jf(ja, jb)))
    return Case('batch_dot', 'batch_dot 32x(100x64 @ 64x100)', impls, ref, flops=2.0 * 32 * 100 * 64 * 100, rtol=0, atol=1e-3)


case_batch_dot.key = 'batch_dot'

CASES = [
    _matmul_case('dense_fwd', 'dense fwd 128x784 @ W 784x512', (128, 784), (784, 512), weight=True),
    _matmul_case('dense_dw', 'dense dW x^T 784x128 @ 128x512', (128, 784), (128, 512), ta=True),
    _matmul_case('dense_dx', 'dense dx 128x512 @ W^T 512x784', (128, 512), (784, 512), tb=True, weight=True),
    _matmul_case('lstm_gemm', 'LSTM h 32x256 @ W 256x1024', (32, 256), (256, 1024), weight=True),
    _matmul_case('gemv', 'GEMV 1x512 @ W 512x512', (1, 512), (512, 512), weight=True),
    _matmul_case('tall_skinny', 'tall 4096x64 @ W 64x64', (4096, 64), (64, 64), weight=True),
    case_batch_dot,
]
