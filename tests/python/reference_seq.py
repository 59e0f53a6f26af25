"""Numpy references for control flow and sequences (part of reference.py): rnn, map_fn, foldl,
foldr, switch and the CTC group (blank = last class). The step and body functions are the
table's Fn arguments, run with this module's numpy ops."""
import ctypes
import ctypes.util
import itertools
import math

import numpy as np

CTC_EPS = 1e-7


# ---------------------------------------------------------------- control flow
def switch(condition, then_expression, else_expression):
    """Scalar condition: one branch; rank r: elementwise on the leading r axes."""
    c = np.asarray(condition)
    t, e = np.asarray(then_expression), np.asarray(else_expression)
    if c.ndim == 0:
        return np.array(t if c else e)
    while c.ndim < max(t.ndim, e.ndim):
        c = c[..., None]
    return np.where(c.astype(bool), t, e)


def map_fn(fn, elems, name=None, dtype=None):
    elems = np.asarray(elems)
    outs = [np.asarray(fn(e)) for e in elems]
    if not outs:
        outs0 = np.asarray(fn(np.zeros(elems.shape[1:], elems.dtype)))
        r = np.zeros((0,) + outs0.shape, outs0.dtype)
    else:
        r = np.stack(outs)
    return r.astype(dtype) if dtype is not None else r


def foldl(fn, elems, initializer=None, name=None):
    elems = np.asarray(elems)
    acc = elems[0] if initializer is None else np.asarray(initializer, dtype=elems.dtype)
    for e in (elems[1:] if initializer is None else elems):
        acc = fn(acc, e)
    return np.asarray(acc)


def foldr(fn, elems, initializer=None, name=None):
    return foldl(fn, np.asarray(elems)[::-1], initializer, name)


def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None, unroll=False,
        input_length=None):
    """Keras's numpy_backend.rnn: a masked step keeps the previous output and states."""
    constants = list(constants or [])
    inputs = np.asarray(inputs)
    states_tm1 = [np.asarray(s) for s in initial_states]
    if mask is not None:
        mask = np.asarray(mask).astype(bool)

    def expand(m, x):
        while m.ndim < x.ndim + 1:
            m = np.expand_dims(m, -1)
        return m
    time_index = range(inputs.shape[1])[::-1] if go_backwards else range(inputs.shape[1])
    output_sample, _ = step_function(inputs[:, 0], states_tm1 + constants)
    output_tm1 = np.zeros(np.shape(output_sample))
    outputs = []
    for t in time_index:
        output_t, states_t = step_function(inputs[:, t], states_tm1 + constants)
        output_t, states_t = np.asarray(output_t), [np.asarray(s) for s in states_t]
        if mask is not None:
            output_t = np.where(expand(mask, output_t)[:, t], output_t, output_tm1)
            states_t = [np.where(expand(mask, s)[:, t], s, s1) for s, s1 in zip(states_t, states_tm1)]
        outputs.append(output_t)
        states_tm1, output_tm1 = states_t, output_t
    return outputs[-1], np.stack(outputs, axis=1), states_tm1


# ---------------------------------------------------------------- CTC
def ctc_log_probs(frames):
    """log(p + eps), renormalized: what Keras's TF backend feeds tf.nn.ctc_loss."""
    lp = np.log(np.asarray(frames, np.float64) + CTC_EPS)
    return lp - np.log(np.exp(lp).sum(-1, keepdims=True))


def ctc_nll(label, frames):
    """-log p(label | frames) by the CTC forward pass; inf when the label cannot fit."""
    C = frames.shape[1]
    blank = C - 1
    ext = [blank]
    for l in label:
        ext += [int(l), blank]
    S, T = len(ext), len(frames)
    if T == 0:
        return 0.0 if len(label) == 0 else np.inf
    lp = ctc_log_probs(frames)
    a = np.full(S, -np.inf)
    a[0] = lp[0, blank]
    if S > 1:
        a[1] = lp[0, ext[1]]
    for t in range(1, T):
        n = np.full(S, -np.inf)
        for s in range(S):
            c = [a[s]] + ([a[s - 1]] if s >= 1 else [])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                c.append(a[s - 2])
            n[s] = np.logaddexp.reduce(c) + lp[t, ext[s]]
        a = n
    return -np.logaddexp.reduce(a[-2:] if S > 1 else a[-1:])


