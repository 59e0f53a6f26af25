"""keras.json and the config functions of Keras 2.3.1's `common` module.

Read once at import: the directory and file rules, keys and defaults are Keras's own, with the
fixes of ../shared/spec/config.md §6 (clear errors, warnings for unreadable files, `~` expanded
everywhere, atomic default file). The values have one owner, the C++ core (`_core.config_*`), so
C++ code that embeds keras_cpp sees the same settings; nothing here is written back to disk.
Keras 2.3.1 keeps its own copy in `keras.backend.common`; its config functions are replaced by
ours there (see "Keras integration"), so both read and write the C++ values.
"""
import json
import os
import sys
import warnings

from .. import _core, _keras_hook
from . import _named

FLOATX_TYPES = ('float16', 'float32', 'float64')
DATA_FORMATS = ('channels_last', 'channels_first')
DEFAULT_EPSILON = 1e-07
# A new keras.json gets no "backend" key: ~/.keras/keras.json is shared with Keras, tf.keras and
# Keras 3, and naming keras_cpp there would break them (Keras 3 and tf.keras fail to import with
# an unknown backend). A missing key means keras_cpp to us and each framework's default to them.


def _strict_from_env():
    value = os.environ.get('KERAS_CPP_STRICT_CONFIG', '')
    return value.strip().lower() not in ('', '0', 'false', 'no', 'off')


def _warn(message):
    """A config warning; a ValueError instead under KERAS_CPP_STRICT_CONFIG=1 (for CI)."""
    if _STRICT:
        raise ValueError(message + ' (KERAS_CPP_STRICT_CONFIG is set)')
    warnings.warn(message, UserWarning, stacklevel=3)


# ---------------------------------------------------------------------------------------------
# keras.json: where it is, reading, validating, writing the default
# ---------------------------------------------------------------------------------------------

def _config_dir():
    """$KERAS_HOME if set and non-empty, else ~/.keras, or /tmp/.keras when ~ is not writable."""
    home = os.environ.get('KERAS_HOME')
    if home:
        return os.path.expanduser(home)
    base = os.path.expanduser('~')
    if not os.access(base, os.W_OK):
        base = '/tmp'  # Keras: the literal /tmp, whatever TMPDIR says
    return os.path.join(base, '.keras')


def _read(path):
    """The parsed file; None when absent; {} (with a warning) when unreadable or malformed."""
    try:
        with open(path, 'rb') as f:
            text = f.read().decode('utf-8')
        if text.startswith('\ufeff'):  # a UTF-8 BOM, dropped as 'utf-8-sig' would (without its codec import)
            text = text[1:]
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as e:
        _warn('%s: cannot read the file (%s); using defaults' % (path, e))
        return {}
    try:
        config = json.loads(text)
    except ValueError as e:  # json.JSONDecodeError
        where = ' at line %d, column %d' % (e.lineno, e.colno) if hasattr(e, 'lineno') else ''
        _warn('%s: invalid JSON%s (%s); using defaults, the file is left unchanged'
              % (path, where, getattr(e, 'msg', e)))
        return {}
    if not isinstance(config, dict):
        _warn('%s: expected a JSON object at the top level, got %s; using defaults'
              % (path, type(config).__name__))
        return {}
    return config


def _invalid(path, key, value, expected):
    shown = json.dumps(value, ensure_ascii=False)
    return ValueError('%s: "%s" is %s; expected %s' % (path, key, shown, expected))


