"""Table rows: names that are not numeric ops ('contract' rows). The row's checker gets what the
call returned, the sample's expectation and the call's arguments, and asserts the contract:
configuration getters and setters, predicates and shape queries, values, placeholders, K.function,
K.gradients, the learning phase, uids and name scopes. The sweep restores the configuration after
each call (test_ops._Config)."""
import numpy as np

from keras_cpp import backend as K

from op_info import *  # noqa: F401,F403  (the table's vocabulary)

ROWS = []


def row(name, checker, samples, errors, **kw):
    ROWS.append(OpInfo(name, checker, samples, ('float32',), differentiable=False, errors=errors, kind='contract', **kw))


def one(*samples):
    return lambda dtype, rng: list(samples)


def arity(name, *args):
    """The malformed call of a name that takes no arguments (or fewer): Python names the function."""
    return (lambda: getattr(K, name)(*args), TypeError, name)


def equals(result, expect, *args, **kwargs):
    assert type(result) == type(expect) and result == expect, 'got %r, expected %r' % (result, expect)


def var(value, dtype=None, name=None):
    return Make(lambda: K.variable(np.asarray(value), dtype=dtype, name=name), 'variable%s' % (np.shape(value),))


def ph(shape, dtype=None, **kw):
    return Make(lambda: K.placeholder(shape=shape, dtype=dtype, **kw), 'placeholder%s' % (shape,))


# ---------------------------------------------------------------- configuration
def _check_floatx(result, expect):
    assert result in ('float16', 'float32', 'float64'), result
    K.set_floatx('float16')
    assert K.floatx() == 'float16' and K.dtype(K.variable(1.)) == 'float16' and K.cast_to_floatx(1).dtype == 'float16'


def _check_set_floatx(result, expect, value):
    assert result is None and K.floatx() == expect
    assert K.dtype(K.placeholder((2,))) == expect and K.dtype(K.zeros((2,))) == expect
    assert K.eval(K.random_uniform((2,), seed=1)).dtype == np.dtype(expect)


row('floatx', lambda r, e: _check_floatx(r, e), one(Sample()), [arity('floatx', 1)])
row('set_floatx', _check_set_floatx, one(*[Sample(d).expects(d) for d in ('float16', 'float64', 'float32')]),
    [(lambda: K.set_floatx('float128'), ValueError, 'float128')])


def _check_epsilon(result, expect):
    assert isinstance(result, float) and 0 < result < 1, result
    K.set_epsilon(1e-4)
    assert K.epsilon() == 1e-4


def _check_set_epsilon(result, expect, value):
    assert result is None and isinstance(K.epsilon(), float) and K.epsilon() == expect, K.epsilon()


row('epsilon', lambda r, e: _check_epsilon(r, e), one(Sample()), [arity('epsilon', 1)])
row('set_epsilon', _check_set_epsilon, one(Sample(1e-5).expects(1e-5), Sample(3).expects(3.0)),
    [(lambda: K.set_epsilon('a'), ValueError, 'epsilon')])


def _check_data_format(result, expect):
    assert result in ('channels_last', 'channels_first'), result
    K.set_image_data_format('channels_first')
    assert K.image_data_format() == 'channels_first' and K.image_dim_ordering() == 'th'
    assert K.int_shape(K.spatial_2d_padding(K.placeholder((1, 2, 3, 4)))) == (1, 2, 5, 6)  # ops read it


def _check_set_data_format(result, expect, value):
    assert result is None and K.image_data_format() == expect
    assert K.normalize_data_format(None) == expect


def _check_dim_ordering(result, expect):
    assert result == {'channels_last': 'tf', 'channels_first': 'th'}[K.image_data_format()], result


def _check_set_dim_ordering(result, expect, value):
    assert result is None and K.image_data_format() == expect and K.image_dim_ordering() == value


row('image_data_format', lambda r, e: _check_data_format(r, e), one(Sample()), [arity('image_data_format', 1)])
row('set_image_data_format', _check_set_data_format,
    one(Sample('channels_first').expects('channels_first'), Sample('channels_last').expects('channels_last')),
    [(lambda: K.set_image_data_format('channels_middle'), ValueError, 'channels_middle')])
