"""Backend selection: KERAS_BACKEND, keras.json, external and registered backends (issue 3).

Every test imports keras_cpp.backend in a fresh interpreter (`run_import`, from test_config.py)
with its own HOME, KERAS_HOME and environment; throw-away backend modules live in tmp_path.
"""
import textwrap

import pytest

from test_config import ok, run_import

VALID = '''\
import json as ext_json_module  # an imported module is not a backend entry
def placeholder(*args, **kwargs): return 'ext placeholder'
def variable(*args, **kwargs): return 'ext variable'
def function(*args, **kwargs): return 'ext function'
def ext_only(): return 'ext only'
def floatx(): return 'float8'  # config functions stay keras_cpp's own
_private = 'private'
'''

# An engine entry that the backend (whose entries are `provided`) does not define: it must not
# leak through from the C++ engine.
ENGINE_ONLY = '''
from keras_cpp.backend import _engine
ours = [n for n, v in vars(_engine).items() if not n.startswith('_') and callable(v)
        and n not in _loader.CONFIG_NAMES and n not in provided]
result['engine_only'] = ours[0] if ours else None
if ours:
    try:
        getattr(K, ours[0])
    except AttributeError as e:
        result['engine_only_error'] = str(e)
'''


def engine_only_check(r, provider):
    if r['engine_only'] is not None:  # the engine has more than placeholder/variable/function
        assert r['engine_only_error'] == (
            'keras_cpp.backend.%s is not available: %s, the active backend, does not provide it'
            % (r['engine_only'], provider))


def test_default_is_the_cpp_engine(tmp_path):
    code = '''
        from keras_cpp.backend import _engine
        result['same'] = all(getattr(K, n) is getattr(_engine, n)
                             for n in ('placeholder', 'variable', 'function'))
    '''
    r = ok(run_import(tmp_path, code=code))
    assert r['config'][3] == 'keras_cpp' and r['same']


@pytest.mark.parametrize('name', ['keras_cpp', 'keras_cpp.backend'])
def test_own_names_select_the_cpp_engine_without_recursion(tmp_path, name):
    code = '''
        from keras_cpp.backend import _engine
        result['same'] = K.placeholder is _engine.placeholder
    '''
    r = ok(run_import(tmp_path, env={'KERAS_BACKEND': name}, code=code))
    assert r['config'][3] == 'keras_cpp' and r['same']


def test_keras_backend_env_overrides_the_file(tmp_path):
    files = {'kh/keras.json': '{"backend": "ext_valid"}', 'ext_valid.py': VALID}
    assert ok(run_import(tmp_path, env={'KERAS_BACKEND': 'keras_cpp'}, files=files))[
        'config'][3] == 'keras_cpp'
    r = ok(run_import(tmp_path, env={'KERAS_BACKEND': 'ext_valid'},
                      files={'kh/keras.json': '{"backend": "keras_cpp"}', 'ext_valid.py': VALID}))
    assert r['config'][3] == 'ext_valid'


def test_empty_keras_backend_is_ignored(tmp_path):
    files = {'kh/keras.json': '{"backend": "ext_valid"}', 'ext_valid.py': VALID}
    r = ok(run_import(tmp_path, env={'KERAS_BACKEND': ''}, files=files))
    assert r['config'][3] == 'ext_valid'


@pytest.mark.parametrize('name', ['tensorflow', 'theano', 'cntk'])
@pytest.mark.parametrize('where', ['env', 'file'])
def test_builtin_keras_names_warn_once_and_keep_the_engine(tmp_path, name, where):
    if where == 'env':
        kwargs = {'env': {'KERAS_BACKEND': name}}
        source, fix = 'KERAS_BACKEND', 'set KERAS_BACKEND=keras_cpp.backend.'
    else:
        kwargs = {'files': {'kh/keras.json': '{"backend": "%s"}' % name}}
        source = str(tmp_path / 'kh' / 'keras.json')
        fix = 'set "backend": "keras_cpp.backend" in %s' % source
    code = '''
        from keras_cpp.backend import _engine
        result['same'] = K.placeholder is _engine.placeholder
    '''
    out = run_import(tmp_path, code=code, **kwargs)
    assert out['error'] is None, out['error']
    assert len(out['warnings']) == 1
    message = out['warnings'][0]
    assert message.startswith("UserWarning: keras_cpp does not bundle the '%s' engine selected "
                              "by %s; using keras_cpp's own C++ engine" % (name, source))
    assert 'To silence this warning, ' + fix in message
    assert out['result']['config'][3] == 'keras_cpp' and out['result']['same']