def _validated(path, config):
    """(floatx, epsilon, image_data_format, backend-or-None) from the file's keys."""
    floatx = config.get('floatx', 'float32')
    if not isinstance(floatx, str) or floatx not in FLOATX_TYPES:
        raise _invalid(path, 'floatx', floatx, 'one of ' + ', '.join(FLOATX_TYPES))

    epsilon = config.get('epsilon', DEFAULT_EPSILON)
    try:
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)):
            raise TypeError
        epsilon = float(epsilon)  # Beyond Keras: an integral 1 is accepted as 1.0
        ok = 0.0 < epsilon < float('inf')
    except (TypeError, OverflowError):
        ok = False
    if not ok:
        raise _invalid(path, 'epsilon', config['epsilon'], 'a positive number such as 1e-07')

    data_format = config.get('image_data_format', 'channels_last')
    if not isinstance(data_format, str) or data_format not in DATA_FORMATS:
        raise _invalid(path, 'image_data_format', data_format, 'one of ' + ', '.join(DATA_FORMATS))

    backend = config.get('backend')
    if backend is not None and (not isinstance(backend, str) or not backend):
        raise _invalid(path, 'backend', backend,
                       'a backend name such as "keras_cpp.backend" or a dotted module path')
    return floatx, epsilon, data_format, backend


def _write_default(config_dir, path):
    """Create the directory and write the default file; silently skipped when not permitted."""
    try:
        os.makedirs(config_dir, exist_ok=True)
    except OSError:
        pass
    text = json.dumps({'floatx': 'float32', 'epsilon': DEFAULT_EPSILON,
                       'image_data_format': 'channels_last'}, indent=4) + '\n'
    tmp = '%s.%d.tmp' % (path, os.getpid())
    try:
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)
        os.replace(tmp, path)  # readers never see a half-written file
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _load():
    """Import-time work: read keras.json (writing the default when absent) into the C++ state."""
    global _CONFIG_DIR, _CONFIG_PATH, _BACKEND
    _CONFIG_DIR = _config_dir()
    _CONFIG_PATH = os.path.join(_CONFIG_DIR, 'keras.json')
    config = _read(_CONFIG_PATH)
    floatx, epsilon, data_format, _BACKEND = _validated(_CONFIG_PATH, config or {})
    if config is None:
        _write_default(_CONFIG_DIR, _CONFIG_PATH)
    _core.config_set_floatx(floatx)
    _core.config_set_epsilon(epsilon)
    _core.config_set_image_data_format(data_format)


# ---------------------------------------------------------------------------------------------
# Config functions (Keras signatures)
# ---------------------------------------------------------------------------------------------

def epsilon():
    """The fuzz factor used in numeric expressions (default 1e-07)."""
    return _core.config_epsilon()


def set_epsilon(e):
    """Set the fuzz factor; stores float(e) like Keras (no range check). Not saved to keras.json."""
    try:
        value = float(e)
    except (TypeError, ValueError):
        raise ValueError('Unknown epsilon: %r; expected a number such as 1e-07' % (e,)) from None
    _core.config_set_epsilon(value)
    _mirror('_EPSILON', value)


def floatx():
    """The default float dtype as a string: 'float16', 'float32' (default) or 'float64'."""
    return _core.config_floatx()


def set_floatx(floatx):
    """Set the default float dtype (float16, float32 or float64). Not saved to keras.json."""
    if not isinstance(floatx, str) or floatx not in FLOATX_TYPES:
        raise ValueError('Unknown floatx type: %s; expected one of %s'
                         % (floatx, ', '.join(FLOATX_TYPES)))
    value = str(floatx)
    _core.config_set_floatx(value)
    _mirror('_FLOATX', value)


def cast_to_floatx(x):
    """A numpy array of `x` in the default float dtype (numpy only, not a tensor op)."""
    import numpy as np
    return np.asarray(x, dtype=floatx())


def image_data_format():
    """'channels_last' (default) or 'channels_first'."""
    return _core.config_image_data_format()


def set_image_data_format(data_format):
    """Set the image data format: 'channels_last' or 'channels_first'. Not saved to keras.json."""
    if not isinstance(data_format, str) or data_format not in DATA_FORMATS:
        raise ValueError('Unknown data_format: %r; expected one of %s'
                         % (data_format, ', '.join(DATA_FORMATS)))
    value = str(data_format)
    _core.config_set_image_data_format(value)
    _mirror('_IMAGE_DATA_FORMAT', value)


def normalize_data_format(value):
    """None -> the global format; otherwise the lower-cased value, which must be a known format."""
    if value is None:
        value = image_data_format()
    data_format = value.lower() if isinstance(value, str) else None
    if data_format not in DATA_FORMATS:
        raise ValueError('The `data_format` argument must be one of "channels_first", '
                         '"channels_last". Received: ' + str(value))
    return data_format