row('image_dim_ordering', lambda r, e: _check_dim_ordering(r, e), one(Sample()), [arity('image_dim_ordering', 1)])
row('set_image_dim_ordering', _check_set_dim_ordering,
    one(Sample('th').expects('channels_first'), Sample('tf').expects('channels_last')),
    [(lambda: K.set_image_dim_ordering('xx'), ValueError, 'xx')])
row('normalize_data_format', equals,
    one(Sample(None).expects('channels_last').before(lambda: K.set_image_data_format('channels_last')),
        Sample('Channels_First').expects('channels_first'), Sample('channels_last').expects('channels_last'),
        Sample(None).expects('channels_first').before(lambda: K.set_image_data_format('channels_first'))),
    [(lambda: K.normalize_data_format('nchw'), ValueError, 'nchw')])


def _check_backend(result, expect):
    # a str (Keras compares it with ==) that also offers register_backend and set_floatx
    assert isinstance(result, str) and result == expect, 'got %r, expected %r' % (result, expect)
    assert callable(result.register_backend) and callable(result.set_floatx)


row('backend', _check_backend, one(Sample().expects('keras_cpp')), [arity('backend', 1)])


def _check_decorator(result, expect, func):
    assert result is func and result(2) == 4  # the identity decorator, as in Keras's common module


for _n in ('symbolic', 'eager'):
    row(_n, _check_decorator, one(Sample(lambda v: v * 2)), [arity(_n)])


# ---------------------------------------------------------------- learning phase, uids, scopes, session
def _check_learning_phase(result, expect):
    assert K.is_tensor(result) and K.dtype(result) == 'int32' and K.int_shape(result) == ()
    assert K.eval(result) == 0  # test phase when nothing feeds it
    assert K.function([result], [K.in_train_phase(K.constant(1.), K.constant(2.))])([1])[0] == 1.
    K.set_learning_phase(1)
    assert K.learning_phase() == 1


def _check_set_learning_phase(result, expect, value):
    assert result is None and K.learning_phase() == expect and type(K.learning_phase()) is int
    assert K.eval(K.in_train_phase(K.constant(1.), K.constant(2.))) == (1. if expect else 2.)


row('learning_phase', lambda r, e: _check_learning_phase(r, e), one(Sample().before(K.clear_session)),
    [arity('learning_phase', 1)])
row('set_learning_phase', _check_set_learning_phase, one(Sample(1).expects(1), Sample(0).expects(0)),
    [(lambda: K.set_learning_phase(2), ValueError, '0 or 1')])


def _check_get_uid(result, expect, prefix=''):
    assert result == 1 and K.get_uid(prefix) == 2 and K.get_uid(prefix + '_other') == 1


def _check_reset_uids(result, expect):
    assert result is None and K.get_uid('conv') == 1 and K.get_uid('') == 1


def _check_clear_session(result, expect):
    assert result is None and K.get_uid('dense') == 1
    lp = K.learning_phase()
    assert K.is_tensor(lp) and K.eval(lp) == 0  # a fixed phase is cleared


def _spend_uids():
    K.get_uid('conv'), K.get_uid('conv'), K.get_uid('dense'), K.get_uid('')
    K.set_learning_phase(1)


row('get_uid', _check_get_uid, one(Sample('dense').before(K.reset_uids), Sample().before(K.reset_uids)),
    [(lambda: K.get_uid([1]), TypeError, 'get_uid')])
row('reset_uids', lambda r, e: _check_reset_uids(r, e), one(Sample().before(_spend_uids)), [arity('reset_uids', 1)])
row('clear_session', lambda r, e: _check_clear_session(r, e), one(Sample().before(_spend_uids)),
    [arity('clear_session', 1)])


def _check_name_scope(result, expect, name):
    with result as scope:
        v = K.variable(1., name='w')
        p = K.placeholder((2,), name='p')
        with K.name_scope('inner'):
            w = K.variable(2., name='w')
    assert scope == name and v.name.startswith(name + '/w') and p.name.startswith(name + '/p'), (scope, v.name, p.name)
    assert w.name.startswith(name + '/inner/w'), w.name
    assert not K.variable(3., name='w').name.startswith(name), 'the scope outlived the with block'


