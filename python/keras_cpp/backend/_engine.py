"""The C++ engine's Keras functions: the ops registered in C++ (bound mechanically from their
schemas), plus the hand-written list that needs Python objects: placeholder, variable, function,
gradients, learning phase, name scopes, uids and value get/set. The functions that take a Python
callable or give several results are in _control.py. The wrappers here only normalise arguments."""
import builtins
import contextlib
import sys

import numpy as np

from .. import _core
from . import _config, _named

# print_tensor writes `message value` with numpy's formatting to the current sys.stdout.
_core._set_print(lambda message, value: sys.stdout.write('%s %s\n' % (message, value)))

Tensor = _core.Tensor
# numpy defers to the Tensor's operators (array - tensor is a tensor, not an object array), as
# numpy does for tf.Tensor.
Tensor.__array_ufunc__ = None
_OPS = _core._ops

# ---------------------------------------------------------------- registered ops (C++)
_g = globals()
for _name in _OPS:
    if not _name.startswith('_'):
        _g[_name] = getattr(_core, _name)
del _g, _name

_PUBLIC_OPS = sorted(n for n in _OPS if not n.startswith('_'))


# ---------------------------------------------------------------- names, uids, scopes
_UIDS = {}
_NAME_STACK = []
_VAR_NAMES = {}


def get_uid(prefix=''):
    """Per-prefix counter: 1 on the first call, then 2, ..."""
    _UIDS[prefix] = _UIDS.get(prefix, 0) + 1
    return _UIDS[prefix]


def reset_uids():
    """Reset every get_uid counter."""
    _UIDS.clear()


@contextlib.contextmanager
def name_scope(name):
    """Prefix the names of variables and placeholders created inside with `name/`."""
    _NAME_STACK.append(str(name))
    try:
        yield '/'.join(_NAME_STACK)
    finally:
        _NAME_STACK.pop()


def _scoped(name, default):
    base = name if name else default
    full = '/'.join(_NAME_STACK + [base]) if _NAME_STACK else base
    return full


def _unique_var_name(name):
    n = _VAR_NAMES.get(name, 0)
    _VAR_NAMES[name] = n + 1
    return name if n == 0 else '%s_%d' % (name, n)


# ---------------------------------------------------------------- leaves
def _dtype_name(dtype):
    if dtype is None:
        return _config.floatx()
    if isinstance(dtype, str):
        return 'bool' if dtype == 'bool_' else dtype
    try:
        return np.dtype(dtype).name
    except TypeError:
        raise TypeError('Unknown dtype: %r' % (dtype,))


def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None):
    """Symbolic input. shape may contain None; with shape None, ndim gives an all-None shape.
    sparse=True: a 2-D sparse (CSR) input, fed with scipy.sparse matrices (see docs/sparse.md)."""
    dtype = _dtype_name(dtype)
    if shape is None and ndim is not None:
        if not isinstance(ndim, (int, np.integer)) or isinstance(ndim, bool) or not 0 <= ndim <= 64:
            raise ValueError('[placeholder] ndim must be an int in [0, 64] (numpy\'s limit), got %r' % (ndim,))
        shape = (None,) * int(ndim)
    if shape is not None:
        shape = tuple(shape)
    make = _core._sparse_placeholder if sparse else _core.placeholder
    x = make(shape, dtype, _scoped(name, 'placeholder'))
    x._keras_shape = shape
    x._uses_learning_phase = False
    return x


def is_placeholder(x):
    """True iff x was made by placeholder()."""
    return isinstance(x, Tensor) and x._kind == 'placeholder' and x is not _LEARNING_PHASE_PH


