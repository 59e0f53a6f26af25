"""The pieces the OpInfo-style table (op_table.py and its rows_*.py groups) is made of: Sample,
OpInfo, the argument wrappers (Fn, Val), the input makers and the per-dtype forward tolerances.

A Sample's arguments are numpy arrays (fed as tensors: placeholders, constants, non-contiguous or
permuted views), Val(array) (passed as a numpy value, never fed), Fn(f) (a Python function
f(ops, ...) run with ops=K on the keras_cpp side and ops=reference on the numpy side), lists of
those, or plain Python values passed as they are."""
import zlib

import numpy as np

FLOATS = ('float16', 'float32', 'float64')
INTS = ('int8', 'int16', 'int32', 'int64', 'uint8')
NUMERIC = FLOATS + INTS
ALL = NUMERIC + ('bool',)

# Forward tolerances (rtol, atol) by output dtype against a float64 reference; BIG_TOL for the
# large parallel-size samples (longer float32 accumulations).
TOL = {'float16': (2e-2, 2e-2), 'float32': (1e-5, 1e-6), 'float64': (1e-10, 1e-12)}
BIG_TOL = {'float16': (5e-2, 5e-2), 'float32': (1e-4, 1e-5), 'float64': (1e-9, 1e-11)}

# The layouts every row's samples must cover (or the row says why one does not apply);
# non-contiguous inputs are covered by the sweep's modes for every row that takes arrays.
LAYOUTS = ('broadcast', 'negative_axis', 'empty', 'size1', 'noncontig')
# na= keys: a layout, 'parallel' for a row without big samples, 'gradient' for a row whose
# gradient cannot be checked by finite differences (fresh random numbers on each call).
NA_KEYS = LAYOUTS + ('parallel', 'gradient')


class Fn(object):
    """A Python function argument f(ops, *args): K or the numpy reference module as ops."""

    def __init__(self, f, label='fn'):
        self.f = f
        self.label = label

    def bind(self, ops):
        return lambda *a, **k: self.f(ops, *a, **k)

    def __repr__(self):
        return self.label


class Make(object):
    """An argument made when the sample is called (a fresh placeholder, variable, tensor...)."""

    def __init__(self, f, label='made'):
        self.f = f
        self.label = label

    def __repr__(self):
        return self.label


class Val(object):
    """An array passed as a numpy value (to constant, variable, cast_to_floatx...), never fed."""

    def __init__(self, a):
        self.a = np.asarray(a)

    def __repr__(self):
        return 'val%s:%s' % (self.a.shape, self.a.dtype)


def _describe(a):
    if isinstance(a, np.ndarray):
        return 'arr%s:%s' % (a.shape, a.dtype)
    if isinstance(a, (list, tuple)) and any(isinstance(v, np.ndarray) for v in a):
        return '[%s]' % ', '.join(_describe(v) for v in a)
    return repr(a)


class Sample(object):
    def __init__(self, *args, **kwargs):
        self.args = list(args)
        self.kwargs = kwargs
        self.tags = set()
        self.expect = None
        self.setup = None
        self.make_args = None

    def tag(self, *tags):
        """Mark a layout the automatic detection cannot see (e.g. a negative positional axis)."""
        self.tags.update(tags)
        return self

    def expects(self, value):
        """What a 'contract' row's call must return (or do), for its checker."""
        self.expect = value
        return self

    def before(self, fn):
        """A 'contract' row's setup, run just before the call (e.g. state the call must reset)."""
        self.setup = fn
        return self

    def made(self, fn):
        """A 'contract' row's arguments made at call time: fn() -> (args, kwargs), for calls whose
        arguments must share tensors (function(inputs, outputs), gradients(loss, variables))."""
        self.make_args = fn
        return self

    def cast_floats(self, dtype):
        """A copy with every float array (fed or Val) cast to dtype."""
        def one(v):
            if isinstance(v, np.ndarray) and v.dtype.kind == 'f':
                return v.astype(dtype)
            if isinstance(v, Val) and v.a.dtype.kind == 'f':
                return Val(v.a.astype(dtype))
            if isinstance(v, (list, tuple)):
                return type(v)(one(x) for x in v)
            return v
        s = Sample(*[one(a) for a in self.args], **{k: one(v) for k, v in self.kwargs.items()})
        s.tags, s.expect = set(self.tags), self.expect
        return s

    def arrays(self):
        """Every fed array of the sample, in argument order (lists flattened)."""
        out = []

        def walk(v):
            if isinstance(v, np.ndarray):
                out.append(v)
            elif isinstance(v, (list, tuple)):
                for x in v:
                    walk(x)
        for a in list(self.args) + list(self.kwargs.values()):
            walk(a)
        return out

    def bind(self, ops, tensors=None, values=None):
        """(args, kwargs) to call with: the fed arrays replaced in order by `tensors` (or kept as
        arrays), Fn bound to `ops`, Val unwrapped (through `values` if given), Make called."""
        it = iter(tensors) if tensors is not None else None

        def one(v):
            if isinstance(v, np.ndarray):
                return next(it) if it is not None else v
            if isinstance(v, Fn):
                return v.bind(ops)
            if isinstance(v, Val):
                return values(v.a) if values else v.a
            if isinstance(v, Make):
                return v.f()
            if isinstance(v, list):
                return [one(x) for x in v]
            if isinstance(v, tuple) and any(isinstance(x, (np.ndarray, Fn, Val, Make)) for x in v):
                return tuple(one(x) for x in v)
            return v
        args = [one(a) for a in self.args]
        kwargs = {k: one(v) for k, v in self.kwargs.items()}
        return args, kwargs

    def __repr__(self):
        return '(%s)' % ', '.join([_describe(a) for a in self.args] + ['%s=%s' % (k, _describe(v))
                                                                       for k, v in self.kwargs.items()])


