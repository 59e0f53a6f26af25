"""Meta-tests of the op table: every Keras backend name and every registered public op has rows in
op_table.py, and every row is complete (samples, reference, errors, gradient samples, the five
layouts, a parallel-size sample). api_names.txt is a copy of ../shared/spec/api_names.txt."""
import os

import numpy as np
import pytest

from keras_cpp import _core
from keras_cpp import backend as K

import op_table
from op_info import LAYOUTS, NA_KEYS, layouts_of, rng_for
from op_table import OPS

HERE = os.path.dirname(os.path.abspath(__file__))


def api_names():
    names = []
    with open(os.path.join(HERE, 'api_names.txt')) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                names.append(line.split('\t')[0])
    return names


def public_ops():
    return sorted(n for n in _core._ops if not n.startswith('_'))


def _rng(op, d):
    return rng_for(op.name, d)


def test_every_api_name_exists():
    missing = [n for n in api_names() if not callable(getattr(K, n, None))]
    assert not missing, 'keras_cpp.backend lacks: %s' % missing


def test_every_api_name_has_rows():
    missing = [n for n in api_names() if n not in op_table.OP_BY_NAME]
    assert not missing, 'names without rows in op_table.py: %s' % missing


def test_every_public_op_has_rows():
    missing = [n for n in public_ops() if n not in op_table.OP_BY_NAME]
    assert not missing, 'registered ops without rows in op_table.py: %s' % missing


def test_rows_name_public_names():
    known = set(api_names()) | set(public_ops())
    extra = [n for n in op_table.OP_BY_NAME if n not in known]
    assert not extra, 'rows for names that are neither api names nor registered ops: %s' % extra


@pytest.mark.parametrize('op', [pytest.param(o, id=o.name) for o in OPS])
def test_row_is_complete(op):
    assert callable(op.ref), '%s: no reference or checker' % op.name
    assert op.errors, '%s has no error row' % op.name
    assert op.dtypes, op.name
    for d in op.dtypes:
        assert op.samples(d, _rng(op, d)), '%s: no samples for %s' % (op.name, d)
    if op.differentiable:
        assert op.grad_samples is not None, '%s: differentiable but no gradient samples' % op.name
    elif op.kind in ('pure', 'random') and op.name in _core._ops:
        assert op.grad_samples is not None or 'gradient' in op.na, \
            '%s: say how it is non-differentiable (grad_samples) or why it cannot be checked' % op.name
    if op.name in _core._ops:
        assert op.kind in ('pure', 'update', 'print', 'random'), '%s is a registered op: compare values' % op.name
    unknown = set(op.na) - set(NA_KEYS)
    assert not unknown, '%s: unknown layouts %s' % (op.name, unknown)
    if op.kind != 'contract':
        assert op.big is not None or 'parallel' in op.na, '%s: no parallel-size samples (big=)' % op.name
    for key, reason in list(op.na.items()) + list(op.xfail.items()):
        assert isinstance(reason, str) and len(reason) > 10, '%s: say why for %r' % (op.name, key)


@pytest.mark.parametrize('op', [pytest.param(o, id=o.name) for o in OPS if o.kind != 'contract'])
def test_row_covers_the_layouts(op):
    """Broadcast, negative axes, empty dims, size-1 dims and non-contiguous inputs appear in the
    row's samples (over its dtypes), or the row says why the layout does not apply. (Contract
    rows, for names that are not array ops, check what the name promises instead.)"""
    found = set()
    for d in op.dtypes:
        found |= layouts_of(op.samples(d, _rng(op, d)))
    missing = [l for l in LAYOUTS if l not in found and l not in op.na]
    assert not missing, '%s: samples lack the layouts %s (add samples, or say in na= why not)' % (op.name, missing)
    # (broadcast is detected from differing broadcastable shapes, which contractions also have)
    stale = [l for l in op.na if l in found and l != 'broadcast']
    assert not stale, '%s: na= excuses %s, but the samples cover it' % (op.name, stale)


@pytest.mark.parametrize('op', [pytest.param(o, id=o.name) for o in OPS if o.name in _core._ops])
def test_non_differentiable_flags_match_registry(op):
    sig, primitive, has_grad, nondiff = _core._ops[op.name]
    if primitive and op.kind == 'pure' and op.name not in ('cast',):
        assert (not op.differentiable) == nondiff or (op.differentiable and has_grad), op.name
