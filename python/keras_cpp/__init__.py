"""keras_cpp: a C++17 tensor engine implementing the Keras 2 backend API.

    from keras_cpp import backend as K
"""
from ._cpu import check_cpu as _check_cpu

_check_cpu()
__version__ = "0.1.0"


def get_num_threads():
    """Threads that keras_cpp's kernels use, the calling thread included. The default is
    OMP_NUM_THREADS when it is set, else the CPUs this process may run on."""
    from . import _core
    return _core.get_num_threads()


def set_num_threads(n):
    """Use n >= 1 threads (the calling thread included) for kernel calls from now on; it takes
    effect at any time, also between calls of a compiled K.function."""
    import operator
    n = operator.index(n)  # TypeError for floats and strings, like numpy and torch
    from . import _core
    if not -2**63 <= n < 2**63:
        raise ValueError('[set_num_threads] n must be between 1 and 1024, got %d' % n)
    _core.set_num_threads(n)