class OpInfo(object):
    """One public name of keras_cpp.backend and how to test it.

    kind: 'pure' (outputs compared with ref(*args)), 'update' (variable + update handle; ref gives
    the new value), 'print', 'random' (ref(values, *args) asserts the distribution; the same seed
    gives the same numbers) or 'contract' (ref(result, *args) asserts what the call returned or did;
    for names that are not numeric ops).
    samples(dtype, rng) -> [Sample]; grad_samples(rng) -> float64 [Sample] (small: each input is
    perturbed element by element); big(rng) -> [Sample] large enough for parallel_for to split
    (float32 forward, float64 gradient at 1, 2, 3 and 8 threads).
    errors: [(callable, exception type or tuple[, regex the message must match])].
    na: {layout: why it does not apply}. xfail: {test id: one-line bug} (strict)."""

    def __init__(self, name, ref, samples, dtypes=FLOATS, differentiable=True, grad_samples=None,
                 errors=(), kind='pure', out_dtype=None, tol=None, permutable=True, grad_wrt=None,
                 big=None, na=None, xfail=None, feed=True):
        self.name = name
        self.ref = ref
        self.samples = samples
        self.dtypes = dtypes
        self.differentiable = differentiable
        self.grad_samples = grad_samples
        self.errors = list(errors)
        self.kind = kind
        self.out_dtype = out_dtype  # callable(in_dtype) -> expected dtype name(s), or None
        self.tol = dict(TOL, **(tol or {}))
        self.permutable = permutable
        self.grad_wrt = grad_wrt  # indices of the fed arrays to differentiate (None: all float ones)
        self.big = big
        self.na = dict(na or {})
        self.xfail = dict(xfail or {})
        self.feed = feed  # False: arrays are only passed as values (the op takes no tensors)

    def marks(self, test_id):
        """pytest marks for one test of this row: a strict xfail where the row names a known bug."""
        import pytest
        if test_id in self.xfail:
            return [pytest.mark.xfail(strict=True, reason=self.xfail[test_id])]
        return []

    @property
    def op(self):
        from keras_cpp import backend as K
        return getattr(K, self.name)

    def __repr__(self):
        return self.name


def rng_for(*keys):
    """A generator seeded from the row name (and dtype...): the same inputs in every run."""
    return np.random.default_rng(zlib.crc32(repr(keys).encode()))


# ---------------------------------------------------------------- input makers
def arr(shape, dtype, rng, low=-2.0, high=2.0):
    """Random values of a dtype: floats in [low, high); ints in a small range; bools."""
    shape = tuple(shape)
    if dtype == 'bool':
        return np.asarray(rng.random(shape) > 0.5)
    if dtype in INTS:
        lo = 0 if dtype == 'uint8' else int(np.floor(low))
        hi = max(int(np.ceil(high)), lo + 1)
        return np.asarray(rng.integers(lo, hi + 1, size=shape).astype(dtype))
    return np.asarray(rng.uniform(low, high, size=shape).astype(dtype))


def pos(shape, dtype, rng):
    return arr(shape, dtype, rng, 0.5, 2.0)


def distinct(shape, dtype, rng):
    """Values without ties (for max/min/argmax and their gradients), at least 0.2 apart."""
    n = int(np.prod(shape))
    if dtype == 'bool':
        return arr(shape, dtype, rng)
    v = rng.permutation(n).reshape(shape)
    if dtype in INTS:
        return np.asarray((v % 100).astype(dtype))
    return np.asarray(((v - n / 2.0) * 0.25 + rng.uniform(-0.025, 0.025, size=shape)).astype(dtype))


def away(shape, dtype, rng, kinks=(0.0,), gap=0.05, low=-2.0, high=2.0):
    """Floats in [low, high) at least `gap` from each kink (for gradients of piecewise functions)."""
    x = rng.uniform(low, high, size=shape)
    for k in kinks:
        near = np.abs(x - k) < gap
        x = np.where(near, k + np.where(x >= k, gap, -gap) * 2, x)
    return np.asarray(x.astype(dtype))


def probs(shape, dtype, rng, axis=-1):
    p = rng.uniform(0.05, 1.0, size=shape)
    return np.asarray((p / p.sum(axis, keepdims=True)).astype(dtype))


def noncontig(a):
    """The same values in a non-C-contiguous buffer (every other element of a wider array)."""
    if a.ndim == 0:
        return a
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    big[..., ::2] = a
    return big[..., ::2]


