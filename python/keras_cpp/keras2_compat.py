"""Compatibility shims that let Keras 2.3.1 run on current Pythons and h5py 3.

Keras 2.3.1 predates Python 3.10/3.11 and h5py 3; on this stack it cannot even be imported.
`keras_cpp.backend` calls `install()` when Keras is loading it as its backend (Keras imports the
backend before the modules that need these names). Each shim restores a name that was removed
(none replaces an existing one), and the h5py fix is limited to the values Keras reads back from
HDF5 files. Nothing here runs unless Keras is the one importing keras_cpp.backend.
"""
import collections
import collections.abc
import inspect
import sys

_installed = False


def _restore_collections_abc():
    # keras/callbacks/callbacks.py:19 `from collections import Iterable`;
    # keras/engine/training_utils.py:639,696,811,823,857,927 `collections.Container/Mapping/Sequence`.
    # These aliases were removed from `collections` in Python 3.10.
    for name in collections.abc.__all__:
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))


def _restore_inspect_argspec():
    # keras/utils/generic_utils.py:263-268 builds `inspect.ArgSpec(...)`; keras/engine/saving.py:42
    # falls back to `inspect.getargspec`. Both were removed in Python 3.11.
    if not hasattr(inspect, 'ArgSpec'):
        inspect.ArgSpec = collections.namedtuple('ArgSpec', 'args varargs keywords defaults')
    if not hasattr(inspect, 'getargspec'):
        def getargspec(func):
            spec = inspect.getfullargspec(func)
            return inspect.ArgSpec(spec.args, spec.varargs, spec.varkw, spec.defaults)
        inspect.getargspec = getargspec


class _DecodableStr(str):
    """A str that also answers `.decode()` as bytes would (h5py 2 returned bytes here)."""

    def decode(self, encoding='utf-8', errors='strict'):
        return str(self)


def _decodable(value):
    if isinstance(value, str) and not isinstance(value, _DecodableStr):
        return _DecodableStr(value)
    return value


def _patch_h5dict(io_utils):
    # keras/engine/saving.py:273,278,282,345 call `.decode('utf-8')` on string attributes read
    # through keras/utils/io_utils.py H5Dict.__getitem__; h5py >= 3 returns them as `str`.
    H5Dict = io_utils.H5Dict
    if getattr(H5Dict.__getitem__, '_keras_cpp_compat', False):
        return
    original = H5Dict.__getitem__

    def __getitem__(self, attr):
        return _decodable(original(self, attr))

    __getitem__._keras_cpp_compat = True
    H5Dict.__getitem__ = __getitem__


def install():
    """Install the shims (idempotent). Called by keras_cpp.backend when Keras loads it."""
    global _installed
    if _installed:
        return
    _installed = True
    _restore_collections_abc()
    _restore_inspect_argspec()
    io_utils = sys.modules.get('keras.utils.io_utils')
    if io_utils is not None and hasattr(io_utils, 'H5Dict'):
        _patch_h5dict(io_utils)


def keras_is_loading_us():
    """True when Keras's backend loader is importing keras_cpp.backend."""
    return 'keras.backend.load_backend' in sys.modules