def ctc_label_dense_to_sparse(labels, label_lengths):
    """The dense form keras_cpp returns: labels past each length become -1 (int64)."""
    labels = np.asarray(labels).astype(np.int64)
    out = np.full(labels.shape, -1, np.int64)
    for b, n in enumerate(np.ravel(label_lengths)):
        out[b, :n] = labels[b, :n]
    return out


def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    il, ll = np.ravel(input_length).astype(int), np.ravel(label_length).astype(int)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return np.asarray([ctc_nll(y_true[b, :ll[b]], y_pred[b, :il[b]]) for b in range(len(y_pred))]).reshape(-1, 1)


def _dense(paths):
    n = max([len(p) for p in paths] + [0])
    out = np.full((len(paths), n), -1, np.int64)
    for b, p in enumerate(paths):
        out[b, :len(p)] = p
    return out


def ctc_greedy(y_pred, input_length, merge_repeated=True):
    """Best path per frame; repeats merged (unless merge_repeated=False) and blanks removed."""
    paths, scores = [], []
    blank = y_pred.shape[2] - 1
    for b in range(len(y_pred)):
        frames = y_pred[b, :input_length[b]]
        best = np.argmax(frames, axis=-1)
        paths.append([int(k) for i, k in enumerate(best)
                      if k != blank and (not merge_repeated or i == 0 or k != best[i - 1])])
        scores.append(-np.sum(np.log(np.max(frames, axis=-1) + CTC_EPS)))
    return _dense(paths), np.asarray(scores)[:, None]


class _Prefix:
    def __init__(self, parent, label, ninf):
        self.parent, self.label, self.children = parent, label, {}
        self.old = [ninf] * 3  # log p: total, ending in blank, ending in label
        self.new = [ninf] * 3


# TF keeps the beam in gtl::TopN, built on the C++ standard library's heap and sort algorithms;
# which of several equal-probability prefixes survive and in what order they are returned follows
# from them. These are libstdc++'s (TF's Linux build) over a Python list, with `gt` as the
# comparison, so the reference breaks ties the same way.
def _sift_up(a, hole, top, value, gt):
    parent = (hole - 1) // 2
    while hole > top and gt(a[parent], value):
        a[hole] = a[parent]
        hole, parent = parent, (parent - 1) // 2
    a[hole] = value


def _sift_down(a, hole, n, value, gt):
    top, child = hole, hole
    while child < (n - 1) // 2:
        child = 2 * (child + 1)
        if gt(a[child], a[child - 1]):
            child -= 1
        a[hole], hole = a[child], child
    if n % 2 == 0 and child == (n - 2) // 2:
        child = 2 * (child + 1)
        a[hole], hole = a[child - 1], child - 1
    _sift_up(a, hole, top, value, gt)