def _to_array(value, dtype, op):
    if isinstance(value, Tensor):
        value = eval(value)
    if hasattr(value, 'toarray') and hasattr(value, 'nnz'):  # scipy sparse
        value = value.toarray()
    if value is None or isinstance(value, (str, bytes)):  # numpy would make NaN (None) or fail vaguely
        raise ValueError('[%s] value must be an array, a number, a list or a tensor, got %r' % (op, value))
    try:
        return np.asarray(value, dtype=dtype)
    except (ValueError, TypeError, OverflowError) as e:  # OverflowError: 2**62 as uint8
        raise (TypeError if isinstance(e, TypeError) else ValueError)(
            '[%s] cannot make a %s array of %.80r: %s' % (op, dtype, value, e)) from None


def variable(value, dtype=None, name=None, constraint=None):
    """Mutable tensor initialized from value (array, number, list or tensor); a scipy.sparse
    matrix gives a sparse variable (CSR, not densified)."""
    dtype = _dtype_name(dtype)
    _core.dtype_check(dtype)
    if _core._is_scipy_sparse(value):
        v = _core._sparse_variable(value, dtype, _unique_var_name(_scoped(name, 'variable')))
        v._keras_shape = tuple(value.shape)
        v._uses_learning_phase = False
        v.constraint = constraint
        return v
    arr = _to_array(value, 'bool' if dtype == 'bool' else dtype, 'variable')
    v = _core.variable(arr, dtype, _unique_var_name(_scoped(name, 'variable')))
    v._keras_shape = arr.shape
    v._uses_learning_phase = False
    v.constraint = constraint
    return v


def constant(value, dtype=None, shape=None, name=None):
    """Immutable tensor; with shape, a scalar is filled to it and a same-size value reshaped."""
    dtype = _dtype_name(dtype)
    _core.dtype_check(dtype)
    arr = _to_array(value, dtype, 'constant')
    if shape is not None:
        shape = tuple(shape)
        if arr.size == 1:
            arr = np.full(shape, arr.reshape(()), dtype=dtype)
        elif arr.size == int(np.prod(shape)):
            arr = arr.reshape(shape)
        else:
            raise ValueError('[constant] value of shape %s cannot fill shape %s' % (arr.shape, shape))
    c = _core.constant(arr, dtype, name or 'Const')
    c._uses_learning_phase = False
    return c


def is_tensor(x):
    """True for keras_cpp tensors and variables."""
    return isinstance(x, Tensor)


def is_variable(x):
    """True iff x is a keras_cpp variable."""
    return isinstance(x, Tensor) and x._kind == 'variable'


def is_keras_tensor(x):
    """True iff x carries _keras_history (an output of a Keras layer); ValueError if not a tensor."""
    if not is_tensor(x):
        raise ValueError('Unexpectedly found an instance of type `%s`. Expected a symbolic tensor instance.'
                         % type(x).__name__)
    return hasattr(x, '_keras_history')


def is_sparse(tensor):
    """True iff tensor is a sparse keras_cpp tensor (placeholder(sparse=True), a variable made from
    a scipy.sparse matrix, or an op result that stays sparse, e.g. concatenate of sparse tensors)."""
    return isinstance(tensor, Tensor) and tensor._sparse


# ---------------------------------------------------------------- shapes and dtypes
def int_shape(x):
    """Static shape as a tuple with None for unknown dims (TypeError for non-tensors)."""
    if hasattr(x, '_keras_shape'):
        return x._keras_shape
    if isinstance(x, Tensor):
        return x.shape
    if isinstance(x, np.ndarray) or isinstance(x, (int, float, bool, np.number, np.bool_)):
        return np.shape(x)
    raise TypeError('[int_shape] expected a tensor, got %s' % type(x).__name__)


def ndim(x):
    """Rank as a Python int (None if unknown)."""
    s = int_shape(x)
    return None if s is None else len(s)


def _numeric_array(x, op):
    """np.asarray(x) for numbers and numeric arrays; strings and other objects are a TypeError."""
    a = np.asarray(x)
    if a.dtype.kind not in 'biuf':
        raise TypeError('[%s] expected a tensor, a number or a numeric array, got %s' % (op, type(x).__name__))
    return a


