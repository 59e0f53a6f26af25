"""Type stubs, py.typed and docs/api.md come from python/tools/gen_api.py (op registry + Python sources):
they are current, the package that is imported ships them, every public name of keras_cpp.backend is
in the stub with its runtime parameters, and mypy (when installed; CI installs it) reads them:
stubtest agrees with the runtime and user code is checked against them."""
import ast
import inspect
import os
import subprocess
import sys
import types

import pytest

import keras_cpp
from keras_cpp import _core
from keras_cpp import backend as K

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'python', 'tools'))
import gen_api  # noqa: E402

PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(keras_cpp.__file__)))
REGENERATE = 'stale: run `PYTHONPATH=python python python/tools/gen_api.py all` and commit the result'


def _read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def test_committed_stubs_are_current():
    for rel, text in gen_api.stub_files(_core).items():
        assert _read(os.path.join(ROOT, 'python', rel)) == text, '%s is %s' % (rel, REGENERATE)


def test_imported_package_ships_its_stubs_and_py_typed():
    # Under tests/run.sh this is the installed wheel; in the dev loop, python/ itself.
    assert os.path.isfile(os.path.join(PKG_PARENT, 'keras_cpp', 'py.typed'))
    for rel, text in gen_api.stub_files(_core).items():
        path = os.path.join(PKG_PARENT, rel)
        assert os.path.isfile(path), 'the package at %s lacks %s' % (PKG_PARENT, rel)
        assert _read(path) == text, '%s differs from what its own _core generates' % path


def test_api_reference_is_current_and_lists_every_function():
    text = gen_api.render_api_md(_core)
    assert _read(os.path.join(ROOT, 'docs', 'api.md')) == text, 'docs/api.md is %s' % REGENERATE
    missing = [n for n in _public_runtime() if callable(getattr(K, n)) and not isinstance(getattr(K, n), type)
               and '\n### %s\n' % n not in text]
    assert not missing, missing


def _public_runtime():
    return sorted(n for n in dir(K) if not n.startswith('_') and not isinstance(getattr(K, n), types.ModuleType))


def _stub_tree():
    path = os.path.join(ROOT, 'python', 'keras_cpp', 'backend', '__init__.pyi')
    return ast.parse(_read(path))


def _stub_params(fn):
    a = fn.args
    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    out = [(p.arg, d) for p, d in zip(positional, defaults)]
    if a.vararg:
        out.append(('*' + a.vararg.arg, None))
    out += [(p.arg, d) for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg:
        out.append(('**' + a.kwarg.arg, None))
    return out


def test_every_public_name_is_in_the_stub_with_its_parameters():
    stub = {}
    for node in _stub_tree().body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            stub[node.name] = node
        elif isinstance(node, ast.Assign):
            stub.update((t.id, node) for t in node.targets if isinstance(t, ast.Name))
    public_stub = sorted(n for n in stub if not n.startswith('_'))
    assert public_stub == _public_runtime()
    checked = 0
    for name in _public_runtime():
        obj, node = getattr(K, name), stub[name]
        if not isinstance(node, ast.FunctionDef):
            continue
        sig = inspect.signature(obj)  # ops carry a text signature, so this works for all
        runtime = []
        for p in sig.parameters.values():
            star = {p.VAR_POSITIONAL: '*', p.VAR_KEYWORD: '**'}.get(p.kind, '')
            runtime.append((star + p.name, p.default))
        stubbed = _stub_params(node)
        assert [n for n, _ in runtime] == [n for n, _ in stubbed], name
        for (pname, value), (_, default) in zip(runtime, stubbed):
            if value is inspect.Parameter.empty:
                assert default is None, '%s: %s has a default in the stub only' % (name, pname)
            elif default is None:
                raise AssertionError('%s: %s has a default at run time only' % (name, pname))
            elif not (isinstance(default, ast.Constant) and default.value is Ellipsis):  # ... = not a literal
                assert ast.literal_eval(default) == value, (name, pname, ast.unparse(default), value)
        checked += 1
    assert checked > 150, checked  # the ops and the Python functions


@pytest.fixture(scope='module')
def mypy_cache(tmp_path_factory):
    pytest.importorskip('mypy', reason='mypy reads the stubs (tests/run.sh installs it)')
    return str(tmp_path_factory.mktemp('mypy_cache'))  # shared: numpy's stubs are read once


def _mypy(*args, cwd):
    env = dict(os.environ, PYTHONPATH=PKG_PARENT, MYPYPATH='')
    return subprocess.run([sys.executable, '-m', 'mypy'] + list(args), cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_stubtest_agrees_with_the_runtime(tmp_path, mypy_cache):
    config = tmp_path / 'mypy.ini'
    # The implementation modules are not typed; only the stubs are checked.
    pkg = os.path.join(PKG_PARENT, 'keras_cpp')
    untyped = sorted('keras_cpp.' + os.path.relpath(os.path.join(d, f), pkg)[:-3].replace(os.sep, '.')
                     for d, _, files in os.walk(pkg) for f in files
                     if f.endswith('.py') and f != '__init__.py')
    config.write_text('[mypy]\ncache_dir = %s\n[mypy-%s]\nignore_errors = True\n' % (mypy_cache, ','.join(untyped)))
    env = dict(os.environ, PYTHONPATH=PKG_PARENT, MYPYPATH='')
    r = subprocess.run([sys.executable, '-m', 'mypy.stubtest', '--mypy-config-file', str(config),
                        '--allowlist', os.path.join(HERE, 'stubtest_allowlist.txt'), 'keras_cpp'],
                       cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr


GOOD = '''\
import numpy as np
from keras_cpp import backend as K

x = K.placeholder(shape=(None, 3))
w = K.variable(np.ones((3, 2), dtype='float32'))
y: K.Tensor = K.sum(K.dot(x, w) * 2.0, axis=1, keepdims=True)
grads = K.gradients(K.mean(y), [w])
f = K.function([x], [y])
out = f([np.ones((4, 3), dtype='float32')])
fmt: str = K.floatx()
rank = y.ndim
'''
BAD = '''\
from keras_cpp import backend as K

x = K.placeholder(shape=(2,))
K.sum(x, axis='rows')
K.floatx(1)
K.no_such_function(x)
n: int = K.dot(x, x)
'''


def test_mypy_checks_user_code_against_the_stubs(tmp_path, mypy_cache):
    (tmp_path / 'good.py').write_text(GOOD)
    (tmp_path / 'bad.py').write_text(BAD)
    cache = ['--cache-dir', mypy_cache]
    good = _mypy('good.py', *cache, cwd=str(tmp_path))
    assert good.returncode == 0, good.stdout + good.stderr
    bad = _mypy('bad.py', *cache, cwd=str(tmp_path))
    lines = sorted({int(l.split(':')[1]) for l in bad.stdout.splitlines() if l.startswith('bad.py:') and ': error:' in l})
    assert lines == [4, 5, 6, 7], bad.stdout


def test_generator_tables_name_existing_functions():
    assert gen_api.stale_tables(_core) == []
