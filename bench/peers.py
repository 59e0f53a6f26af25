"""Thread setup and optional peer frameworks (PyTorch, TensorFlow, JAX).

`configure_threads(n)` must run before numpy, keras_cpp or any peer is imported: OpenMP (keras_cpp,
PyTorch), OpenBLAS (numpy), TensorFlow and XLA read their thread counts from the environment at
load time.  When n is below the number of usable cores, the process is also pinned to n cores so
libraries without a thread knob (XLA with more than one thread) cannot use more.

`load_peers(n, skip)` imports each peer that is installed and not skipped, applies the thread
count through its own API, and never raises: a peer that is missing or fails to import is
recorded with the reason and left out of the run.
"""
import os
import sys
import tempfile


def usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def configure_threads(n):
    n = int(n)
    for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'BLIS_NUM_THREADS',
                'VECLIB_MAXIMUM_THREADS', 'NUMEXPR_NUM_THREADS',
                'TF_NUM_INTRAOP_THREADS'):
        os.environ[var] = str(n)
    os.environ['TF_NUM_INTEROP_THREADS'] = str(n)
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')  # keep TF's start-up banner quiet
    os.environ.setdefault('JAX_PLATFORMS', 'cpu')
    if n == 1:
        flags = os.environ.get('XLA_FLAGS', '')
        os.environ['XLA_FLAGS'] = (flags + ' --xla_cpu_multi_thread_eigen=false '
                                   'intra_op_parallelism_threads=1').strip()
    cores = usable_cores()
    if n < cores and hasattr(os, 'sched_setaffinity'):
        cpus = sorted(os.sched_getaffinity(0))[:n]
        os.sched_setaffinity(0, cpus)


# Environment that caps each library's run-time CPU dispatch at AVX2, so that `--isa avx2` compares
# keras_cpp's AVX2 kernels with peers that also run AVX2 code, as on a machine without AVX-512.
AVX2_ENV = {
    'KERAS_CPP_ISA': 'avx2',
    'ATEN_CPU_CAPABILITY': 'avx2',        # PyTorch's own kernels
    'ONEDNN_MAX_CPU_ISA': 'AVX2',         # oneDNN inside PyTorch and TensorFlow
    'DNNL_MAX_CPU_ISA': 'AVX2',
    'MKL_ENABLE_INSTRUCTIONS': 'AVX2',    # MKL BLAS inside PyTorch
    'OPENBLAS_CORETYPE': 'Haswell',       # numpy's OpenBLAS
    'NPY_DISABLE_CPU_FEATURES': 'X86_V4 AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR',
}


def limit_isa(isa):
    """Cap keras_cpp and every peer at `isa` ('avx2'); must run before any of them is imported.
    Returns the variables set. XLA (JAX) takes its cap as a flag."""
    if isa != 'avx2':
        return {}
    os.environ.update(AVX2_ENV)
    os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') + ' --xla_cpu_max_isa=AVX2').strip()
    return dict(AVX2_ENV, XLA_FLAGS='--xla_cpu_max_isa=AVX2')


class Peers(object):
    """The importable peers: .torch, .tf, .jax (module or None), .info (name -> version or reason)."""

    def __init__(self):
        self.torch = None
        self.tf = None
        self.jax = None
        self.jnp = None
        self.info = {}

    def available(self):
        return [n for n, m in (('torch', self.torch), ('tensorflow', self.tf), ('jax', self.jax)) if m is not None]


def load_peers(n, skip=()):
    p = Peers()
    if 'torch' in skip:
        p.info['torch'] = 'skipped (--skip)'
    else:
        try:
            import torch
            torch.set_num_threads(n)
            try:
                torch.set_num_interop_threads(n)
            except RuntimeError:
                pass
            p.torch = torch
            p.info['torch'] = '%s (threads=%d, interop=%d)' % (
                torch.__version__, torch.get_num_threads(), torch.get_num_interop_threads())
        except Exception as e:  # ImportError or a broken install: just leave it out
            p.info['torch'] = 'not available (%s: %s)' % (type(e).__name__, str(e).splitlines()[0][:80] if str(e) else '')
    if 'tensorflow' in skip or 'tf' in skip:
        p.info['tensorflow'] = 'skipped (--skip)'
    else:
        # TensorFlow imports Keras 3, which reads ~/.keras/keras.json; that file may name
        # keras_cpp.backend (a Keras 2 backend Keras 3 cannot load).  Point Keras 3 at TF for the
        # import only; keras_cpp.backend has already read its own configuration by now. Keras 3
        # also writes a keras.json naming TF into its home when there is none: a private home
        # keeps the bench from leaving ~/.keras/keras.json behind (keras_cpp would warn on it).
        saved = os.environ.get('KERAS_BACKEND')
        saved_home = os.environ.get('KERAS_HOME')
        os.environ['KERAS_BACKEND'] = 'tensorflow'
        os.environ['KERAS_HOME'] = tempfile.mkdtemp(prefix='keras_cpp_bench_keras3_')
        try:
            import tensorflow as tf
            try:
                tf.config.threading.set_intra_op_parallelism_threads(n)
                tf.config.threading.set_inter_op_parallelism_threads(n)
            except RuntimeError:
                pass  # already initialised (TF_NUM_*_THREADS from the environment still apply)
            try:
                tf.config.set_visible_devices([], 'GPU')
            except Exception:
                pass
            p.tf = tf
            p.info['tensorflow'] = '%s (intra=%d, inter=%d)' % (
                tf.__version__, tf.config.threading.get_intra_op_parallelism_threads(),
                tf.config.threading.get_inter_op_parallelism_threads())
        except Exception as e:
            p.tf = None
            p.info['tensorflow'] = 'not available (%s: %s)' % (type(e).__name__, str(e).splitlines()[0][:80] if str(e) else '')
        finally:
            for k, v in (('KERAS_BACKEND', saved), ('KERAS_HOME', saved_home)):
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    if 'jax' in skip:
        p.info['jax'] = 'skipped (--skip)'
    else:
        try:
            import jax
            import jax.numpy as jnp
            jax.config.update('jax_platforms', 'cpu')
            p.jax = jax
            p.jnp = jnp
            dev = jax.devices()[0]
            p.info['jax'] = '%s (%s; threads via %s)' % (
                jax.__version__, dev.platform,
                'XLA_FLAGS single-thread' if n == 1 else 'CPU affinity (%d cores)' % usable_cores())
        except Exception as e:
            p.info['jax'] = 'not available (%s: %s)' % (type(e).__name__, str(e).splitlines()[0][:80] if str(e) else '')
    return p


def to_numpy(x):
    """Convert an output of any implementation (or a list/tuple of them) to numpy."""
    import numpy as np
    if isinstance(x, (list, tuple)):
        return [to_numpy(v) for v in x]
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, 'detach'):  # torch
        return x.detach().cpu().numpy()
    if hasattr(x, 'numpy'):  # tf eager tensor / variable
        return x.numpy()
    return np.asarray(x)  # jax array, scalars


def python_info():
    return sys.version.split()[0]