def same_float(d):
    return d if d in FLOATS else None


def always(name):
    return lambda d: name


def floatish(d):
    return d if d in FLOATS else 'float32'


def keep(d):
    return d


def onehot(shape, dtype, rng, axis=-1):
    n = shape[axis]
    idx = rng.integers(0, n, size=shape[:axis % len(shape)] + shape[axis % len(shape) + 1:])
    return np.asarray(np.moveaxis(np.eye(n)[idx], -1, axis).astype(dtype))


def c(x, dtype='float32'):
    """A constant tensor (for the error rows)."""
    from keras_cpp import backend as K
    return K.constant(np.asarray(x, dtype=dtype), dtype=dtype)


# ---------------------------------------------------------------- sample builders
UNARY_SHAPES = [(), (3,), (2, 3), (2, 1, 4), (0, 3), (1, 1)]
BINARY_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((4, 1, 3), (2, 1)),
                 ((), (2, 3)), ((2, 3), ()), ((0, 3), (1, 3)), ((1,), (5,))]
REDUCE_CASES = [((2, 3, 4), {}), ((2, 3, 4), {'axis': 0}), ((2, 3, 4), {'axis': -1}),
                ((2, 3, 4), {'axis': [0, 2]}), ((2, 3, 4), {'axis': (1, -1), 'keepdims': True}),
                ((2, 3, 4), {'axis': 1, 'keepdims': True}), ((5,), {'axis': 0}), ((1, 1), {'axis': 0}),
                ((3, 0), {'axis': 0}), ((4, 2, 3), {'axis': [1, -1]})]
GRAD_UNARY = [(2, 3), (4,)]


def unary_samples(maker=arr, shapes=UNARY_SHAPES, **kwargs):
    return lambda dtype, rng: [Sample(maker(s, dtype, rng), **kwargs) for s in shapes]


def unary_grad(maker=arr, **kwargs):
    return lambda rng: [Sample(maker(s, 'float64', rng), **kwargs) for s in GRAD_UNARY]


def binary_samples(maker_x=arr, maker_y=arr, shapes=BINARY_SHAPES):
    return lambda dtype, rng: [Sample(maker_x(a, dtype, rng), maker_y(b, dtype, rng)) for a, b in shapes]


def binary_grad(maker_x=arr, maker_y=arr):
    shapes = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3))]
    return lambda rng: [Sample(maker_x(a, 'float64', rng), maker_y(b, 'float64', rng)) for a, b in shapes]


def reduce_samples(maker=arr, cases=REDUCE_CASES):
    """The shared reduction cases; an empty reduced extent only where the op has an identity."""
    def make(dtype, rng):
        out = []
        for shape, kw in cases:
            out.append(Sample(maker(shape, dtype, rng), **kw))
        return out
    return make


def reduce_grad(maker=arr):
    cases = [((2, 3, 4), {}), ((2, 3, 4), {'axis': -1}), ((2, 3, 4), {'axis': [0, 2], 'keepdims': True}),
             ((3, 2), {'axis': 0})]
    return lambda rng: [Sample(maker(s, 'float64', rng), **kw) for s, kw in cases]



def big_unary(maker=arr):
    """One 256x300 input: 76800 elements, above the 2 x 32768 that splits an elementwise loop."""
    return lambda rng: [Sample(maker((256, 300), 'float64', rng))]


def big_binary(maker_x=arr, maker_y=arr):
    """256x300 with 256x300 (one flat loop) and with (300,) (broadcast rows)."""
    return lambda rng: [Sample(maker_x((256, 300), 'float64', rng), maker_y((256, 300), 'float64', rng)),
                        Sample(maker_x((256, 300), 'float64', rng), maker_y((300,), 'float64', rng))]


# na= reasons shared by many rows
ONE_INPUT = {'broadcast': 'one tensor input: nothing broadcasts'}
NO_AXIS = {'negative_axis': 'takes no axis argument'}


# ---------------------------------------------------------------- layout detection
def _axis_values(sample):
    for k in ('axis', 'axes'):
        if k in sample.kwargs:
            v = sample.kwargs[k]
            for x in (v if isinstance(v, (list, tuple)) else [v]):
                for y in (x if isinstance(x, (list, tuple)) else [x]):
                    yield y


def layouts_of(samples):
    """The layouts a list of samples covers, detected from the arrays and the axis arguments."""
    found = set()
    for s in samples:
        found |= s.tags
        arrays = s.arrays() + [a.a for a in list(s.args) + list(s.kwargs.values()) if isinstance(a, Val)]
        if any(0 in a.shape for a in arrays):
            found.add('empty')
        if any(1 in a.shape for a in arrays):
            found.add('size1')
        shapes = [a.shape for a in s.arrays()]
        if len(set(shapes)) > 1:
            try:
                np.broadcast_shapes(*shapes)
                found.add('broadcast')
            except ValueError:
                pass
        if any(isinstance(v, int) and not isinstance(v, bool) and v < 0 for v in _axis_values(s)):
            found.add('negative_axis')
        if any(a.ndim >= 1 and a.size > 1 for a in arrays):
            found.add('noncontig')
    return found