def _check_control_dependencies(result, expect, control_inputs):
    v = K.variable(1.)
    with result:
        y = v * 2. + 1.
    f = K.function([], [y], updates=[K.update_add(v, 1.)])
    assert f([])[0] == 3. and K.get_value(v) == 2.  # outputs before updates, inside the block too


def _check_manual_init(result, expect, value):
    from keras_cpp.backend import _engine
    try:
        assert result is None and _engine._MANUAL_VAR_INIT is bool(value)
        assert K.get_value(K.variable(3.)) == 3.  # variables hold their value either way
    finally:
        _engine._MANUAL_VAR_INIT = False


row('name_scope', _check_name_scope, one(Sample('block1'), Sample('outer')), [arity('name_scope')])
row('control_dependencies', _check_control_dependencies, one(Sample([]), Sample([var(1.)])),
    [arity('control_dependencies')])
row('manual_variable_initialization', _check_manual_init, one(Sample(True), Sample(False)),
    [arity('manual_variable_initialization')])


# ---------------------------------------------------------------- predicates
def _keras_tensor():
    t = K.placeholder((2,)) * 2.
    t._keras_history = ('layer', 0, 0)  # what a Keras layer sets on its outputs
    return t


def _is(result, expect, *args, **kwargs):
    assert result is expect, 'got %r, expected %r' % (result, expect)


PRED = {'is_tensor': [(ph((2,)), True), (var(1.), True), (Make(lambda: K.constant(1.) + 1.), True),
                      (np.zeros(2), False), (3, False)],
        'is_variable': [(var(1.), True), (Make(lambda: K.zeros((2,))), True), (ph((2,)), False),
                        (Make(lambda: K.constant(1.)), False), (np.zeros(2), False)],
        'is_placeholder': [(ph((2,)), True), (ph(None), True), (var(1.), False), (Make(lambda: K.constant(1.)), False),
                           (Make(K.learning_phase), False), (np.zeros(2), False)],
        'is_symbolic': [(ph((2,)), True), (var(1.), True), (Make(lambda: K.constant(1.) * 2.), True),
                        (np.zeros(2), False), (3, False)],
        'is_sparse': [(ph((2, 3), sparse=True), True), (ph((2, 3)), False), (var(1.), False)],
        'is_keras_tensor': [(Make(_keras_tensor), True), (ph((2,)), False), (var(1.), False)]}
for _n, _cases in PRED.items():
    row(_n, _is, one(*[Sample(a).expects(e) for a, e in _cases]),
        [(lambda: K.is_keras_tensor(np.zeros(2)), ValueError)] if _n == 'is_keras_tensor' else [arity(_n)])


# ---------------------------------------------------------------- shapes and dtypes
SHAPE_CASES = [(ph((None, 3)), (None, 3)), (ph((2, 0, 1)), (2, 0, 1)), (ph(()), ()), (var(np.zeros((2, 3))), (2, 3)),
               (Make(lambda: K.constant(np.zeros((4, 1)))), (4, 1)), (Make(lambda: K.placeholder(ndim=2) * 2.), (None, None)),
               (np.zeros((5, 2)), (5, 2))]
row('int_shape', equals, one(*[Sample(a).expects(e) for a, e in SHAPE_CASES]),
    [(lambda: K.int_shape(object()), TypeError, 'expected a tensor')])
row('get_variable_shape', equals, one(*[Sample(a).expects(e) for a, e in SHAPE_CASES]),
    [(lambda: K.get_variable_shape(object()), TypeError)])
row('ndim', equals, one(*[Sample(a).expects(len(e)) for a, e in SHAPE_CASES] + [Sample(ph(None)).expects(None)]),
    [(lambda: K.ndim(object()), TypeError)])
row('count_params', equals,
    one(Sample(var(np.zeros((2, 3)))).expects(6), Sample(var(1.)).expects(1), Sample(ph((4, 5))).expects(20),
        Sample(var(np.zeros((0, 3)))).expects(0)),
    [(lambda: K.count_params(K.placeholder((None, 2))), ValueError, 'not fully known')])