def _make_heap(a, gt, lo=0, n=None):
    n = len(a) - lo if n is None else n
    view = _View(a, lo)
    for parent in range((n - 2) // 2, -1, -1):
        _sift_down(view, parent, n, view[parent], gt)


def _pop_heap(a, n, gt):  # a[0] goes to a[n - 1]
    if n > 1:
        value, a[n - 1] = a[n - 1], a[0]
        _sift_down(a, 0, n - 1, value, gt)


class _View:
    """a[lo:] as a list that writes through (the sort's recursion works on sub-ranges in place)."""

    def __init__(self, a, lo):
        self.a, self.lo = a, lo

    def __getitem__(self, i):
        return self.a[self.lo + i]

    def __setitem__(self, i, v):
        self.a[self.lo + i] = v


def _introsort(a, lo, n, depth, gt):
    while n > 16:
        if depth == 0:  # heap sort the rest
            _make_heap(a, gt, lo, n)
            view = _View(a, lo)
            for m in range(n, 1, -1):
                _pop_heap(view, m, gt)
            return
        depth -= 1
        x, y, z = lo + 1, lo + n // 2, lo + n - 1  # median of three to the front
        if gt(a[x], a[y]):
            m = y if gt(a[y], a[z]) else (z if gt(a[x], a[z]) else x)
        else:
            m = x if gt(a[x], a[z]) else (z if gt(a[y], a[z]) else y)
        a[lo], a[m] = a[m], a[lo]
        i, j = lo + 1, lo + n
        while True:  # unguarded partition around a[lo]
            while gt(a[i], a[lo]):
                i += 1
            j -= 1
            while gt(a[lo], a[j]):
                j -= 1
            if i >= j:
                break
            a[i], a[j] = a[j], a[i]
            i += 1
        _introsort(a, i, lo + n - i, depth, gt)
        n = i - lo


def _std_sort(a, gt):
    """libstdc++'s std::sort: introsort down to runs of 16, then one insertion sort."""
    if len(a) < 2:
        return
    _introsort(a, 0, len(a), 2 * (len(a).bit_length() - 1), gt)
    for i in range(1, len(a)):
        v, j = a[i], i
        if gt(v, a[0]):
            j = 0
            a[1:i + 1] = a[0:i]
        else:
            while gt(v, a[j - 1]):
                a[j] = a[j - 1]
                j -= 1
        a[j] = v


class _TopN:
    """TF 2.21's gtl::TopN(limit): unordered until it overflows, then a heap of `limit` entries
    whose worst entry is first; an overflowing push pops the worst, then pushes the newcomer."""

    def __init__(self, limit, gt):
        self.v, self.limit, self.gt, self.state = [], limit, gt, 'unordered'

    def size(self):
        return len(self.v)

    def items(self):
        return list(self.v)

    def push(self, x):
        v, gt = self.v, self.gt
        if self.state != 'heap':
            v.append(x)
            if len(v) == self.limit + 1:
                _make_heap(v, gt)
                _pop_heap(v, len(v), gt)
                v.pop()
                self.state = 'heap'
            elif self.state == 'bottom' and not gt(v[-1], v[0]):
                v[0], v[-1] = v[-1], v[0]
        elif gt(x, v[0]):
            _pop_heap(v, len(v), gt)
            v[-1] = x
            _sift_up(v, len(v) - 1, 0, x, gt)

    def bottom(self):
        if self.state == 'unordered':
            m = 0
            for i in range(1, len(self.v)):
                if self.gt(self.v[m], self.v[i]):
                    m = i
            self.v[0], self.v[m] = self.v[m], self.v[0]
            self.state = 'bottom'
        return self.v[0]

    def extract(self):
        out, self.v = self.v, []
        if self.state != 'heap':
            _std_sort(out, self.gt)
        else:
            for n in range(len(out), 1, -1):
                _pop_heap(out, n, self.gt)
        self.state = 'unordered'
        return out


def _load_libm():
    try:
        lib = ctypes.CDLL(ctypes.util.find_library('m') or 'libm.so.6')
        fns = {}
        for name in ('expf', 'logf', 'log1pf'):
            f = getattr(lib, name)
            f.restype, f.argtypes = ctypes.c_float, [ctypes.c_float]
            fns[name] = f
        return fns
    except (OSError, AttributeError):
        return None


_LIBM = _load_libm()


def _float_fn(name, double_fn):
    """The C library's float function (what TF calls): from libm, else rounded from double."""
    if _LIBM is not None:
        f = _LIBM[name]
        return lambda x: np.float32(f(float(x)))
    return lambda x: np.float32(double_fn(float(x)))


_expf, _logf, _log1pf = _float_fn('expf', math.exp), _float_fn('logf', math.log), _float_fn('log1pf', math.log1p)


# Keras feeds TF's search tf.math.log(transpose(y_pred) + eps). TF 2.21's x86-64 build computes
# that log with Eigen's AVX packet polynomial (8 floats / 4 doubles at a time, multiply and add
# rounded separately), and with the C library's log for the last size % packet elements of the
# (time, samples, classes) tensor; the two differ in the last bit for some values.
def _packet_log(v):
    if isinstance(v, np.float32):
        if not v > 0 or math.isinf(v):
            return _logf(v)
        f, one = np.float32, np.float32(1)
        m, e = math.frexp(float(v))
        x, e = f(m), f(e)
        if x < f(0.707106781186547524):
            x, e = (x - one) + x, e - one
        else:
            x = x - one
        p = x * ((f(0.18256296349849254) * x + f(1.0000000190281063)) * x + f(1.0000000190281136))
        q = ((f(0.049616247954120038) * x + f(0.59923249590823520)) * x + f(1.4999999999999927)) * x + one
        return e * f(0.693147180559945309) + p / q
    v = float(v)
    if not v > 0 or math.isinf(v):
        return math.log(v)
    x, e = math.frexp(v)
    e = float(e)
    if x < 0.70710678118654752440:
        x, e = (x - 1.0) + x, e - 1.0
    else:
        x = x - 1.0
    x2 = x * x
    x3 = x2 * x
    num = ((1.01875663804580931796E-4 * x + 4.97494994976747001425E-1) * x + 4.70579119878881725854E0) * x3 + \
        ((1.44989225341610930846E1 * x + 1.79368678507819816313E1) * x + 7.70838733755885391666E0)
    den = ((1.0 * x + 1.12873587189167450590E1) * x + 4.52279145837532221105E1) * x3 + \
        ((8.29875266912776603211E1 * x + 7.11544750618563894466E1) * x + 2.31251620126765340583E1)
    return e * 0.693147180559945309417232121458176568 + (x + (-0.5 * x2 + (num * x3) / den))


def ctc_beam_logits(y_pred):
    """log(y_pred + eps) in y_pred's precision, per element as TF computes it: (B, T, C)."""
    y_pred = np.asarray(y_pred)
    B, T, C = y_pred.shape
    f32 = y_pred.dtype == np.float32
    size = B * T * C
    tail = size - size % (8 if f32 else 4)
    eps = np.float32(CTC_EPS) if f32 else CTC_EPS
    out = np.empty(y_pred.shape, y_pred.dtype)
    for b, t, k in itertools.product(range(B), range(T), range(C)):
        v = y_pred[b, t, k] + eps if f32 else float(y_pred[b, t, k]) + eps
        out[b, t, k] = _packet_log(v) if (t * B + b) * C + k < tail else (_logf(v) if f32 else math.log(v))
    return out


def _make_lse(f32):
    """TF's LogSumExp (ctc_loss_util.h): it calls expf and log1pf whatever the precision."""
    ninf = np.float32(-np.inf) if f32 else -math.inf

    def lse(a, b):
        if a == ninf:
            return b
        if b == ninf:
            return a
        hi, lo = (a, b) if a > b else (b, a)
        c = _log1pf(_expf(np.float32(lo - hi)))
        return hi + (c if f32 else float(c))
    return lse


def ctc_beam_search(frames, width, top, merge_repeated, logits=None):
    """TF's CTCBeamSearchDecoder (ctc_beam_search.h, default scorer) as its op runs it (Step per
    frame, then the top paths straight from the leaves), in the frames' precision: [(labels, log
    p)], best first. `logits`: log(frames + eps) as TF sees them (default: frames alone)."""
    frames = np.asarray(frames)
    raws = ctc_beam_logits(frames[None])[0] if logits is None else np.asarray(logits)
    f32 = raws.dtype == np.float32
    cast = np.float32 if f32 else float
    ninf, zero = cast(-np.inf), cast(0)
    lse = _make_lse(f32)
    C = raws.shape[1] if raws.ndim == 2 else 0
    root = _Prefix(None, -1, ninf)
    root.new = [zero, zero, ninf]

    def gt(a, b):
        return a.new[0] > b.new[0]

    leaves = _TopN(width, gt)
    leaves.push(root)

    def candidate(total):
        return total > ninf and (leaves.size() < width or total > leaves.bottom().new[0])

    for raw in raws:
        raw = [cast(v) for v in raw]
        mx, acc = max(raw), zero
        for v in raw:
            acc = acc + (_expf(v - mx) if f32 else math.exp(v - mx))
        norm = mx + (_logf(acc) if f32 else math.log(acc))
        branches = leaves.extract()
        for b in branches:
            b.old = list(b.new)
        for b in branches:
            if b.parent is not None:
                p = b.parent
                if p.new[0] > ninf:
                    b.new[2] = lse(b.new[2], p.old[1] if b.label == p.label else p.old[0])
                b.new[2] = b.new[2] + (raw[b.label] - norm)
            b.new[1] = b.old[0] + raw[C - 1] - norm
            b.new[0] = lse(b.new[1], b.new[2])
            leaves.push(b)
        for b in branches:
            if not candidate(b.old[0]):
                continue
            for k in range(C - 1):
                ch = b.children.setdefault(k, _Prefix(b, k, ninf))
                if ch.new[0] > ninf:
                    continue
                v = raw[k] - norm + (b.old[1] if k == b.label else b.old[0])
                ch.new = [v, ninf, v]
                if candidate(v):
                    if leaves.size() == width:
                        leaves.bottom().new = [ninf] * 3
                    leaves.push(ch)
                else:
                    ch.old, ch.new = [ninf] * 3, [ninf] * 3
    best = _TopN(top, gt)
    for b in leaves.items():
        best.push(b)
    out = []
    for e in best.extract():
        seq, prev, x = [], -1, e
        while x.parent is not None:
            if not merge_repeated or x.label != prev:
                seq.append(x.label)
            prev, x = x.label, x.parent
        out.append((seq[::-1], e.new[0]))
    return out


def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1, merge_repeated=False):
    """Keras's ctc_decode: ([top_paths dense int64 paths padded with -1], log_prob (B, top_paths)).
    Greedy decoding always merges repeats (Keras's TF backend ignores merge_repeated there)."""
    y_pred = np.asarray(y_pred)
    il = np.ravel(input_length).astype(int)
    if greedy:
        d, lp = ctc_greedy(y_pred, il)
        return [d], lp.astype(y_pred.dtype)
    logits = ctc_beam_logits(y_pred)
    res = [ctc_beam_search(y_pred[b, :il[b]], beam_width, top_paths, merge_repeated, logits[b, :il[b]])
           for b in range(len(y_pred))]
    if any(len(r) < top_paths for r in res):
        raise ValueError('the beam search found fewer paths than top_paths')
    decoded = [_dense([r[p][0] for r in res]) for p in range(top_paths)]
    return decoded, np.asarray([[r[p][1] for p in range(top_paths)] for r in res]).astype(y_pred.dtype)


def ctc_best_labelings(frames, top):
    """The `top` most probable label sequences (exhaustive over lengths <= T) and their log p."""
    C, T = frames.shape[1], len(frames)
    cands = []
    for n in range(T + 1):
        for seq in itertools.product(range(C - 1), repeat=n):
            nll = ctc_nll(seq, frames)
            if np.isfinite(nll):
                cands.append((-nll, list(seq)))
    cands.sort(key=lambda c: -c[0])
    return cands[:top]
