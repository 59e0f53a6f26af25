"""Malformed calls: each row of op_table.py has at least one, and it must raise the row's
exception type (never crash) with a message naming the op (and matching the row's pattern)."""
import re

import numpy as np
import pytest

from keras_cpp import backend as K

from op_table import OPS

CASES = [pytest.param(op, i, id='%s-%d' % (op.name, i), marks=op.marks('error-%d' % i))
         for op in OPS for i in range(len(op.errors))]


@pytest.mark.parametrize('op,i', CASES)
def test_bad_call_raises_naming_the_op(op, i):
    fn, exc = op.errors[i][:2]
    with pytest.raises(exc) as info:
        r = fn()
        if K.is_tensor(r):  # errors found only at run time still count, but must be clear
            K.eval(r)
    assert op.name in str(info.value), 'message does not name %s: %s' % (op.name, info.value)
    if len(op.errors[i]) > 2:
        assert re.search(op.errors[i][2], str(info.value)), 'message %r does not match %r' % (
            str(info.value), op.errors[i][2])


@pytest.mark.parametrize('op', [pytest.param(o, id=o.name, marks=o.marks('kwarg')) for o in OPS])
def test_unknown_keyword_is_a_type_error(op):
    with pytest.raises(TypeError) as info:
        op.op(K.constant(np.zeros((2, 3))), no_such_argument=1)
    assert op.name in str(info.value)


def test_missing_argument_is_a_type_error():
    with pytest.raises(TypeError, match=r'\[add\]'):
        K.add(K.constant(1.0))


def test_too_many_arguments_is_a_type_error():
    with pytest.raises(TypeError, match=r'\[abs\]'):
        K.abs(K.constant(1.0), 2, 3)


def test_placeholder_feed_with_wrong_shape():
    x = K.placeholder((None, 3))
    f = K.function([x], [K.sum(x)])
    with pytest.raises(ValueError):
        f([np.zeros((2, 4), 'float32')])
    with pytest.raises(ValueError):
        f([np.zeros((3,), 'float32')])


def test_function_wrong_number_of_inputs():
    x = K.placeholder((2,))
    f = K.function([x], [x * 2])
    with pytest.raises((ValueError, TypeError)):
        f([])
    with pytest.raises((ValueError, TypeError)):
        f([np.zeros(2), np.zeros(2)])


def test_function_unknown_kwarg():
    x = K.placeholder((2,))
    with pytest.raises(ValueError, match='bogus'):
        K.function([x], [x], bogus=1)


def test_unfed_placeholder_is_an_error():
    x = K.placeholder((2,))
    y = K.placeholder((2,))
    with pytest.raises(ValueError, match='placeholder'):
        f = K.function([x], [x + y])
        f([np.zeros(2, 'float32')])


def test_variable_unknown_dtype():
    with pytest.raises(TypeError):
        K.variable(1.0, dtype='float128')


def test_set_learning_phase_bad_value():
    with pytest.raises(ValueError):
        K.set_learning_phase(2)


def test_tensor_truth_value_is_an_error():
    with pytest.raises(TypeError):
        bool(K.placeholder((2,)))


def test_set_value_wrong_shape():
    v = K.variable(np.zeros((2, 3)))
    with pytest.raises(ValueError):
        K.set_value(v, np.zeros((3, 2)))
    np.testing.assert_array_equal(K.get_value(v), np.zeros((2, 3)))


def test_getitem_out_of_range():
    x = K.constant(np.zeros((2, 3)))
    with pytest.raises((ValueError, IndexError)):
        K.eval(x[5])
    with pytest.raises((ValueError, IndexError)):
        x[0, 0, 0]


def test_hand_written_functions_name_themselves_in_errors():
    """Errors from Python-level checks, numpy or Keras-copied messages get the function's name."""
    with pytest.raises(ValueError, match=r'^\[set_floatx\] .*float128'):
        K.set_floatx('float128')
    with pytest.raises(TypeError, match=r'^\[ndim\] \[int_shape\] '):
        K.ndim('abc')
    with pytest.raises(TypeError, match=r'^\[in_test_phase\] \[in_train_phase\] training must'):
        K.in_test_phase(K.placeholder((2,)), K.placeholder((2,)), training='yes')
    with pytest.raises(ValueError, match=r'^\[in_train_phase\] training must be 0 or 1'):
        K.in_train_phase(K.placeholder((2,)), K.placeholder((2,)), training=2)
    with pytest.raises(TypeError, match=r'^\[get_value\] \[eval\] expected a tensor'):
        K.get_value('abc')
    with pytest.raises(TypeError, match=r'^\[int_shape\]'):
        K.int_shape('abc')
    import inspect
    assert list(inspect.signature(K.in_train_phase).parameters) == ['x', 'alt', 'training']
    assert K.in_train_phase.__name__ == 'in_train_phase' and 'training phase' in K.in_train_phase.__doc__