row('dtype', equals,
    one(Sample(var(1, 'int16')).expects('int16'), Sample(ph((2,), 'bool')).expects('bool'),
        Sample(Make(lambda: K.cast(K.constant(1.), 'float64'))).expects('float64'),
        Sample(np.zeros(2, 'uint8')).expects('uint8'), Sample(var(1.)).expects('float32')),
    [arity('dtype'), (lambda: K.dtype(object()), TypeError), (lambda: K.dtype('abc'), TypeError)])


# ---------------------------------------------------------------- values
def _check_value(result, expect, *args):
    # an ndarray, or for a 0-d value a numpy scalar (np.float32...), as TF's Session.run returns
    assert isinstance(result, np.generic if np.ndim(expect) == 0 else np.ndarray) and not K.is_tensor(result), type(result)
    assert result.dtype == expect.dtype and result.shape == expect.shape, (result.dtype, result.shape)
    np.testing.assert_array_equal(result, expect)


def _check_get_value(result, expect, x):
    _check_value(result, expect)
    if isinstance(result, np.ndarray):
        result[...] = 7  # a copy: the variable keeps its value
    if K.is_variable(x):
        np.testing.assert_array_equal(K.get_value(x), expect)


A23 = np.arange(6, dtype='float32').reshape(2, 3)
row('get_value', _check_get_value,
    one(Sample(var(A23)).expects(A23), Sample(var(np.zeros((0, 2)), 'int32')).expects(np.zeros((0, 2), 'int32')),
        Sample(var(True, 'bool')).expects(np.array(True)), Sample(Make(lambda: K.constant(A23) * 2.)).expects(A23 * 2)),
    [(lambda: K.get_value(K.placeholder((2,))), ValueError, 'placeholder')])
row('eval', _check_value,
    one(Sample(Make(lambda: K.constant(A23) * 2.)).expects(A23 * 2), Sample(var(A23)).expects(A23),
        Sample(Make(lambda: K.sum(K.constant(A23), axis=0))).expects(A23.sum(0)), Sample(np.ones(2)).expects(np.ones(2))),
    [(lambda: K.eval(K.placeholder((2,))), ValueError, 'placeholder')])


def _check_batch_get(result, expect, ops):
    assert isinstance(result, list) and len(result) == len(expect)
    for r, e in zip(result, expect):
        _check_value(r, e)


row('batch_get_value', _check_batch_get,
    one(Sample([var(A23), var(2, 'int64')]).expects([A23, np.array(2, 'int64')]), Sample([]).expects([])),
    [(lambda: K.batch_get_value(5), TypeError)])


def _check_set_value(result, expect, x, value):
    assert result is None and K.get_value(x).dtype == np.dtype(K.dtype(x))
    np.testing.assert_array_equal(K.get_value(x), expect)


def _check_batch_set(result, expect, tuples):
    assert result is None
    for (x, _), e in zip(tuples, expect):
        np.testing.assert_array_equal(K.get_value(x), e)


row('set_value', _check_set_value,
    one(Sample(var(np.zeros((2, 3))), Val(np.ones((2, 3), 'float64'))).expects(np.ones((2, 3), 'float32')),
        Sample(var(np.zeros(3), 'int32'), [1, 2, 3]).expects(np.array([1, 2, 3], 'int32')),
        Sample(var(np.zeros((0, 2))), Val(np.zeros((0, 2)))).expects(np.zeros((0, 2), 'float32')),
        Sample(var(0.), 5).expects(np.array(5, 'float32')),
        Sample(var(np.zeros((2, 3))), Val(noncontig(A23))).expects(A23)),
    [(lambda: K.set_value(K.variable(np.zeros(2)), np.zeros(3)), ValueError, 'shape'),
     (lambda: K.set_value(K.constant(1.), 1.), TypeError, 'variable')])
row('batch_set_value', _check_batch_set,
    one(Sample([(var(np.zeros((2, 3))), Val(A23)), (var(0, 'int16'), 4)]).expects([A23, np.array(4, 'int16')]),
        Sample([]).expects([])),
    [(lambda: K.batch_set_value([(K.variable(np.zeros(2)), np.zeros(3))]), ValueError, 'shape')])


