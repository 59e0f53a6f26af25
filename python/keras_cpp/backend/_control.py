"""The Keras functions that take a Python callable or give several results: in_train_phase,
switch, map_fn, foldl, foldr, rnn, ctc_decode, normalize_batch_in_training. The loops and the
multi-result graphs are built in C++ (python/src/bind_functions.cpp); the wrappers here call the
callable branches and only normalise arguments."""
import builtins

import numpy as np

from .. import _core
from . import _config, _named
from ._engine import Tensor, constant, learning_phase, _dtype_name


# ---------------------------------------------------------------- learning phase switches
def in_train_phase(x, alt, training=None):
    """x in the training phase, alt otherwise."""
    uses_lp = False
    if training is None:
        training = learning_phase()
        uses_lp = True
    if isinstance(training, np.ndarray) and training.dtype.kind in 'biu':
        training = training.item() if training.ndim == 0 else training
    elif not isinstance(training, (int, bool, np.integer, np.bool_, Tensor)):
        raise TypeError('[in_train_phase] training must be None, 0/1, a bool, an int array or a tensor, got %r'
                        % (training,))
    if isinstance(training, (int, bool, np.integer, np.bool_)):
        if training not in (0, 1):
            raise ValueError('[in_train_phase] training must be 0 or 1 (or a tensor), got %r' % (training,))
        if training == 1:
            return x() if callable(x) else x
        return alt() if callable(alt) else alt
    x = x() if callable(x) else x
    alt = alt() if callable(alt) else alt
    out = switch(training, x, alt)
    if uses_lp:
        out._uses_learning_phase = True
    return out


def in_test_phase(x, alt, training=None):
    """alt in the training phase, x otherwise."""
    return in_train_phase(alt, x, training=training)


# ---------------------------------------------------------------- batch norm and loops
# The functions with a Python callable (map_fn/foldl/foldr: traced once on placeholders, the
# loops run in C++) or several results (normalize_batch_in_training) are C++ functions; switch
# calls its callable branches here.
def normalize_batch_in_training(x, gamma, beta, reduction_axes, epsilon=1e-3):
    """(normed, mean, var): batch mean and population variance over reduction_axes (those axes
    removed); normed = (x - mean) / sqrt(var + epsilon) * gamma + beta along the kept axes."""
    if reduction_axes is None:
        raise ValueError('[normalize_batch_in_training] reduction_axes must be a list of ints, got None')
    axes = [int(reduction_axes)] if np.ndim(reduction_axes) == 0 else [int(a) for a in reduction_axes]
    return _core.normalize_batch_in_training(x, gamma, beta, axes, float(epsilon))


def _as_tensor(v, ref_dtype, op):
    """Arrays and numbers given to the loops/switch become constants. Numbers follow ref's dtype
    (else floatx / int32); numpy values keep their own dtype unless ref says otherwise, as
    tf.convert_to_tensor does."""
    if isinstance(v, Tensor):
        return v
    a = np.asarray(v)
    own = a.dtype.name if isinstance(v, (np.ndarray, np.generic)) else None
    ref_float = ref_dtype is not None and ref_dtype.startswith('float')
    if a.dtype.kind == 'f':
        dt = ref_dtype if ref_float else own or _config.floatx()
    elif a.dtype.kind in 'iu':
        dt = ref_dtype if ref_dtype is not None and ref_dtype != 'bool' else (own if own in ('int32', 'int64', 'uint8')
                                                                             else 'int32')
    elif a.dtype.kind == 'b':
        dt = 'bool'
    else:
        raise TypeError('[%s] expected a tensor, an array or a number, got %r' % (op, v))
    return constant(a, dtype=dt)


def _single(out, like, op):
    """fn's result as one tensor (numbers take the dtype of `like`)."""
    if isinstance(out, (list, tuple)):
        raise TypeError('[%s] fn must return a single tensor, got a %s of %d' % (op, type(out).__name__, len(out)))
    return _as_tensor(out, like.dtype, op)


def map_fn(fn, elems, name=None, dtype=None):
    """Apply fn to each elems[i] (axis 0) and stack the results on axis 0; dtype = result dtype.
    fn is called once, on a placeholder shaped like elems[0]; the loop runs in C++."""
    elems = _as_tensor(elems, None, 'map_fn')
    return _core.map_fn(lambda x: _single(fn(x), x, 'map_fn'), elems, None if dtype is None else _dtype_name(dtype),
                        name or '')


def _fold(fn, elems, initializer, name, reverse):
    op = 'foldr' if reverse else 'foldl'
    elems = _as_tensor(elems, None, op)
    init = None if initializer is None else _as_tensor(initializer, elems.dtype, op)
    fold = _core.foldr if reverse else _core.foldl
    return fold(lambda acc, x: _single(fn(acc, x), acc, op), elems, init, name or '')


