"""keras_cpp: a C++17 tensor engine implementing the Keras 2 backend API.

    from keras_cpp import backend as K
"""
from ._cpu import check_cpu as _check_cpu

_check_cpu()
__version__ = "0.1.0"
