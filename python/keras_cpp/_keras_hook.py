"""When to install keras2_compat, whichever of Keras and keras_cpp.backend is imported first.

Keras 2.3.1 cannot be imported on Python >= 3.10 without keras2_compat's shims, and those must be
in place before Keras's own modules run. `arm()` is called by keras_cpp.backend's import:
- multi-backend Keras is loading (or has loaded) us: install the shims now;
- Keras is not imported yet: add a meta-path finder that installs them right before a later
  `import keras` runs Keras's __init__, if that Keras is multi-backend Keras 2 (it has
  keras/backend/load_backend.py). Until then the finder only compares one module name per
  import, and keras2_compat itself is never loaded;
- another Keras (3, or tf.keras-based 2.4+) is already imported: nothing to do.
"""
import os
import sys

_on_keras = {}  # name -> callable run right before multi-backend Keras's __init__ runs


def _install():
    from . import keras2_compat
    keras2_compat.install()


def when_keras_loads(name, fn):
    """Run fn() right before a later `import keras` (multi-backend Keras 2) runs Keras's __init__,
    after the shims; registering `name` again replaces its callable."""
    _on_keras[name] = fn


def _is_multibackend_keras(spec):
    for where in spec.submodule_search_locations or ():
        if os.path.exists(os.path.join(where, 'backend', 'load_backend.py')):
            return True
    return False


class KerasImportHook(object):
    """Meta-path finder for `keras`: asks the finders after it for the spec and, for Keras 2,
    wraps its exec_module so the shims go in first. It stays armed until that Keras runs, as
    importlib.util.find_spec('keras') (a library probing for Keras) also comes through here."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != 'keras':
            return None
        spec = None
        later = sys.meta_path[sys.meta_path.index(self) + 1:] if self in sys.meta_path else ()
        for finder in later:
            find = getattr(finder, 'find_spec', None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, 'exec_module'):
            return spec
        if not _is_multibackend_keras(spec):
            disarm()
            return spec
        exec_module = spec.loader.exec_module

        def exec_with_shims(module):
            disarm()
            _install()
            for fn in list(_on_keras.values()):
                fn()
            exec_module(module)

        spec.loader.exec_module = exec_with_shims
        return spec


def arm():
    """Called once by keras_cpp.backend's import (see the module docstring)."""
    if 'keras.backend.load_backend' in sys.modules:
        _install()
    elif 'keras' not in sys.modules and not any(isinstance(f, KerasImportHook) for f in sys.meta_path):
        sys.meta_path.insert(0, KerasImportHook())


def disarm():
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, KerasImportHook)]