def test_builtin_name_is_an_error_in_strict_mode(tmp_path):
    out = run_import(tmp_path, env={'KERAS_BACKEND': 'tensorflow', 'KERAS_CPP_STRICT_CONFIG': '1'})
    assert out['error'].startswith("ValueError: keras_cpp does not bundle the 'tensorflow' engine")


def test_external_backend_from_env(tmp_path):
    code = textwrap.dedent('''
        import ext_valid
        result['calls'] = [K.placeholder(), K.variable(0), K.function([], []), K.ext_only()]
        result['floatx_is_ours'] = K.floatx is _config.floatx
        result['private'] = getattr(K, '_private', None)
        result['module_entry'] = 'ext_json_module' in vars(K)
        provided = vars(ext_valid)
    ''') + ENGINE_ONLY
    r = ok(run_import(tmp_path, env={'KERAS_BACKEND': 'ext_valid'}, code=code,
                      files={'ext_valid.py': VALID}))
    assert r['config'] == ['float32', 1e-07, 'channels_last', 'ext_valid']
    assert r['calls'] == ['ext placeholder', 'ext variable', 'ext function', 'ext only']
    assert r['floatx_is_ours'] and r['private'] is None and not r['module_entry']
    engine_only_check(r, 'ext_valid (%s)' % (tmp_path / 'ext_valid.py'))


def test_external_backend_by_dotted_path_in_keras_json(tmp_path):
    files = {'extpkg/__init__.py': '', 'extpkg/impl.py': VALID,
             'kh/keras.json': '{"backend": "extpkg.impl"}'}
    r = ok(run_import(tmp_path, files=files, code="result['p'] = K.placeholder()"))
    assert r['config'][3] == 'extpkg.impl' and r['p'] == 'ext placeholder'


def test_external_backend_exports_only_its___all__(tmp_path):
    text = VALID + "__all__ = ['placeholder', 'variable', 'function']\n"
    code = "result['has_ext_only'] = hasattr(K, 'ext_only')"
    r = ok(run_import(tmp_path, env={'KERAS_BACKEND': 'ext_all'}, code=code,
                      files={'ext_all.py': text}))
    assert r['config'][3] == 'ext_all' and not r['has_ext_only']


def test_external_backend_may_build_on_keras_cpp(tmp_path):
    text = '''\
from keras_cpp import backend as K  # circular: keras_cpp.backend is still importing
from keras_cpp.backend import _engine
def placeholder(*args, **kwargs): return ('wrapped', K.floatx())
variable, function = _engine.variable, _engine.function
'''
    r = ok(run_import(tmp_path, env={'KERAS_BACKEND': 'ext_wrap'}, files={'ext_wrap.py': text},
                      code="result['p'] = K.placeholder()"))
    assert r['config'][3] == 'ext_wrap' and r['p'] == ['wrapped', 'float32']


@pytest.mark.parametrize('defined, missing', [
    ('placeholder, variable', 'function'),
    ('placeholder', 'function, variable'),
    ('', 'function, placeholder, variable'),
])
def test_external_backend_missing_entries_are_all_named(tmp_path, defined, missing):
    text = ''.join('def %s(*a): pass\n' % n for n in defined.split(', ') if n)
    out = run_import(tmp_path, env={'KERAS_BACKEND': 'ext_partial'},
                     files={'ext_partial.py': text})
    assert out['error'] == (
        "ValueError: Invalid backend 'ext_partial': ext_partial (%s) is missing required entries: "
        "%s (a backend must define placeholder, variable, function)"
        % (tmp_path / 'ext_partial.py', missing))


@pytest.mark.parametrize('name', ['no_such_backend_xyz', 'no_such_pkg_xyz.sub'])
def test_backend_that_does_not_exist(tmp_path, name):
    # The import succeeds (the name may still be registered), but no engine entry is served.
    code = '''
        try:
            K.placeholder
        except ValueError as e:
            result['error'] = str(e)
            result['cause'] = type(e.__cause__).__name__
    '''
    r = ok(run_import(tmp_path, env={'KERAS_BACKEND': name}, code=code))
    assert r['config'] == ['float32', 1e-07, 'channels_last', name]
    top = name.split('.')[0]
    assert r['error'] == (
        "keras_cpp.backend.placeholder is unavailable: Unable to import backend %r: No module "
        "named %r, and no backend is registered under that name (see register_backend)"
        % (name, top))
    assert r['cause'] == 'ModuleNotFoundError'