def dtype(x):
    """dtype name string, e.g. 'float32'."""
    if isinstance(x, Tensor):
        return x.dtype
    return _numeric_array(x, 'dtype').dtype.name


def count_params(x):
    """Number of elements of the static shape."""
    s = int_shape(x)
    if s is None or builtins.any(d is None for d in s):  # `any` here is the K op
        raise ValueError('[count_params] the shape %s of %s is not fully known' % (s, getattr(x, 'name', x)))
    return int(np.prod(s)) if len(s) else 1


def _shape_tuple(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)


def _numpy_value(op, make, *args):
    """numpy's constructor, its errors (huge or negative sizes) naming the Keras function."""
    try:
        return make(*args)
    except (ValueError, TypeError, MemoryError) as e:
        raise (ValueError if isinstance(e, MemoryError) else type(e))('[%s] %s' % (op, e)) from None


def zeros(shape, dtype=None, name=None):
    """All-zero variable (shape: an int or a tuple of ints)."""
    dtype = _dtype_name(dtype)
    return variable(_numpy_value('zeros', np.zeros, _shape_tuple(shape), dtype), dtype, name)


def ones(shape, dtype=None, name=None):
    """All-one variable (shape: an int or a tuple of ints)."""
    dtype = _dtype_name(dtype)
    return variable(_numpy_value('ones', np.ones, _shape_tuple(shape), dtype), dtype, name)


def eye(size, dtype=None, name=None):
    """Identity matrix: size n -> (n, n); (n, m) -> n x m."""
    dtype = _dtype_name(dtype)
    n, m = (size, size) if np.isscalar(size) else tuple(size)
    return variable(_numpy_value('eye', np.eye, n, m, 0, dtype), dtype, name)


# ---------------------------------------------------------------- values
def get_value(x):
    """Numpy value of a variable (a copy)."""
    if not is_variable(x):
        return eval(x)
    return _core.get_value(x)


def batch_get_value(ops):
    """List of numpy values."""
    return [get_value(x) for x in ops]


def set_value(x, value):
    """Assign a numpy value (same shape; cast to x's dtype)."""
    if not is_variable(x):
        raise TypeError('[set_value] expected a variable, got %r' % (x,))
    if _core._is_scipy_sparse(value):
        _core._set_sparse_value(x, value)
    else:
        _core.set_value(x, np.asarray(value))


def batch_set_value(tuples):
    """set_value for each (variable, value) pair."""
    for x, value in tuples:
        set_value(x, value)


def eval(x):
    """Numpy value of a tensor (an ndarray, or a numpy scalar for a 0-d tensor, as TF's
    Session.run returns). Evaluating an update op applies it."""
    if not isinstance(x, Tensor):
        return _numeric_array(x, 'eval')
    if is_variable(x):
        return _core.get_value(x)
    f = getattr(x, '_kc_eval_fn', None)
    if f is None:
        f = _core.Function([], [x], [])
        x._kc_eval_fn = f
    return f([])[0]


def _tensor_eval(self, feed_dict=None, session=None):
    """tensor.eval(feed_dict=None): its numpy value, with placeholders fed from feed_dict."""
    if not feed_dict:
        return eval(self)
    phs = list(feed_dict)
    return Function(phs, [self])([feed_dict[p] for p in phs])[0]


Tensor.eval = _tensor_eval


# ---------------------------------------------------------------- function and gradients
_FUNCTION_KWARGS = ('name', 'fetches', 'feed_dict', 'options', 'run_metadata')


def _update_op(u):
    if isinstance(u, (tuple, list)) and len(u) == 2:
        return _core.update(u[0], u[1])
    if isinstance(u, Tensor):
        return u
    raise ValueError('[function] an update must be a (variable, new_value) pair or a tensor (an update op), got %r' % (u,))


