"""Property-based fuzzing of every public keras_cpp.backend function (run by test_fuzz.py in a
child process, so that a crash or a hang fails a test instead of killing pytest).

For each function, hypothesis draws arguments from the op's schema (`_core._op_signatures` gives
each parameter's kind; hand-written Python functions get kinds from their parameter names):
mostly valid tensors of related shapes, plus wrong types, unknown dims and ranks, extreme and
non-finite numbers, non-native byte order. Each call must give either a clean exception
(ValueError / TypeError / NotImplementedError whose message names an op) or a result, leave its
numpy inputs unmodified, and, where tests/python/reference.py has a reference and the inputs are
plain finite floats, equal numpy's answer.

Protocol: argv = function names. Before each call one line {"case": ...} goes to stdout (so the
parent can name the case that crashed or hung), after each function one line {"done": name,
"problems": [...]}.
"""
import inspect
import json
import os
import re
import resource
import sys
import time
import warnings

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from keras_cpp import _core
from keras_cpp import backend as K

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as R  # noqa: E402

OUT = None  # the protocol channel (main sets it)

EXAMPLES = int(os.environ.get('KERAS_CPP_FUZZ_EXAMPLES', '30'))
# Config setters keep Keras 2.3.1's own messages ("Unknown floatx type: ...", config.md).
KERAS_MESSAGES = ('set_epsilon', 'set_floatx', 'set_image_data_format', 'set_image_dim_ordering', 'normalize_data_format')
CLEAN = (ValueError, TypeError, NotImplementedError, MemoryError)
OUT_OF_MEMORY = re.compile(r'out of memory|cannot allocate')
NAMED = re.compile(r'\[[\w.]+\]')
DTYPES = ['float32', 'float32', 'float32', 'float64', 'float16', 'int32', 'int64', 'int8', 'uint8', 'bool']
WORDS = ['valid', 'same', 'causal', 'channels_last', 'channels_first', 'max', 'avg', 'nearest', 'bilinear',
         'float32', 'float64', 'int32', 'bool', 'abc', '', 'x' * 100]
HUGE_INTS = [-2**63, -2**63 + 1, -2**31, 2**31, 2**62, 2**63 - 1, 2**63, 2**64]
ODD_FLOATS = [float('nan'), float('inf'), -float('inf'), 1e300, -1e300, 1e-320, -0.0]
JUNK = [None, 'abc', b'x', [[1, 2], [3]], {'a': 1}, object(), [], ()]

# Functions that change process-wide state are fuzzed with that state restored afterwards.
STATEFUL = ('set_epsilon', 'set_floatx', 'set_image_data_format', 'set_image_dim_ordering', 'set_learning_phase',
            'manual_variable_initialization', 'clear_session', 'reset_uids')
# Never called: they load other backends (importlib on user-given names).
SKIP = ('backend', 'register_backend')

# Kinds of the hand-written Python functions' parameters, by name.
NAME_KINDS = {
    'x': 'tensor', 'y': 'tensor', 'value': 'tensor', 'tensor': 'tensor', 'elems': 'tensor', 'inputs': 'tensor',
    'initializer': 'tensor?', 'gamma': 'tensor?', 'beta': 'tensor?', 'condition': 'tensor', 'mask': 'tensor?',
    'y_pred': 'tensor', 'input_length': 'tensor', 'variables': 'tensors', 'loss': 'tensor', 'outputs': 'tensors',
    'ops': 'tensors', 'tuples': 'any', 'initial_states': 'tensors', 'constants': 'tensors',
    'shape': 'shape', 'size': 'shape', 'ndim': 'int?', 'dtype': 'dtype', 'name': 'str?', 'seed': 'int?',
    'reduction_axes': 'axes', 'epsilon': 'float', 'low': 'float', 'high': 'float', 'mean': 'float', 'scale': 'float',
    'sparse': 'bool', 'greedy': 'bool', 'beam_width': 'int', 'top_paths': 'int', 'merge_repeated': 'bool',
    'go_backwards': 'bool', 'unroll': 'bool', 'training': 'any', 'prefix': 'str?', 'data_format': 'str?',
}
CALLABLE_PARAMS = ('fn', 'step_function', 'then_expression', 'else_expression', 'alt')


def kinds_of(name, fn):
    """[(param name, kind, has_default, default)] from the C++ schema or the Python signature."""
    schema = _core._op_signatures.get(name)
    if schema is not None and not name.startswith('_'):
        body = schema[schema.index('(') + 1:schema.rindex(')')]
        out = []
        for part in _split(body):
            pname, rest = part.split(':', 1)
            kind, eq, dflt = rest.partition('=')
            out.append((pname.strip(), kind.strip(), bool(eq), dflt.strip()))
        return out
    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        kind = 'callable' if p.name in CALLABLE_PARAMS else NAME_KINDS.get(p.name, 'any')
        has = p.default is not p.empty
        out.append((p.name, kind, has, repr(p.default) if has else ''))
    return out


