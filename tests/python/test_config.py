"""keras.json and the config functions (issue 3; ../shared/spec/config.md).

Import-time behaviour runs in a fresh interpreter per test (`run_import`) with its own HOME,
KERAS_HOME and environment; the config functions themselves are tested in-process.
"""
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

_spec = importlib.util.find_spec('keras_cpp')
PACKAGE_ROOT = os.path.dirname(os.path.dirname(_spec.origin)) if _spec and _spec.origin else None

DEFAULT_FILE = ('{\n    "floatx": "float32",\n    "epsilon": 1e-07,\n'
                '    "image_data_format": "channels_last"\n}\n')

_CHILD = '''\
import json, sys, warnings
out = {'error': None, 'cause': None, 'warnings': [], 'result': {}}
result = out['result']
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
%(pre)s
    try:
        from keras_cpp import backend as K
        from keras_cpp.backend import _config, _loader
    except Exception as e:
        out['error'] = '%%s: %%s' %% (type(e).__name__, e)
        if e.__cause__ is not None:
            out['cause'] = '%%s: %%s' %% (type(e.__cause__).__name__, e.__cause__)
    else:
        result['config'] = [K.floatx(), K.epsilon(), K.image_data_format(), K.backend()]
        result['path'] = _config._CONFIG_PATH
%(code)s
out['warnings'] = ['%%s: %%s' %% (w.category.__name__, w.message) for w in caught]
print(json.dumps(out, default=repr))
'''