class Function(_core.Function):
    """A compiled `inputs -> outputs` computation; call it with a list of values.

    Each call runs the outputs and the updates once. A tensor that reads a variable sees the
    value from before the call unless it depends on an update of that variable (through its
    inputs or K.control_dependencies), then the updated value; updates of one variable apply in
    order, and all updates of a call are committed together when it succeeds.

    Calling it with a list of arrays/numbers runs in C++ with no Python frame (_core.Function's
    __call__); other calls come to _call_general."""

    def __init__(self, inputs, outputs, updates=None, name=None):
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.name = name
        _core._push_control_dependencies(None)  # (variable, value) pairs become update ops with no deps
        try:
            ups = [_update_op(u) for u in (updates or [])]
        finally:
            _core._pop_control_dependencies()
        _core.Function.__init__(self, self.inputs, self.outputs, ups)

    @property
    def _fn(self):
        """The compiled function (this object; num_steps says how many steps its plan has)."""
        return self

    def _call_general(self, inputs):
        # A dict of placeholder -> value, a tuple, or symbolic tensors among the values (Keras's
        # fit on tensors: their current values). scipy.sparse feeds go to C++ as they are.
        if isinstance(inputs, dict):
            inputs = [inputs[p] for p in self.inputs]
        if not isinstance(inputs, (list, tuple)):
            raise TypeError('[function] call it with a list of input values, got %s' % type(inputs).__name__)
        vals = []
        for v in inputs:
            if isinstance(v, Tensor):  # a symbolic value (Keras's fit on tensors): its current value
                v = eval(v)
            vals.append(v)
        return self._run(vals)


def function(inputs, outputs, updates=None, **kwargs):
    """Compile inputs -> outputs (+ updates: update ops or (variable, value) pairs, run on every
    call; outputs that do not depend on them see the pre-call values)."""
    for k in kwargs:
        if k not in _FUNCTION_KWARGS:
            raise ValueError('Invalid argument "%s" passed to K.function (accepted: %s)' % (k, ', '.join(_FUNCTION_KWARGS)))
    if not isinstance(outputs, (list, tuple)):
        f = Function(inputs, [outputs], updates, kwargs.get('name'))
        return lambda ins: f(ins)[0]
    return Function(inputs, outputs, updates, kwargs.get('name'))


def gradients(loss, variables):
    """Symbolic gradients of loss w.r.t. each variable; None where loss does not depend on it."""
    if not isinstance(variables, (list, tuple)):
        variables = [variables]
    return _core.gradients(loss, list(variables))


def stop_gradient(variables):
    """Same value(s) with zero gradient; a list gives a list."""
    if isinstance(variables, (list, tuple)):
        return [_core.stop_gradient(v) for v in variables]
    return _core.stop_gradient(variables)


def _control_list(control_inputs):
    if control_inputs is None:
        return None
    if isinstance(control_inputs, Tensor):
        return [control_inputs]
    out = []
    for c in control_inputs:
        if isinstance(c, (list, tuple)):
            out.extend(_control_list(c))
        elif isinstance(c, Tensor):
            out.append(c)
        elif c is not None:
            raise TypeError('control_dependencies: expected tensors or update ops, got %r' % (c,))
    return out


@contextlib.contextmanager
def control_dependencies(control_inputs):
    """Ops created inside run after control_inputs (tensors or update ops, a list or one; None
    starts from no dependencies): evaluating them evaluates control_inputs first, once per call,
    and their variable reads see those updates."""
    _core._push_control_dependencies(_control_list(control_inputs))
    try:
        yield
    finally:
        _core._pop_control_dependencies()


def clear_session():
    """Reset uids, variable names and the learning phase."""
    global _LEARNING_PHASE_PH, _LEARNING_PHASE_VALUE
    reset_uids()
    _VAR_NAMES.clear()
    _LEARNING_PHASE_PH = _core.placeholder_with_default(np.array(0, dtype='int32'), 'keras_learning_phase')
    _LEARNING_PHASE_PH._uses_learning_phase = False
    _LEARNING_PHASE_VALUE = None


_MANUAL_VAR_INIT = False


