"""`import keras_cpp.backend` before or after `import keras`: both work on Python 3.11, h5py 3.

keras2_compat must be in place before Keras's own modules run. Keras's loader importing us is one
way; importing keras_cpp.backend first is the other (python/keras_cpp/_keras_hook.py). Each case
runs in a fresh interpreter (this one has imported Keras already), trains, saves and reloads a
model, and reports what the import machinery holds afterwards."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip('keras')  # only in the Keras virtualenv (numpy<2)
pytestmark = pytest.mark.keras

REPORT = '''
import collections, json, sys
import numpy as np
from keras import backend as KB, layers, models
rng = np.random.RandomState(0)
x = rng.randn(64, 4).astype('float32')
y = (x[:, 0] > 0).astype('float32')
m = models.Sequential([layers.Dense(8, activation='relu', input_shape=(4,)), layers.Dense(1, activation='sigmoid')])
m.compile('adam', 'binary_crossentropy')
m.fit(x, y, epochs=2, verbose=0)
m.save(OUT)
same = bool(np.allclose(models.load_model(OUT).predict(x), m.predict(x)))
print(json.dumps({'backend': KB.backend(), 'reloaded_same': same,
                  'hooks': [type(f).__name__ for f in sys.meta_path
                            if type(f).__module__.startswith('keras_cpp')]}))
'''


def run(tmp_path, first):
    code = textwrap.dedent(first) + REPORT.replace('OUT', repr(str(tmp_path / 'm.h5')))
    env = dict(os.environ, KERAS_BACKEND='keras_cpp.backend', KERAS_HOME=str(tmp_path))
    r = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=600,
                       cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize('first', [
    'import keras_cpp.backend\nimport keras\n',
    'from keras_cpp import backend as K\nimport keras\n',
    'import keras\nimport keras_cpp.backend\n',
    # A library probing for Keras (importlib.util.find_spec) must not use up the hook.
    'import importlib.util\nimport keras_cpp.backend\nassert importlib.util.find_spec("keras")\nimport keras\n',
], ids=['backend-first', 'from-import-first', 'keras-first', 'probe-then-keras'])
def test_keras_imports_trains_and_reloads_in_either_order(tmp_path, first):
    r = run(tmp_path, first)
    assert r['backend'] == 'keras_cpp.backend'
    assert r['reloaded_same']  # the h5py 3 string fixes were installed in this order too
    assert r['hooks'] == []  # every hook removed itself once it had done its work


def test_keras_cpp_alone_loads_no_compat_layer(tmp_path):
    code = '''
        import collections, inspect, json, sys
        import keras_cpp.backend
        print(json.dumps({'compat': 'keras_cpp.keras2_compat' in sys.modules, 'keras': 'keras' in sys.modules,
                          'iterable': hasattr(collections, 'Iterable'),
                          'argspec': hasattr(inspect, 'getargspec'),
                          'hooks': [type(f).__name__ for f in sys.meta_path
                                    if type(f).__module__.startswith('keras_cpp')]}))
    '''
    env = dict(os.environ, KERAS_HOME=str(tmp_path))
    r = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got == {'compat': False, 'keras': False, 'iterable': False, 'argspec': sys.version_info < (3, 11),
                   'hooks': ['KerasImportHook']}