def image_dim_ordering():
    """Legacy: 'th' for channels_first, 'tf' for channels_last."""
    return 'th' if image_data_format() == 'channels_first' else 'tf'


def set_image_dim_ordering(dim_ordering):
    """Legacy: 'th' sets channels_first, 'tf' sets channels_last."""
    if dim_ordering == 'th':
        set_image_data_format('channels_first')
    elif dim_ordering == 'tf':
        set_image_data_format('channels_last')
    else:
        raise ValueError("Unknown dim_ordering: %r; expected 'th' or 'tf'" % (dim_ordering,))


def symbolic(func):
    """Decorator; the identity, as in Keras's common module (TF2 scope switches do not apply)."""
    return func


def eager(func):
    """Decorator; the identity, as in Keras's common module."""
    return func


# ---------------------------------------------------------------------------------------------
# Keras integration: Keras 2.3.1's config functions live in keras.backend.common and read its
# module globals. Ours replace them there (and in the modules that imported them by name), so
# Keras and keras_cpp share the C++ values; the globals are kept equal for code that reads them.
# ---------------------------------------------------------------------------------------------

KERAS_COMMON = 'keras.backend.common'
KERAS_ACCESSORS = ('epsilon', 'set_epsilon', 'floatx', 'set_floatx', 'cast_to_floatx', 'image_data_format',
                   'set_image_data_format')
_keras_common = None  # Keras's common module once our accessors are in it


def _mirror(attribute, value):
    """Keep keras.backend.common's global equal to the C++ value."""
    if _keras_common is not None:
        setattr(_keras_common, attribute, value)


def install_into_keras(common, adopt_values=True):
    """Replace Keras's config functions in `common` (and in keras.backend.load_backend /
    keras.backend when they already hold them) by ours. With adopt_values, the values Keras has
    now (from keras.json, read by Keras's loader) become the C++ values first."""
    global _keras_common
    if adopt_values:
        for attribute, setter in (('_FLOATX', set_floatx), ('_EPSILON', set_epsilon),
                                  ('_IMAGE_DATA_FORMAT', set_image_data_format)):
            if hasattr(common, attribute):
                setter(getattr(common, attribute))
    ours = globals()
    originals = {name: getattr(common, name, None) for name in KERAS_ACCESSORS}
    _keras_common = common
    for name in KERAS_ACCESSORS:
        setattr(common, name, ours[name])
    for module_name in ('keras.backend.load_backend', 'keras.backend'):
        module = sys.modules.get(module_name)
        for name in KERAS_ACCESSORS:
            if module is not None and getattr(module, name, None) is originals[name] is not None:
                setattr(module, name, ours[name])
    _mirror('_FLOATX', floatx())
    _mirror('_EPSILON', epsilon())
    _mirror('_IMAGE_DATA_FORMAT', image_data_format())


class _AfterKerasCommon(object):
    """A meta-path finder, armed while Keras is being imported after us: install our accessors
    right after keras.backend.common runs (before Keras's loader imports names from it)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != KERAS_COMMON:
            return None
        import importlib.machinery
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        exec_module = spec.loader.exec_module

        def exec_and_install(module):
            exec_module(module)
            install_into_keras(module, adopt_values=False)

        spec.loader.exec_module = exec_and_install
        sys.meta_path.remove(self)
        return spec


def _arm_after_keras_common():
    if not any(type(f).__name__ == '_AfterKerasCommon' for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterKerasCommon())


def _hook_keras():
    common = sys.modules.get(KERAS_COMMON)
    if common is not None:
        install_into_keras(common)
    else:  # Keras may come later: keras_cpp's Keras import hook arms ours when it does
        _keras_hook.when_keras_loads('config', _arm_after_keras_common)


_STRICT = _strict_from_env()
_load()
_named.name_errors(globals())  # errors name the K function called (_named.py)
_hook_keras()  # after naming: Keras gets the same function objects as keras_cpp.backend