def manual_variable_initialization(value):
    """Record the TF1 flag (returned by the next call's caller via _MANUAL_VAR_INIT); keras_cpp
    variables always hold their initial value from creation, so nothing else changes."""
    global _MANUAL_VAR_INIT
    _MANUAL_VAR_INIT = bool(value)


# ---------------------------------------------------------------- learning phase
_LEARNING_PHASE_PH = _core.placeholder_with_default(np.array(0, dtype='int32'), 'keras_learning_phase')
_LEARNING_PHASE_PH._uses_learning_phase = False
_LEARNING_PHASE_VALUE = None


def learning_phase():
    """The train/test flag: a Python int if set, else a scalar int32 placeholder (0 when unfed)."""
    return _LEARNING_PHASE_VALUE if _LEARNING_PHASE_VALUE is not None else _LEARNING_PHASE_PH


def set_learning_phase(value):
    """Fix the learning phase to 0 (test) or 1 (train)."""
    global _LEARNING_PHASE_VALUE
    if value not in (0, 1):
        raise ValueError('Expected learning phase to be 0 or 1, got %r' % (value,))
    _LEARNING_PHASE_VALUE = int(value)


# ---------------------------------------------------------------- graph queries
def get_variable_shape(x):
    """Same as int_shape(x)."""
    return int_shape(x)


def is_symbolic(x):
    """True for keras_cpp tensors (every one is a graph node)."""
    return isinstance(x, Tensor)


# ---------------------------------------------------------------- shape manipulation
def repeat_elements(x, rep, axis):
    """repeat_elements(x, rep, axis)

    np.repeat: each slice along axis repeated rep times (a None dim stays None). Keras reads
    `_keras_shape` from this result (its TF backend sets it), so it is set to the static shape."""
    y = _core.repeat_elements(x, rep, axis)
    y._keras_shape = y.shape
    return y


# ---------------------------------------------------------------- creation and random
# Keras: seed=None draws the op seed from numpy's global RNG (randint(10e6); randint(10e8) for the
# *_variable functions), so np.random.seed makes the results reproducible. The numbers themselves
# are drawn in C++ (Philox, keyed by the seed; fresh ones on each evaluation of a node).
def _op_seed(seed, high):
    return int(np.random.randint(high)) if seed is None else seed


def _random_dtype(dtype):
    return None if dtype is None else _dtype_name(dtype)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Uniform samples in [minval, maxval); shape may be symbolic (e.g. shape(x))."""
    return _core.random_uniform(shape, minval, maxval, _random_dtype(dtype), _op_seed(seed, 10e6))


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples N(mean, stddev**2); shape may be symbolic (e.g. shape(x))."""
    return _core.random_normal(shape, mean, stddev, _random_dtype(dtype), _op_seed(seed, 10e6))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples with draws beyond 2 stddev re-drawn (std of the result 0.87962566 * stddev)."""
    return _core.truncated_normal(shape, mean, stddev, _random_dtype(dtype), _op_seed(seed, 10e6))


def random_binomial(shape, p=0.0, dtype=None, seed=None):
    """1 with probability p (a uniform draw <= p), else 0, in dtype."""
    return _core.random_binomial(shape, p, _random_dtype(dtype), _op_seed(seed, 10e6))


def dropout(x, level, noise_shape=None, seed=None):
    """Zero entries with probability level, scale the rest by 1/(1-level); always applies."""
    return _core.dropout(x, level, noise_shape, _op_seed(seed, 10e6))


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """Variable holding U[low, high) samples (drawn once)."""
    dtype = _dtype_name(dtype)
    return variable(eval(_core.random_uniform(shape, low, high, dtype, _op_seed(seed, 10e8))), dtype, name)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """Variable holding N(mean, scale**2) samples (drawn once)."""
    dtype = _dtype_name(dtype)
    return variable(eval(_core.random_normal(shape, mean, scale, dtype, _op_seed(seed, 10e8))), dtype, name)


_named.name_errors(globals())  # errors name the K function called (_named.py)