def test_backend_whose_own_import_fails(tmp_path):
    out = run_import(tmp_path, env={'KERAS_BACKEND': 'ext_broken'},
                     files={'ext_broken.py': 'import no_such_dependency_xyz\n' + VALID})
    assert out['error'] == (
        "ValueError: Unable to import backend 'ext_broken': the module (%s) was found but its "
        "own import failed: ModuleNotFoundError: No module named 'no_such_dependency_xyz'"
        % (tmp_path / 'ext_broken.py'))
    assert out['cause'] == "ModuleNotFoundError: No module named 'no_such_dependency_xyz'"


def test_backend_raising_at_import(tmp_path):
    out = run_import(tmp_path, env={'KERAS_BACKEND': 'ext_raises'},
                     files={'ext_raises.py': 'raise RuntimeError("no GPU here")\n'})
    assert out['error'].startswith("ValueError: Unable to import backend 'ext_raises'")
    assert out['error'].endswith('RuntimeError: no GPU here')
    assert out['cause'] == 'RuntimeError: no GPU here'


# --- register_backend -------------------------------------------------------------------------

def test_register_backend_activates_the_selected_name(tmp_path):
    code = textwrap.dedent('''
        import types
        result['before'] = K.backend()
        mine = types.SimpleNamespace(placeholder=lambda *a, **k: 'mine placeholder',
                                     variable=lambda *a, **k: 'mine variable',
                                     function=lambda *a, **k: 'mine function')
        K.register_backend('mine', mine)
        result['after'] = [K.backend(), K.placeholder(), K.variable(1), K.function([], [])]
        result['floatx'] = K.floatx()
        provided = vars(mine)
    ''') + ENGINE_ONLY
    r = ok(run_import(tmp_path, env={'KERAS_BACKEND': 'mine'}, code=code))
    assert r['before'] == 'mine'
    assert r['after'] == ['mine', 'mine placeholder', 'mine variable', 'mine function']
    assert r['floatx'] == 'float32'
    engine_only_check(r, "the SimpleNamespace registered as 'mine'")


def test_register_backend_selected_by_keras_json_with_a_mapping(tmp_path):
    code = '''
        K.register_backend('mine', {'placeholder': lambda: 'p', 'variable': 1, 'function': 2})
        result['after'] = [K.backend(), K.placeholder(), K.variable]
    '''
    r = ok(run_import(tmp_path, files={'kh/keras.json': '{"backend": "mine"}'}, code=code))
    assert r['after'] == ['mine', 'p', 1]


def test_register_backend_by_module_and_by_path(tmp_path):
    code = '''
        import ext_valid
        K.register_backend('by_module', ext_valid)
        K.register_backend('by_path', 'ext_valid')
        result['registry'] = sorted(_loader._registry)
        result['active'] = [K.backend(), K.placeholder()]
    '''
    r = ok(run_import(tmp_path, env={'KERAS_BACKEND': 'by_path'}, code=code,
                      files={'ext_valid.py': VALID}))
    assert r['registry'] == ['by_module', 'by_path']
    assert r['active'] == ['by_path', 'ext placeholder']


def test_register_backend_not_selected_changes_nothing(tmp_path):
    code = '''
        from keras_cpp.backend import _engine
        K.register_backend('other', {'placeholder': 1, 'variable': 2, 'function': 3})
        result['state'] = [K.backend(), K.placeholder is _engine.placeholder]
    '''
    assert ok(run_import(tmp_path, code=code))['state'] == ['keras_cpp', True]


def test_register_backend_validates(tmp_path):
    code = '''
        attempts = [('mine', {'placeholder': 1}), ('keras_cpp', {}), ('tensorflow', {}),
                    ('', {}), (3, {}), ('mine', 'no_such_module_xyz')]
        result['errors'] = []
        for name, obj in attempts:
            try:
                K.register_backend(name, obj)
            except ValueError as e:
                result['errors'].append(str(e))
        result['registry'] = sorted(_loader._registry)
    '''
    r = ok(run_import(tmp_path, code=code))
    errors = r['errors']
    assert len(errors) == 6 and r['registry'] == []
    assert errors[0] == ("Invalid backend 'mine': the dict registered as 'mine' is missing "
                         "required entries: function, variable "
                         "(a backend must define placeholder, variable, function)")
    assert errors[1].startswith("register_backend: 'keras_cpp' is reserved")
    assert errors[2].startswith("register_backend: 'tensorflow' is reserved")
    assert errors[3] == "register_backend: name must be a non-empty string, got ''"
    assert errors[4] == 'register_backend: name must be a non-empty string, got 3'
    assert errors[5].startswith("Unable to import backend 'no_such_module_xyz': No module named")
