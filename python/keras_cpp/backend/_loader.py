"""Backend selection: KERAS_BACKEND, keras.json's "backend", external and registered backends.

`_activate(ns)` runs once at the end of `keras_cpp.backend`'s import with that module's globals:
- "keras_cpp" / "keras_cpp.backend" (the default): the C++ engine, already in `ns`.
- "tensorflow" / "theano" / "cntk": engines keras_cpp does not bundle; keep ours, warn once.
- a name given to `register_backend`, or a dotted module path: an external backend. Its public
  entries replace the engine's in `ns`; the config functions stay ours. Engine entries it does not
  provide are withheld (AttributeError on access) so two engines are never mixed.
A name that is neither registered nor importable may still be registered later in the process, so
it does not fail the import: the engine entries raise the import error until it is registered.
"""
import os

from . import _config

OWN_NAMES = ('keras_cpp', 'keras_cpp.backend')
BUILTIN_NAMES = ('tensorflow', 'theano', 'cntk')
REQUIRED_ENTRIES = ('placeholder', 'variable', 'function')
# Always keras_cpp's own, whatever an external backend defines (Keras's loader does the same).
CONFIG_NAMES = frozenset((
    'epsilon', 'set_epsilon', 'floatx', 'set_floatx', 'cast_to_floatx', 'image_data_format',
    'set_image_data_format', 'normalize_data_format', 'image_dim_ordering',
    'set_image_dim_ordering', 'symbolic', 'eager', 'backend', 'register_backend'))

_ModuleType = type(os)
_registry = {}     # name -> module or object, from register_backend
_ns = None         # keras_cpp.backend's globals
_own = None        # the C++ engine's public entries, saved before the first swap
_installed = ()    # names an external backend put into _ns
_selected = 'keras_cpp'
_active = 'keras_cpp'


class BackendName(str):
    """The active backend's name. A str (Keras compares `K.backend() == 'tensorflow'`) that also
    offers register_backend and set_floatx, as code written for Keras 2 calls them on it."""
    __slots__ = ()

    def register_backend(self, name, module_or_object):
        """Same as keras_cpp.backend.register_backend."""
        return register_backend(name, module_or_object)

    def set_floatx(self, floatx):
        """Same as keras_cpp.backend.set_floatx."""
        return _config.set_floatx(floatx)


def backend():
    """The active backend's name: "keras_cpp" for the C++ engine, else the selected name (a str
    with register_backend and set_floatx methods)."""
    return BackendName(_active)


def register_backend(name, module_or_object):
    """Register a backend under `name` in this process (a module, an object, a mapping of entries,
    or a dotted module path). It must have placeholder, variable and function. If KERAS_BACKEND
    or keras.json selected `name`, it becomes the active backend now."""
    if not isinstance(name, str) or not name:
        raise ValueError('register_backend: name must be a non-empty string, got %r' % (name,))
    if name in OWN_NAMES or name in BUILTIN_NAMES:
        raise ValueError('register_backend: %r is reserved (reserved names: %s)'
                         % (name, ', '.join(OWN_NAMES + BUILTIN_NAMES)))
    backend_obj = module_or_object
    if isinstance(backend_obj, str):
        backend_obj, not_found = _import(backend_obj)
        if not_found is not None:
            raise not_found
    _entries(name, backend_obj)  # validates
    _registry[name] = backend_obj
    if _ns is not None and name == _selected:
        _install(name, backend_obj)


def _activate(ns):
    """Choose the backend (KERAS_BACKEND non-empty > keras.json > "keras_cpp") and set up `ns`."""
    global _ns, _own, _installed, _selected, _active
    _ns, _own, _installed = ns, None, ()
    _remove_getattr(ns)
    name = os.environ.get('KERAS_BACKEND')
    if name:
        source = 'KERAS_BACKEND'
    elif _config._BACKEND:
        name, source = _config._BACKEND, _config._CONFIG_PATH
    else:
        name, source = 'keras_cpp', None
    _selected = name
    _active = 'keras_cpp'
    if name in OWN_NAMES:
        return
    if name in BUILTIN_NAMES:
        if source == 'KERAS_BACKEND':
            fix = 'set KERAS_BACKEND=keras_cpp.backend'
        else:
            fix = 'set "backend": "keras_cpp.backend" in %s (Keras accepts that name too)' % source
        _config._warn('keras_cpp does not bundle the %r engine selected by %s; using keras_cpp\'s '
                      'own C++ engine (backend() returns "keras_cpp"). To silence this warning, %s.'
                      % (name, source, fix))
        return
    backend_obj = _registry.get(name)
    if backend_obj is None:
        backend_obj, not_found = _import(name)
        if not_found is not None:
            _withhold(name, not_found)
            return
    _install(name, backend_obj)


