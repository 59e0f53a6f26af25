"""Compatibility shims that let Keras 2.3.1 run on current Pythons and h5py 3.

Keras 2.3.1 predates Python 3.10/3.11 and h5py 3; on this stack it cannot even be imported.
`install()` runs before the Keras modules that need these names (see _keras_hook.py: when Keras's
loader imports keras_cpp.backend, or when `import keras` follows `import keras_cpp.backend`).
Each shim restores a name that was removed (none replaces an existing one), and the h5py fix is
limited to the values Keras reads back from HDF5 files. Nothing here is loaded unless multi-backend
Keras is imported.
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
    # Lists of names (e.g. 'weight_names', saving.py:377) come back as arrays of str.
    kind = getattr(getattr(value, 'dtype', None), 'kind', None)
    if kind in ('O', 'U') and all(isinstance(v, str) for v in value.flat):
        return [_DecodableStr(v) for v in value.tolist()]
    return value


def _patch_h5dict(io_utils):
    # keras/engine/saving.py:273,278,282,345,377 call `.decode('utf-8')` on string attributes (and
    # lists of names) read through keras/utils/io_utils.py H5Dict.__getitem__; h5py >= 3 returns
    # them as `str` (and arrays of `str`) where h5py 2 returned bytes.
    H5Dict = getattr(io_utils, 'H5Dict', None)
    if H5Dict is None or getattr(H5Dict.__getitem__, '_keras_cpp_compat', False):
        return
    original = H5Dict.__getitem__

    def __getitem__(self, attr):
        return _decodable(original(self, attr))

    __getitem__._keras_cpp_compat = True
    H5Dict.__getitem__ = __getitem__


class _DecodingAttrs(object):
    """h5py attributes whose string values also answer `.decode()` (see _decodable)."""

    def __init__(self, attrs):
        self._attrs = attrs

    def __getitem__(self, name):
        return _decodable(self._attrs[name])

    def __contains__(self, name):
        return name in self._attrs

    def __getattr__(self, name):
        return getattr(self._attrs, name)


class _DecodingGroup(object):
    """An h5py group (or file) seen through _DecodingAttrs, subgroups too; datasets unchanged."""

    def __init__(self, group):
        self._group = group

    @property
    def attrs(self):
        return _DecodingAttrs(self._group.attrs)

    def __getitem__(self, name):
        item = self._group[name]
        return _DecodingGroup(item) if hasattr(item, 'keys') else item

    def __contains__(self, name):
        return name in self._group

    def __iter__(self):
        return iter(self._group)

    def __len__(self):
        return len(self._group)

    def __getattr__(self, name):
        return getattr(self._group, name)


def _patch_saving(saving):
    # keras/engine/saving.py:1183,1187,1262,1266 (`f.attrs['keras_version'].decode`) and :722,727
    # (`n.decode('utf8') for n in group.attrs[name]`) read h5py attributes directly, as str under
    # h5py >= 3. The weight loaders get the file through _DecodingGroup; nothing else changes.
    for fname in ('load_weights_from_hdf5_group', 'load_weights_from_hdf5_group_by_name'):
        original = getattr(saving, fname, None)
        if original is None or getattr(original, '_keras_cpp_compat', False):
            continue

        def wrapper(f, *args, _original=original, **kwargs):
            return _original(f if isinstance(f, _DecodingGroup) else _DecodingGroup(f), *args, **kwargs)

        wrapper._keras_cpp_compat = True
        wrapper.__wrapped__ = original
        setattr(saving, fname, wrapper)


class _PatchAfterImport(object):
    """A meta-path finder that runs `patch(module)` right after `name` is imported, then leaves."""

    def __init__(self, name, patch):
        self.name, self.patch = name, patch

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        import importlib.machinery
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        exec_module, patch = spec.loader.exec_module, self.patch

        def exec_and_patch(module):
            exec_module(module)
            patch(module)
            if self in sys.meta_path:
                sys.meta_path.remove(self)

        spec.loader.exec_module = exec_and_patch
        return spec


# Keras modules patched when (or as soon as) they are imported.
_MODULE_PATCHES = (('keras.utils.io_utils', _patch_h5dict), ('keras.engine.saving', _patch_saving))


def install():
    """Install the shims (idempotent); Keras's own modules get theirs when they are imported."""
    global _installed
    if _installed:
        return
    _installed = True
    _restore_collections_abc()
    _restore_inspect_argspec()
    for name, patch in _MODULE_PATCHES:
        module = sys.modules.get(name)
        if module is not None:
            patch(module)
        else:
            sys.meta_path.insert(0, _PatchAfterImport(name, patch))