# ---------------------------------------------------------------- placeholders
def _check_placeholder(result, expect, *args, **kwargs):
    shape, dtype = expect
    assert K.is_placeholder(result) and K.int_shape(result) == shape and K.dtype(result) == dtype
    if 'name' in kwargs:
        assert result.name.startswith(kwargs['name'])
    if shape is None:
        return
    feed = np.ones([2 if d is None else d for d in shape], dtype=dtype)
    read = K.to_dense if K.is_sparse(result) else K.identity  # only sparse-aware ops take a sparse tensor
    np.testing.assert_array_equal(K.function([result], [read(result)])([feed])[0], feed)
    try:  # a value of another rank is refused
        K.function([result], [read(result)])([np.ones(feed.shape + (2,), dtype)])
    except ValueError:
        return
    raise AssertionError('a placeholder of shape %s took a value of shape %s' % (shape, feed.shape + (2,)))


row('placeholder', _check_placeholder,
    one(Sample(shape=(None, 3)).expects(((None, 3), 'float32')), Sample(ndim=2).expects(((None, None), 'float32')),
        Sample((2, 3), dtype='int32').expects(((2, 3), 'int32')), Sample((), dtype='bool').expects(((), 'bool')),
        Sample((0, 2)).expects(((0, 2), 'float32')), Sample().expects((None, 'float32')),
        Sample((2, 3), sparse=True).expects(((2, 3), 'float32')), Sample((1,), name='inp').expects(((1,), 'float32')),
        Sample((2,), dtype='float64').expects(((2,), 'float64'))),
    [(lambda: K.placeholder(shape=(2, -1)), ValueError, 'negative'), (lambda: K.placeholder((2,), dtype='int42'), TypeError),
     (lambda: K.placeholder((2,), sparse=True), ValueError, '2-D')])


# ---------------------------------------------------------------- function and gradients
def _function_args():
    x, v = K.placeholder((None, 3)), K.variable(np.array([1., 2., 3.], 'float32'))
    return [[x], [K.sum(x * v, axis=1), K.square(x)]], {'updates': [K.update_add(v, 1.)], 'name': 'f'}


def _single_output_args():
    x = K.placeholder((2,))
    return [[x], x * 2.], {}


def _check_function(result, expect, inputs, outputs, updates=None, **kwargs):
    a = np.arange(6, dtype='float32').reshape(2, 3)
    if not isinstance(outputs, list):  # one output: the value itself, not a list
        np.testing.assert_array_equal(result([a[0, :2]]), a[0, :2] * 2)
        return
    s, sq = result([a])
    np.testing.assert_allclose(s, a @ [1., 2., 3.])
    np.testing.assert_array_equal(sq, a * a)
    s2, _ = result([a])  # the update ran after the first call's outputs
    np.testing.assert_allclose(s2, a @ [2., 3., 4.])
    np.testing.assert_array_equal(a, np.arange(6).reshape(2, 3))  # the input is not modified


def _gradients_args():
    x = K.variable(np.array([1., -2., 3.]), dtype='float64')
    u = K.variable(np.zeros(2))
    return [K.sum(K.square(x)) + K.sum(K.sin(x)), [x, u]], {}


def _check_gradients(result, expect, loss, variables):
    assert isinstance(result, list) and len(result) == 2 and result[1] is None  # u is not connected
    x = K.get_value(variables[0])
    np.testing.assert_allclose(K.eval(result[0]), 2 * x + np.cos(x), rtol=1e-12)
    hess = K.gradients(K.sum(result[0]), [variables[0]])[0]  # the gradient is a graph: differentiate again
    np.testing.assert_allclose(K.eval(hess), 2 - np.sin(x), rtol=1e-12)


row('function', _check_function, one(Sample().made(_function_args), Sample().made(_single_output_args)),
    [(lambda: K.function([], [], bogus=1), ValueError, 'bogus'),
     (lambda: K.function([K.placeholder((2,))], [K.placeholder((2,))])([np.zeros(2)]), ValueError, 'placeholder')])
row('gradients', _check_gradients, one(Sample().made(_gradients_args)),
    [(lambda: K.gradients('loss', [K.placeholder((2,))]), TypeError)])
