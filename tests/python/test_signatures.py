"""Parameter names of every keras_cpp.backend function match Keras 2.3.1's TensorFlow backend.

Keras passes many arguments by keyword, so names matter. keras_signatures.json lists, for each
public function of keras/backend/tensorflow_backend.py (Keras 2.3.1), its parameter names in
order (read from the source with ast; '*name'/'**name' for varargs)."""
import inspect
import json
import os

import pytest

from keras_cpp import backend as K

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, 'keras_signatures.json')) as f:
    KERAS = json.load(f)

# TF-session helpers keras_cpp does not provide (Keras exports them only for its TF backend).
TF_ONLY = {'get_session', 'set_session', 'v1_variable_initialization'}


def our_params(fn):
    names = []
    for p in inspect.signature(fn).parameters.values():
        prefix = '*' if p.kind == p.VAR_POSITIONAL else '**' if p.kind == p.VAR_KEYWORD else ''
        names.append(prefix + p.name)
    return names


@pytest.mark.parametrize('name', sorted(set(KERAS) - TF_ONLY))
def test_parameter_names_match_keras(name):
    fn = getattr(K, name, None)
    assert fn is not None, 'keras_cpp.backend has no %s' % name
    assert our_params(fn) == KERAS[name], '%s%s' % (name, inspect.signature(fn))