def _split(s):
    parts, depth, cur = [], 0, ''
    for ch in s:
        depth += ch in '([' and 1 or ch in ')]' and -1 or 0
        if ch == ',' and depth == 0:
            parts.append(cur)
            cur = ''
        else:
            cur += ch
    return [p for p in parts + [cur] if p.strip()]


# ---------------------------------------------------------------- argument strategies
class Case(object):
    """One call being built: tensors made from numpy arrays, placeholders and their feeds."""

    def __init__(self, data, base):
        self.data, self.base = data, base
        self.feeds = {}       # placeholder -> array fed when evaluating
        self.arrays = []      # (array given to the library, copy) to check nothing was modified
        self.plain = True     # every array input is a finite float32/float64 (reference applies)
        self.known = {}       # id(tensor) -> array it holds, for the reference
        self.log = []

    def draw(self, strategy):
        return self.data.draw(strategy)

    def shape(self):
        """Mostly the case's base shape (so that operands fit), sometimes a broadcast or a new one."""
        how = self.draw(st.sampled_from(['base'] * 5 + ['suffix', 'ones', 'new', 'zero']))
        b = self.base
        if how == 'suffix':
            return b[self.draw(st.integers(0, len(b))):]
        if how == 'ones':
            return tuple(1 if self.draw(st.booleans()) else d for d in b)
        if how == 'new':
            return tuple(self.draw(st.lists(st.integers(1, 4), max_size=4)))
        if how == 'zero':
            return b[:-1] + (0,) if b else (0,)
        return b

    def array(self, shape=None, dtype=None):
        shape = self.shape() if shape is None else shape
        dtype = dtype or self.draw(st.sampled_from(DTYPES))
        rng = np.random.RandomState(self.draw(st.integers(0, 2**16)))
        if dtype == 'bool':
            a = np.asarray(rng.rand(*shape) > 0.5)
        elif dtype.startswith(('int', 'uint')):
            a = np.asarray(rng.randint(0 if dtype == 'uint8' else -3, 4, size=shape).astype(dtype))
        else:
            a = np.asarray(rng.uniform(-2, 2, size=shape).astype(dtype))
            if a.size and self.draw(st.integers(0, 9)) == 0:  # a few special values
                a.flat[rng.randint(a.size)] = self.draw(st.sampled_from(ODD_FLOATS))
        if a.dtype.kind == 'f' and a.size and self.draw(st.integers(0, 19)) == 0:
            a = a.astype(a.dtype.newbyteorder('>'))
        self.plain = self.plain and a.dtype.kind == 'f' and a.dtype.isnative and a.dtype.itemsize >= 4 \
            and bool(np.isfinite(a).all())
        return a

    def tensor(self):
        how = self.draw(st.sampled_from(['const'] * 6 + ['var', 'ph', 'ph_rank', 'numpy', 'number', 'list', 'junk']))
        if how == 'junk':
            self.plain = False
            return self.draw(st.sampled_from(JUNK))
        if how == 'number':
            v = self.draw(st.one_of(st.integers(-3, 3), st.floats(-3, 3), st.sampled_from(HUGE_INTS + ODD_FLOATS)))
            self.plain = self.plain and isinstance(v, float) and abs(v) < 1e4
            return v
        a = self.array()
        if how == 'numpy':
            self.arrays.append((a, a.copy()))
            return a
        if how == 'list':
            self.plain = False
            return a.tolist()
        if how in ('ph', 'ph_rank'):
            shape = None if how == 'ph_rank' else tuple(None if self.draw(st.booleans()) else d for d in a.shape)
            t = K.placeholder(shape=shape, dtype=a.dtype.newbyteorder('=').name)
            self.feeds[t] = a
        elif how == 'var':
            t = K.variable(a) if a.dtype.isnative else K.variable(a.astype(a.dtype.newbyteorder('=')))
        else:
            t = K.constant(a, dtype=a.dtype.newbyteorder('=').name)
        self.known[id(t)] = a
        return t

    def value(self, kind, default):
        d = self.draw
        if d(st.integers(0, 15)) == 0:  # wrong type for any kind
            self.plain = False
            return d(st.sampled_from(JUNK + HUGE_INTS + ODD_FLOATS + [True, 'valid']))
        v = self.typed_value(kind, default)
        if type(v) in (int, float) and (not abs(v) < 1e4 or 0 < abs(v) < 1e-30):
            self.plain = False  # float32 over/underflows where numpy's float64 does not
        return v

    def typed_value(self, kind, default):
        d = self.draw
        if kind in ('tensor', 'tensor?'):
            return None if kind == 'tensor?' and d(st.booleans()) else self.tensor()
        if kind == 'tensors':
            return [self.tensor() for _ in range(d(st.integers(0, 3)))]
        if kind == 'scalar':
            return d(st.one_of(st.none(), st.floats(-3, 3), st.just(self.tensor())))
        if kind in ('int', 'int?'):
            return d(st.one_of(st.integers(-4, 4), st.sampled_from(HUGE_INTS + [True, 1.0, None])))
        if kind in ('float', 'float?'):
            return d(st.one_of(st.floats(-2, 2), st.sampled_from(ODD_FLOATS + [0, 1, None])))
        if kind == 'bool':
            return d(st.one_of(st.booleans(), st.sampled_from([0, 1, 2, None])))
        if kind in ('str', 'str?'):
            opts = WORDS + ([default.strip("'")] * 4 if default.startswith("'") else [])
            return d(st.one_of(st.sampled_from(opts), st.none()))
        if kind == 'dtype':
            return d(st.sampled_from(DTYPES + ['float128', 'complex64', 'str', None]))
        if kind in ('axes', 'ints'):
            ax = st.integers(-5, 5) | st.sampled_from(HUGE_INTS)
            return d(st.one_of(st.none(), ax, st.lists(ax, max_size=4), st.tuples(ax, ax)))
        if kind == 'shape':
            dim = st.integers(0, 4) | st.sampled_from([-1, None] + HUGE_INTS)
            return d(st.one_of(st.lists(dim, max_size=4).map(tuple), st.integers(-1, 5), st.just(self.tensor()),
                               st.just(K.shape(K.constant(np.zeros(self.base, 'float32'))))))
        if kind == 'callable':
            self.plain = False  # references take values, not callables
            one = K.constant(1.)
            return d(st.sampled_from([lambda *a: a[0] if a else one, lambda *a: a[-1] * 2 if a else one,
                                      lambda *a: (a[0], list(a[1:2])) if a else (one, []), lambda *a: None, 3, None]))
        return self.any_value(default)

    def any_value(self, default):
        """'any' parameters: shaped like the default when it is an int tuple, else anything."""
        d = self.draw
        if re.fullmatch(r'\(\s*-?\d+(\s*,\s*-?\d+)*\s*,?\s*\)', default or ''):
            n = default.count(',') + (0 if default.rstrip(')').rstrip().endswith(',') else 1)
            n = max(1, n if default.count(',') else 1)
            el = st.integers(-1, 4) | st.sampled_from(HUGE_INTS)
            return d(st.one_of(st.tuples(*[el] * n), st.lists(el, max_size=4), el))
        return d(st.one_of(st.integers(-3, 4), st.sampled_from(HUGE_INTS + ODD_FLOATS + WORDS + JUNK),
                           st.lists(st.integers(-2, 4), max_size=4), st.just(self.tensor()),
                           st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=3)))