def foldl(fn, elems, initializer=None, name=None):
    """acc = fn(acc, elems[i]) for i ascending; initializer None starts from elems[0].
    fn is called once, on placeholders; the loop runs in C++."""
    return _fold(fn, elems, initializer, name, False)


def foldr(fn, elems, initializer=None, name=None):
    """acc = fn(acc, elems[i]) for i descending; initializer None starts from elems[-1]."""
    return _fold(fn, elems, initializer, name, True)


def switch(condition, then_expression, else_expression):
    """Select then/else by condition (scalar: whole branch; rank r: elementwise on leading axes).
    Callable branches are called here; a Python condition picks its branch directly."""
    if callable(then_expression):
        then_expression = then_expression()
    if callable(else_expression):
        else_expression = else_expression()
    if not isinstance(condition, Tensor):
        if np.ndim(condition) == 0:
            return then_expression if condition else else_expression
        condition = _as_tensor(condition, 'bool', 'switch')
    # A number branch takes the other branch's dtype (not the condition's).
    if not isinstance(then_expression, Tensor) and not isinstance(else_expression, Tensor):
        then_expression = _as_tensor(then_expression, None, 'switch')
        else_expression = _as_tensor(else_expression, None, 'switch')
    elif isinstance(else_expression, Tensor) and not isinstance(then_expression, Tensor):
        then_expression = _as_tensor(then_expression, else_expression.dtype, 'switch')
    elif isinstance(then_expression, Tensor) and not isinstance(else_expression, Tensor):
        else_expression = _as_tensor(else_expression, then_expression.dtype, 'switch')
    return _core.switch(condition, then_expression, else_expression)


# ---------------------------------------------------------------- rnn and CTC
# rnn (cpp/ops/rnn.cpp) calls step_function on placeholders (twice, as Keras does) and runs the
# loop over time, the masking and the gradient in C++; ctc_decode's search runs once in one node.
def _step_result(res, uses_learning_phase):
    if not isinstance(res, (list, tuple)) or len(res) != 2:
        raise TypeError('[rnn] step_function must return (output, new_states), got %r' % (res,))
    out, new = res
    if not isinstance(out, Tensor):
        raise TypeError('[rnn] step_function must return a tensor as output, got %r' % (out,))
    if not isinstance(new, (list, tuple)):
        raise TypeError('[rnn] step_function must return new_states as a list of tensors, got %r' % (new,))
    uses_learning_phase.append(bool(getattr(out, '_uses_learning_phase', False)))
    return out, [_as_tensor(s, out.dtype, 'rnn') for s in new]


def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None, unroll=False,
        input_length=None):
    """Iterate step_function(x_t, states + constants) -> (output_t, new_states) over axis 1 of
    inputs (samples, time, ...). Returns (last_output, outputs, new_states); outputs are in
    processing order. mask (samples, time) keeps outputs/states at masked steps; a tensor
    input_length acts as a mask when mask is None. The step is traced once; the loop runs in C++
    (unroll=True copies the step per time step instead; needs a static time length)."""
    inputs = _as_tensor(inputs, None, 'rnn')
    states = [_as_tensor(s, inputs.dtype, 'rnn') for s in (initial_states or [])]
    constants = [_as_tensor(c, inputs.dtype, 'rnn') for c in (constants or [])]
    if mask is not None:
        mask = _as_tensor(mask, None, 'rnn')
    uses_lp = []
    last, outputs, new_states = _core.rnn(lambda x, s: _step_result(step_function(x, s), uses_lp), inputs, states,
                                          bool(go_backwards), mask, constants, bool(unroll),
                                          input_length if isinstance(input_length, Tensor) else None)
    last._uses_learning_phase = builtins.any(uses_lp)
    return last, outputs, list(new_states)


def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1, merge_repeated=False):
    """ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1, merge_repeated=False)

    Decode (samples, time, num_categories) probabilities (blank = last class) over the first
    input_length[b] frames. Returns (decoded, log_prob): decoded is a list of int64
    (samples, longest) tensors padded with -1 (one if greedy, else top_paths); log_prob is
    (samples, 1) = -sum of the per-frame max log(p + eps) when greedy, else (samples, top_paths)
    log probabilities of the beam search's best paths."""
    y_pred = _as_tensor(y_pred, None, 'ctc_decode')
    input_length = _as_tensor(input_length, 'int32', 'ctc_decode')
    decoded, log_prob = _core.ctc_decode(y_pred, input_length, bool(greedy), int(beam_width), int(top_paths),
                                         bool(merge_repeated))
    return list(decoded), log_prob


_named.name_errors(globals())  # errors name the K function called (_named.py)