def run_import(tmp_path, code='', env=None, files=None, pre=''):
    """Import keras_cpp.backend in a fresh interpreter; return its error/cause/warnings/result.

    The child's HOME is tmp_path/home and KERAS_HOME tmp_path/kh unless `env` says otherwise
    (a None value unsets a variable). `files` (relative path -> text) are written under tmp_path,
    which is also the working directory and on PYTHONPATH. `code` runs after a successful import
    with `K`, `_config`, `_loader` and a `result` dict; `pre` runs before the import."""
    home = tmp_path / 'home'
    home.mkdir(exist_ok=True)
    for rel, text in (files or {}).items():
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    child_env = {k: v for k, v in os.environ.items()
                 if k not in ('KERAS_BACKEND', 'KERAS_HOME', 'KERAS_CPP_STRICT_CONFIG')}
    child_env.update(HOME=str(home), KERAS_HOME=str(tmp_path / 'kh'), PYTHONDONTWRITEBYTECODE='1')
    paths = [str(tmp_path)] + ([PACKAGE_ROOT] if PACKAGE_ROOT else [])
    child_env['PYTHONPATH'] = os.pathsep.join(paths + [os.environ.get('PYTHONPATH', '')])
    for k, v in (env or {}).items():
        if v is None:
            child_env.pop(k, None)
        else:
            child_env[k] = v
    script = _CHILD % {'pre': textwrap.indent(textwrap.dedent(pre), ' ' * 4),
                       'code': textwrap.indent(textwrap.dedent(code), ' ' * 8)}
    proc = subprocess.run([sys.executable, '-c', script], env=child_env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, 'keras_cpp printed to stdout: %r' % proc.stdout  # prints nothing
    return json.loads(lines[0])


def ok(out):
    """The result of an import that must succeed without any warning."""
    assert out['error'] is None, out['error']
    assert out['warnings'] == []
    return out['result']


DEFAULTS = ['float32', 1e-07, 'channels_last', 'keras_cpp']


# --- the config directory and the default file ------------------------------------------------

def test_defaults_written_when_absent(tmp_path):
    r = ok(run_import(tmp_path, env={'KERAS_HOME': str(tmp_path / 'a' / 'b')}))
    path = tmp_path / 'a' / 'b' / 'keras.json'
    assert r['config'] == DEFAULTS
    assert r['path'] == str(path)
    assert path.read_text() == DEFAULT_FILE
    assert os.listdir(path.parent) == ['keras.json']  # no temporary file left behind


def test_default_dir_is_home_dot_keras(tmp_path):
    r = ok(run_import(tmp_path, env={'KERAS_HOME': None}))
    assert r['path'] == str(tmp_path / 'home' / '.keras' / 'keras.json')
    assert (tmp_path / 'home' / '.keras' / 'keras.json').read_text() == DEFAULT_FILE


def test_empty_keras_home_is_ignored(tmp_path):
    r = ok(run_import(tmp_path, env={'KERAS_HOME': ''}))
    assert r['path'] == str(tmp_path / 'home' / '.keras' / 'keras.json')
    assert not (tmp_path / 'keras.json').exists()


def test_tilde_in_keras_home_is_expanded(tmp_path):
    r = ok(run_import(tmp_path, env={'KERAS_HOME': '~/kh'}))
    assert r['path'] == str(tmp_path / 'home' / 'kh' / 'keras.json')
    assert (tmp_path / 'home' / 'kh' / 'keras.json').read_text() == DEFAULT_FILE
    assert not (tmp_path / '~').exists()  # Keras would create a literal ./~/kh


def test_unwritable_home_falls_back_to_tmp(tmp_path):
    # Runs as root, so unwritability is simulated: os.access denies HOME, and makedirs/replace
    # fail so that nothing is written to the real /tmp/.keras.
    before = os.path.exists('/tmp/.keras/keras.json')
    pre = '''
        import os
        _home, _access = os.path.expanduser('~'), os.access
        os.access = lambda p, m, **kw: False if str(p) == _home else _access(p, m, **kw)
        def _deny(*args, **kwargs):
            raise PermissionError(13, 'Permission denied (test)')
        os.makedirs = os.replace = _deny
    '''
    out = run_import(tmp_path, env={'KERAS_HOME': None}, pre=pre)
    assert out['error'] is None, out['error']
    assert out['result']['path'] == '/tmp/.keras/keras.json'
    assert not (tmp_path / 'home' / '.keras').exists()
    assert os.path.exists('/tmp/.keras/keras.json') == before


def test_home_that_is_not_a_directory_uses_defaults_silently(tmp_path):
    (tmp_path / 'home_file').write_text('not a directory')
    r = ok(run_import(tmp_path, env={'KERAS_HOME': None, 'HOME': str(tmp_path / 'home_file')}))
    assert r['config'] == DEFAULTS
    assert (tmp_path / 'home_file').read_text() == 'not a directory'


def test_existing_file_is_read_and_never_modified(tmp_path):
    text = '{"floatx": "float64"}'
    r = ok(run_import(tmp_path, files={'kh/keras.json': text}))
    assert r['config'] == ['float64', 1e-07, 'channels_last', 'keras_cpp']  # missing keys: defaults
    assert (tmp_path / 'kh' / 'keras.json').read_text() == text


# --- each key -------------------------------------------------------------------------------

@pytest.mark.parametrize('key, value, index', [
    ('floatx', 'float16', 0),
    ('floatx', 'float64', 0),
    ('epsilon', 1e-05, 1),
    ('image_data_format', 'channels_first', 2),
    ('backend', 'keras_cpp', 3),
    ('backend', 'keras_cpp.backend', 3),
])
def test_each_key_is_read(tmp_path, key, value, index):
    r = ok(run_import(tmp_path, files={'kh/keras.json': json.dumps({key: value})}))
    expected = list(DEFAULTS)
    expected[index] = 'keras_cpp' if key == 'backend' else value
    assert r['config'] == expected


def test_integer_epsilon_is_accepted_as_float(tmp_path):
    r = ok(run_import(tmp_path, files={'kh/keras.json': '{"epsilon": 1}'},
                      code="result['type'] = type(K.epsilon()).__name__"))
    assert r['config'][1] == 1.0 and r['type'] == 'float'


def test_unknown_keys_are_ignored(tmp_path):
    text = '{"image_dim_ordering": "th", "something": [1, 2]}'
    assert ok(run_import(tmp_path, files={'kh/keras.json': text}))['config'] == DEFAULTS


@pytest.mark.parametrize('key, raw, expected', [
    ('floatx', '"float8"', 'expected one of float16, float32, float64'),
    ('floatx', 'null', 'expected one of float16, float32, float64'),
    ('epsilon', '"small"', 'expected a positive number'),
    ('epsilon', '0', 'expected a positive number'),
    ('epsilon', '-1e-07', 'expected a positive number'),
    ('epsilon', 'true', 'expected a positive number'),
    ('image_data_format', '"nhwc"', 'expected one of channels_last, channels_first'),
    ('backend', '3', 'expected a backend name'),
    ('backend', '""', 'expected a backend name'),
])
def test_invalid_value_error_names_file_key_value_and_allowed(tmp_path, key, raw, expected):
    out = run_import(tmp_path, files={'kh/keras.json': '{"%s": %s}' % (key, raw)})
    path = str(tmp_path / 'kh' / 'keras.json')
    assert out['error'].startswith('ValueError: %s: "%s" is %s; ' % (path, key, raw))
    assert expected in out['error']


# --- malformed files: warning and defaults, file untouched ----------------------------------

@pytest.mark.parametrize('text, fragment', [
    ('{"floatx": "float64",\n  "epsilon": }', 'invalid JSON at line 2, column 14'),
    ('', 'invalid JSON at line 1, column 1'),
    ('[1, 2]', 'expected a JSON object at the top level, got list'),
])
def test_malformed_json_warns_and_uses_defaults(tmp_path, text, fragment):
    out = run_import(tmp_path, files={'kh/keras.json': text})
    assert out['error'] is None, out['error']
    path = str(tmp_path / 'kh' / 'keras.json')
    assert len(out['warnings']) == 1
    message = out['warnings'][0]
    assert message.startswith('UserWarning: ' + path + ': ')
    assert fragment in message and 'using defaults' in message
    assert out['result']['config'] == DEFAULTS
    assert (tmp_path / 'kh' / 'keras.json').read_text() == text


def test_non_utf8_file_warns_and_uses_defaults(tmp_path):
    (tmp_path / 'kh').mkdir()
    (tmp_path / 'kh' / 'keras.json').write_bytes(b'{"floatx": "\xff"}')
    out = run_import(tmp_path)
    assert [w.split(': ')[0] for w in out['warnings']] == ['UserWarning']
    assert 'cannot read the file' in out['warnings'][0]
    assert out['result']['config'] == DEFAULTS


def test_utf8_bom_is_accepted(tmp_path):
    (tmp_path / 'kh').mkdir()
    (tmp_path / 'kh' / 'keras.json').write_bytes(b'\xef\xbb\xbf{"floatx": "float64"}')  # as Notepad saves it
    out = run_import(tmp_path)
    assert out['warnings'] == [] and out['result']['config'][0] == 'float64'


def test_unreadable_file_warns_and_uses_defaults(tmp_path):
    (tmp_path / 'kh' / 'keras.json').mkdir(parents=True)  # opening a directory fails for root too
    out = run_import(tmp_path)
    assert len(out['warnings']) == 1 and 'cannot read the file' in out['warnings'][0]
    assert out['result']['config'] == DEFAULTS


def test_strict_mode_turns_config_warnings_into_errors(tmp_path):
    out = run_import(tmp_path, env={'KERAS_CPP_STRICT_CONFIG': '1'},
                     files={'kh/keras.json': '{"floatx": '})
    assert out['error'].startswith('ValueError: ' + str(tmp_path / 'kh' / 'keras.json'))
    assert 'invalid JSON' in out['error'] and 'KERAS_CPP_STRICT_CONFIG' in out['error']


def test_strict_mode_off_for_zero(tmp_path):
    out = run_import(tmp_path, env={'KERAS_CPP_STRICT_CONFIG': '0'},
                     files={'kh/keras.json': '{"floatx": '})
    assert out['error'] is None and len(out['warnings']) == 1


def test_setters_are_not_persisted(tmp_path):
    code = '''
        K.set_floatx('float64'); K.set_epsilon(1e-3); K.set_image_data_format('channels_first')
        result['after'] = [K.floatx(), K.epsilon(), K.image_data_format()]
    '''
    r = ok(run_import(tmp_path, code=code))
    assert r['after'] == ['float64', 1e-3, 'channels_first']
    assert (tmp_path / 'kh' / 'keras.json').read_text() == DEFAULT_FILE


# --- config functions, in-process -----------------------------------------------------------

@pytest.fixture(scope='module')
def backend_module(tmp_path_factory):
    """keras_cpp.backend, imported (if this is the first import) with a scratch KERAS_HOME."""
    if 'keras_cpp.backend' not in sys.modules:
        mp = pytest.MonkeyPatch()
        mp.setenv('KERAS_HOME', str(tmp_path_factory.mktemp('keras_home')))
        mp.setenv('KERAS_BACKEND', 'keras_cpp')
        mp.delenv('KERAS_CPP_STRICT_CONFIG', raising=False)
        try:
            import keras_cpp.backend  # noqa: F401
        finally:
            mp.undo()
    return sys.modules['keras_cpp.backend']


@pytest.fixture
def K(backend_module):
    """The backend module; the config values are restored after the test."""
    K = backend_module
    saved = K.floatx(), K.epsilon(), K.image_data_format()
    yield K
    K.set_floatx(saved[0])
    K.set_epsilon(saved[1])
    K.set_image_data_format(saved[2])


def test_state_lives_in_the_cpp_core(K):
    from keras_cpp import _core
    K.set_floatx('float64')
    K.set_epsilon(1e-4)
    K.set_image_data_format('channels_first')
    assert _core.config_floatx() == 'float64'
    assert _core.config_epsilon() == 1e-4
    assert _core.config_image_data_format() == 'channels_first'
    _core.config_set_floatx('float16')  # e.g. C++ code embedding keras_cpp
    assert K.floatx() == 'float16'


@pytest.mark.parametrize('bad', ['float8', 'int32', 'Float32', None, ['float32'], {}, np.float32])
def test_set_floatx_rejects_with_allowed_values(K, bad):
    K.set_floatx('float64')
    with pytest.raises(ValueError, match=r'^\[set_floatx\] Unknown floatx type: .*; expected one of '
                                         r'float16, float32, float64$'):
        K.set_floatx(bad)
    assert K.floatx() == 'float64'


def test_set_epsilon_stores_a_float(K):
    K.set_epsilon('1e-3')
    assert K.epsilon() == 1e-3
    K.set_epsilon(1)
    assert K.epsilon() == 1.0 and isinstance(K.epsilon(), float)
    for bad in ('small', None, [1e-3]):
        with pytest.raises(ValueError, match='expected a number'):
            K.set_epsilon(bad)
    assert K.epsilon() == 1.0


def test_set_image_data_format_rejects_with_allowed_values(K):
    K.set_image_data_format('channels_first')
    assert K.image_data_format() == 'channels_first'
    for bad in ('nhwc', 'Channels_Last', None):
        with pytest.raises(ValueError, match='expected one of channels_last, channels_first'):
            K.set_image_data_format(bad)
    assert K.image_data_format() == 'channels_first'


def test_normalize_data_format(K):
    K.set_image_data_format('channels_first')
    assert K.normalize_data_format(None) == 'channels_first'
    assert K.normalize_data_format('Channels_Last') == 'channels_last'
    for bad, shown in (('nhwc', 'nhwc'), (3, '3'), (['channels_last'], "['channels_last']")):
        with pytest.raises(ValueError, match=r'"channels_first", "channels_last"\. Received: '):
            K.normalize_data_format(bad)
        try:
            K.normalize_data_format(bad)
        except ValueError as e:
            assert str(e).endswith(shown)


def test_cast_to_floatx(K):
    a = K.cast_to_floatx([1, 2])
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    K.set_floatx('float64')
    s = K.cast_to_floatx(3)
    assert s.dtype == np.float64 and s.shape == ()


def test_legacy_dim_ordering(K):
    K.set_image_dim_ordering('th')
    assert K.image_data_format() == 'channels_first' and K.image_dim_ordering() == 'th'
    K.set_image_dim_ordering('tf')
    assert K.image_data_format() == 'channels_last' and K.image_dim_ordering() == 'tf'
    with pytest.raises(ValueError, match="expected 'th' or 'tf'"):
        K.set_image_dim_ordering('channels_first')


def test_symbolic_and_eager_are_identity_decorators(K):
    def f():
        return 1
    assert K.symbolic(f) is f and K.eager(f) is f


_FAKE_COMMON = """\
_FLOATX = 'float32'
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = 'channels_last'
def epsilon(): return _EPSILON
def set_epsilon(e):
    global _EPSILON
    _EPSILON = float(e)
def floatx(): return _FLOATX
def set_floatx(f):
    global _FLOATX
    _FLOATX = str(f)
def cast_to_floatx(x): return x
def image_data_format(): return _IMAGE_DATA_FORMAT
def set_image_data_format(f):
    global _IMAGE_DATA_FORMAT
    _IMAGE_DATA_FORMAT = str(f)
"""


def test_keras_common_reads_and_writes_the_cpp_config(K, monkeypatch):
    # Keras 2.3.1's keras.backend.common (a stand-in) gets our accessors: one owner, no syncing.
    from keras_cpp import _core
    from keras_cpp.backend import _config
    common = types.ModuleType('keras.backend.common')
    exec(_FAKE_COMMON, common.__dict__)
    common._FLOATX, common._EPSILON, common._IMAGE_DATA_FORMAT = 'float64', 1e-3, 'channels_first'
    loader = types.ModuleType('keras.backend.load_backend')
    loader.floatx, loader.set_floatx, loader.epsilon = common.floatx, common.set_floatx, common.epsilon
    monkeypatch.setitem(sys.modules, 'keras.backend.common', common)
    monkeypatch.setitem(sys.modules, 'keras.backend.load_backend', loader)
    monkeypatch.setattr(_config, '_keras_common', None)
    _config.install_into_keras(common)  # what happens when Keras loads us
    assert (_core.config_floatx(), _core.config_epsilon(), _core.config_image_data_format()) == \
        ('float64', 1e-3, 'channels_first')  # Keras's values (from its keras.json) are adopted
    assert common.floatx is K.floatx and loader.floatx is K.floatx and loader.set_floatx is K.set_floatx
    common.set_floatx('float16')  # keras.backend.set_floatx
    assert _core.config_floatx() == 'float16' and K.floatx() == 'float16' and common._FLOATX == 'float16'
    K.set_epsilon(1e-5)
    assert common.epsilon() == 1e-5 and common._EPSILON == 1e-5
    _core.config_set_image_data_format('channels_last')  # e.g. C++ code embedding keras_cpp
    assert common.image_data_format() == 'channels_last'
    with pytest.raises(ValueError, match='Unknown floatx'):
        common.set_floatx('float8')  # our validation


def test_keras_imported_after_keras_cpp_gets_the_accessors(tmp_path):
    package = {'keras/__init__.py': '', 'keras/backend/__init__.py': '',
               'keras/backend/common.py': _FAKE_COMMON,
               # Keras's loader binds the names at its top, then applies keras.json.
               'keras/backend/load_backend.py': 'from .common import floatx, set_floatx\nset_floatx("float64")\n'}
    code = '''
    import keras.backend.common as common
    import keras.backend.load_backend as loader
    result['same'] = [loader.floatx is K.floatx, common.set_floatx is K.set_floatx]
    result['floatx'] = [K.floatx(), common.floatx(), common._FLOATX]
    K.set_floatx('float16')
    result['after'] = loader.floatx()
    '''
    r = ok(run_import(tmp_path, code, files=package))
    assert r['same'] == [True, True]
    assert r['floatx'] == ['float64', 'float64', 'float64']
    assert r['after'] == 'float16'
