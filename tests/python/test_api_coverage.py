"""Meta-tests: every Keras backend name has a test row, and every public op is tested.

A name counts as tested when op_table.py has a row for it or a test module lists it in its
module-level COVERED list (read with ast, so nothing is imported). api_names.txt is a copy of
the spec's list of Keras 2.3.1 backend names (../shared/spec/api_names.txt)."""
import ast
import glob
import os

from keras_cpp import _core
from keras_cpp import backend as K

import op_table

HERE = os.path.dirname(os.path.abspath(__file__))

# Groups left to later work: convolution/pooling, the RNN loop and CTC.
LATER = {
    'conv1d', 'conv2d', 'conv3d', 'conv2d_transpose', 'conv3d_transpose', 'depthwise_conv2d',
    'separable_conv1d', 'separable_conv2d', 'pool2d', 'pool3d', 'local_conv1d', 'local_conv2d',
    'rnn', 'ctc_batch_cost', 'ctc_decode', 'ctc_label_dense_to_sparse',
}


def api_names():
    names = []
    with open(os.path.join(HERE, 'api_names.txt')) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                names.append(line.split('\t')[0])
    return names


def covered_names():
    names = set(op_table.OP_BY_NAME)
    for path in glob.glob(os.path.join(HERE, 'test_*.py')):
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == 'COVERED' for t in node.targets):
                names.update(ast.literal_eval(node.value))
    return names


def test_every_api_name_exists():
    missing = [n for n in api_names() if n not in LATER and not callable(getattr(K, n, None))]
    assert not missing, 'keras_cpp.backend lacks: %s' % missing


def test_every_api_name_has_a_test_row():
    covered = covered_names()
    missing = [n for n in api_names() if n not in LATER and n not in covered]
    assert not missing, 'names without a test row (op_table.py or a COVERED list): %s' % missing


def test_every_public_op_is_tested():
    covered = covered_names()
    missing = sorted(n for n in _core._ops if not n.startswith('_') and n not in covered)
    assert not missing, 'registered ops without a test row: %s' % missing