# ---------------------------------------------------------------------------------------------
# External backends
# ---------------------------------------------------------------------------------------------

def _import(name):
    """(module, None) or (None, ValueError) when no such module exists; raises ValueError when
    the module exists but its own import fails (the original error is the __cause__)."""
    import importlib.util
    try:
        return importlib.import_module(name), None
    except ModuleNotFoundError as e:
        if e.name and (name == e.name or name.startswith(e.name + '.')):
            error = ValueError('Unable to import backend %r: %s, and no backend is registered '
                               'under that name (see register_backend)' % (name, e))
            error.__cause__ = e
            return None, error
        cause = e
    except Exception as e:  # the module was found; running it failed
        cause = e
    try:
        spec = importlib.util.find_spec(name)
        where = ' (%s)' % spec.origin if spec is not None and spec.origin else ''
    except Exception:
        where = ''
    raise ValueError('Unable to import backend %r: the module%s was found but its own import '
                     'failed: %s: %s' % (name, where, type(cause).__name__, cause)) from cause


def _describe(name, backend_obj):
    if isinstance(backend_obj, _ModuleType):
        where = getattr(backend_obj, '__file__', None)
        return '%s (%s)' % (backend_obj.__name__, where) if where else backend_obj.__name__
    return 'the %s registered as %r' % (type(backend_obj).__name__, name)


def _entries(name, backend_obj):
    """The backend's public entries as a dict; ValueError listing every missing required one."""
    if isinstance(backend_obj, _ModuleType):
        names = getattr(backend_obj, '__all__', None)
        if names is None:
            names = [k for k, v in vars(backend_obj).items()
                     if not k.startswith('_') and not isinstance(v, _ModuleType)]
        entries = {k: getattr(backend_obj, k) for k in names if hasattr(backend_obj, k)}
    elif isinstance(backend_obj, dict):
        entries = {k: v for k, v in backend_obj.items()
                   if isinstance(k, str) and not k.startswith('_')}
    else:
        entries = {k: getattr(backend_obj, k) for k in dir(backend_obj) if not k.startswith('_')}
    missing = sorted(set(REQUIRED_ENTRIES).difference(entries))
    if missing:
        raise ValueError('Invalid backend %r: %s is missing required entries: %s '
                         '(a backend must define %s)' % (name, _describe(name, backend_obj),
                                                         ', '.join(missing),
                                                         ', '.join(REQUIRED_ENTRIES)))
    return entries


def _save_own():
    global _own
    if _own is None:
        _own = {k: v for k, v in _ns.items() if not k.startswith('_') and k not in CONFIG_NAMES
                and not isinstance(v, _ModuleType)}


def _restore_own():
    """Undo a previous swap: the engine's entries back, the last external backend's gone."""
    global _installed
    _save_own()
    for k in _installed:
        _ns.pop(k, None)
    _installed = ()
    _ns.update(_own)
    _remove_getattr(_ns)


def _install(name, backend_obj):
    global _installed, _active
    entries = _entries(name, backend_obj)
    _restore_own()
    installed = [k for k in entries if k not in CONFIG_NAMES]
    for k in installed:
        _ns[k] = entries[k]
    _installed = tuple(installed)
    _active = name
    missing = [k for k in _own if k not in entries]
    for k in missing:
        del _ns[k]
    _set_getattr(_ns, frozenset(missing), _describe(name, backend_obj))


def _withhold(name, error):
    """The selected backend is not importable (yet): engine entries raise `error` until
    register_backend(name, ...) supplies it."""
    global _active
    _restore_own()
    for k in _own:
        del _ns[k]
    _active = name
    _set_getattr(_ns, frozenset(_own), None, error)


def _set_getattr(ns, withheld, provider, error=None):
    """Module __getattr__ (PEP 562) for withheld engine entries: AttributeError naming the
    `provider` that lacks them, or `error` while the selected backend is unavailable."""
    previous = ns.get('__getattr__')
    module_name = ns.get('__name__', 'keras_cpp.backend')

    def __getattr__(attr):
        if attr in withheld:
            if error is not None:
                message = '%s.%s is unavailable: %s' % (module_name, attr, error)
                raise ValueError(message) from error.__cause__
            raise AttributeError('%s.%s is not available: %s, the active backend, does not '
                                 'provide it' % (module_name, attr, provider))
        if previous is not None:
            return previous(attr)
        raise AttributeError('module %r has no attribute %r' % (module_name, attr))

    __getattr__._keras_cpp_previous = previous
    ns['__getattr__'] = __getattr__


def _remove_getattr(ns):
    current = ns.get('__getattr__')
    if current is not None and hasattr(current, '_keras_cpp_previous'):
        previous = current._keras_cpp_previous
        if previous is None:
            del ns['__getattr__']
        else:
            ns['__getattr__'] = previous
