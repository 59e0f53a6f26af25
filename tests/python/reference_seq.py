"""Numpy references for control flow and sequences (part of reference.py): rnn, map_fn, foldl,
foldr, switch and the CTC group (blank = last class). The step and body functions are the
table's Fn arguments, run with this module's numpy ops."""
import functools
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
    def __init__(self, parent, label):
        self.parent, self.label, self.children = parent, label, {}
        self.old = [-np.inf] * 3  # log p: total, ending in blank, ending in label
        self.new = [-np.inf] * 3


# TF keeps the beam in gtl::TopN, built on the C++ standard library's heap algorithms; which of
# several equal-probability prefixes survive and in what order they are returned follows from
# them. These are those algorithms (libstdc++'s sift-down/sift-up) over a Python list, with
# `gt` as the heap's comparison, so the reference breaks ties the same way.
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


def _make_heap(a, gt):
    for parent in range((len(a) - 2) // 2, -1, -1):
        _sift_down(a, parent, len(a), a[parent], gt)


def _pop_heap(a, n, gt):  # a[0] goes to a[n - 1]
    if n > 1:
        value, a[n - 1] = a[n - 1], a[0]
        _sift_down(a, 0, n - 1, value, gt)


class _TopN:
    """gtl::TopN(limit): unordered until it overflows, then a heap whose worst entry is first."""

    def __init__(self, limit, gt):
        self.v, self.limit, self.gt, self.state = [], limit, gt, 'unordered'

    def size(self):
        return min(len(self.v), self.limit)

    def items(self):
        return self.v[:self.size()]

    def push(self, x):
        v, gt = self.v, self.gt
        if self.state != 'heap':
            v.append(x)
            if self.state == 'bottom' and not gt(v[-1], v[0]):
                v[0], v[-1] = v[-1], v[0]
            if len(v) == self.limit + 1:
                _make_heap(v, gt)
                _pop_heap(v, len(v), gt)
                self.state = 'heap'
        elif gt(x, v[0]):
            v[-1] = x
            _sift_up(v, len(v) - 1, 0, x, gt)
            _pop_heap(v, len(v), gt)

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
            # std::sort; up to 16 entries it is an insertion sort, which keeps ties in order
            out.sort(key=functools.cmp_to_key(lambda x, y: -1 if self.gt(x, y) else (1 if self.gt(y, x) else 0)))
            assert len(out) <= 16, 'the tie order of std::sort on more than 16 entries is not modelled'
        else:
            out.pop()
            for n in range(len(out), 1, -1):
                _pop_heap(out, n, self.gt)
        self.state = 'unordered'
        return out


def _frame_logits(frames):
    """log(y + eps) and the log-softmax offset of each frame (max + log sum exp(x - max)), with
    scalar libm calls: numpy's vectorized log may round lanes differently, which would break
    exact ties between classes."""
    raw = [[math.log(float(v) + CTC_EPS) for v in f] for f in frames]
    norms = []
    for r in raw:
        mx, acc = max(r), 0.0
        for v in r:
            acc += math.exp(v - mx)
        norms.append(mx + math.log(acc))
    return raw, norms


def _lse(a, b):
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


def ctc_beam_search(frames, width, top, merge_repeated):
    """TF's CTCBeamSearchDecoder (ctc_beam_search.h, default scorer) as its op runs it (Step per
    frame, then the top paths straight from the leaves): [(labels, log p)], best first."""
    C = np.shape(frames)[1]
    root = _Prefix(None, -1)
    root.new = [0.0, 0.0, -np.inf]

    def gt(a, b):
        return a.new[0] > b.new[0]

    leaves = _TopN(width, gt)
    leaves.push(root)

    def candidate(total):
        return total > -np.inf and (leaves.size() < width or total > leaves.bottom().new[0])

    raws, norms = _frame_logits(frames)
    for raw, norm in zip(raws, norms):
        branches = leaves.extract()
        for b in branches:
            b.old = list(b.new)
        for b in branches:
            if b.parent is not None:
                p = b.parent
                if p.new[0] > -np.inf:
                    b.new[2] = _lse(b.new[2], p.old[1] if b.label == p.label else p.old[0])
                b.new[2] += raw[b.label] - norm
            b.new[1] = b.old[0] + raw[C - 1] - norm
            b.new[0] = _lse(b.new[1], b.new[2])
            leaves.push(b)
        for b in branches:
            if not candidate(b.old[0]):
                continue
            for k in range(C - 1):
                ch = b.children.setdefault(k, _Prefix(b, k))
                if ch.new[0] > -np.inf:
                    continue
                v = raw[k] - norm + (b.old[1] if k == b.label else b.old[0])
                ch.new = [v, -np.inf, v]
                if candidate(v):
                    if leaves.size() == width:
                        leaves.bottom().new = [-np.inf] * 3
                    leaves.push(ch)
                else:
                    ch.old, ch.new = [-np.inf] * 3, [-np.inf] * 3
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
    res = [ctc_beam_search(y_pred[b, :il[b]], beam_width, top_paths, merge_repeated) for b in range(len(y_pred))]
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