# ---------------------------------------------------------------- running one call
def evaluate(r, case):
    """Numpy values of a result: tensors through one K.function feeding the case's placeholders."""
    flat = []

    def walk(v):
        if isinstance(v, K.Tensor):
            flat.append(v)
        elif isinstance(v, (list, tuple)):
            for e in v:
                walk(e)
    walk(r)
    if not flat:
        return r
    phs = list(case.feeds)
    return K.function(phs, flat)([case.feeds[p] for p in phs])


def reference_value(name, args, kwargs, case):
    ref = getattr(R, name, None)
    if ref is None or not case.plain:
        return None

    def unwrap(v):
        if isinstance(v, K.Tensor):
            if id(v) not in case.known:
                raise LookupError
            return case.known[id(v)]
        if isinstance(v, (list, tuple)):
            return type(v)(unwrap(e) for e in v)
        return v
    try:
        with np.errstate(all='ignore'), warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return ref(*unwrap(args), **{k: unwrap(v) for k, v in kwargs.items()})
    except Exception:  # noqa: BLE001 - the reference rejects the case: nothing to compare
        return None


def close(got, want):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return False
    if want.dtype.kind not in 'fc' and got.dtype.kind not in 'fc':
        return np.array_equal(got, want)
    g, w = got.astype('float64'), want.astype('float64')
    return bool(np.allclose(g, w, rtol=1e-4, atol=1e-5, equal_nan=True))


def describe(args, kwargs):
    def d(v):
        if isinstance(v, K.Tensor):
            return '<%s %s %s>' % (v._kind, v.shape, v.dtype)
        if isinstance(v, np.ndarray):
            return 'np%s:%s' % (v.shape, v.dtype.str)
        if isinstance(v, (list, tuple)) and len(v) < 6:
            s = ', '.join(d(e) for e in v)
            return '[%s]' % s if isinstance(v, list) else '(%s)' % s
        return repr(v)[:60]
    return ', '.join([d(a) for a in args] + ['%s=%s' % (k, d(v)) for k, v in kwargs.items()])


def call_one(name, fn, case, args, kwargs, problems):
    where = '%s(%s)' % (name, describe(args, kwargs))
    OUT.write(json.dumps({'case': where}) + '\n')
    OUT.flush()
    saved = (K.floatx(), K.epsilon(), K.image_data_format()) if name in STATEFUL else None
    try:
        r = fn(*args, **kwargs)
        if callable(r) and name == 'function':
            ins = args[0] if args else kwargs.get('inputs')
            r = r([case.feeds.get(p) for p in ins] if isinstance(ins, list) else [])
        got = evaluate(r, case)
    except CLEAN as e:
        msg = str(e)
        if not NAMED.search(msg) and name not in msg and not isinstance(e, MemoryError) and name not in KERAS_MESSAGES:
            problems.append('%s raised %s without naming the op: %s' % (where, type(e).__name__, msg[:200]))
        got = None
    except Exception as e:  # noqa: BLE001 - anything else is the finding
        if isinstance(e, RuntimeError) and OUT_OF_MEMORY.search(str(e)):
            return  # the address-space cap: a huge but valid size
        problems.append('%s raised %s: %s' % (where, type(e).__name__, str(e)[:200]))
        got = None
    finally:
        if saved:
            K.set_floatx(saved[0])
            K.set_epsilon(saved[1])
            K.set_image_data_format(saved[2])
            K.set_learning_phase(0) if name == 'set_learning_phase' else None
    for a, before in case.arrays:
        if not np.array_equal(a, before, equal_nan=True) or a.dtype != before.dtype:
            problems.append('%s modified its numpy argument' % where)
    if got is not None and isinstance(got, list) and len(got) == 1 and not isinstance(r, (list, tuple)):
        got = got[0]
    if got is not None:
        want = reference_value(name, args, kwargs, case)
        if want is not None and not close(got, want):
            problems.append('%s = %s, numpy reference %s' % (where, np.array2string(np.asarray(got), threshold=12)[:300],
                                                            np.array2string(np.asarray(want), threshold=12)[:300]))


def fuzz(name):
    fn = getattr(K, name)
    params = kinds_of(name, fn)
    problems = []

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(st.data())
    def run(data):
        base = tuple(data.draw(st.lists(st.integers(1, 4), max_size=4), label='base'))
        case = Case(data, base)
        args, kwargs = [], {}
        for pname, kind, has_default, default in params:
            if has_default and data.draw(st.integers(0, 2)) == 0:
                continue  # leave it out: the default applies
            v = case.value(kind, default)
            if has_default or data.draw(st.integers(0, 9)) == 0:
                kwargs[pname] = v
            else:
                args.append(v)
                if kwargs:  # positional after a keyword: pass it by name instead
                    kwargs[pname] = args.pop()
        call_one(name, fn, case, args, kwargs, problems)

    run()
    return problems


def main(names):
    global OUT
    # Sizes like 2**31 are valid but need gigabytes: the address-space cap turns them into clean
    # allocation failures instead of swapping a shared machine. Under AddressSanitizer (which
    # reserves terabytes of shadow address space) its max_allocation_size_mb does that instead.
    if 'libasan' not in os.environ.get('LD_PRELOAD', ''):
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    OUT = os.fdopen(os.dup(1), 'w')
    os.dup2(2, 1)  # the library's own prints (print_tensor) stay off the protocol channel
    sys.stdout = sys.stderr
    warnings.simplefilter('ignore')
    for name in names:
        t0 = time.time()
        problems = fuzz(name)
        unique = list(dict.fromkeys(problems))
        OUT.write(json.dumps({'done': name, 'problems': unique[:5], 'count': len(problems),
                              'seconds': round(time.time() - t0, 2)}) + '\n')
        OUT.flush()


def public_functions():
    """Every public function of keras_cpp.backend (classes and config readers are left out)."""
    out = []
    for n in sorted(dir(K)):
        v = getattr(K, n)
        if n.startswith('_') or n in SKIP or inspect.isclass(v) or inspect.ismodule(v) or not callable(v):
            continue
        out.append(n)
    return out


if __name__ == '__main__':
    main(sys.argv[1:] or public_functions())
