"""CTC group: ctc_label_dense_to_sparse, ctc_batch_cost, ctc_decode (blank = last class).

References are written here in numpy: the CTC forward pass on log(p + eps) renormalized (what
Keras's TF backend feeds tf.nn.ctc_loss), the greedy decoder, and an exhaustive search over
label sequences that the beam search must match when its beam holds every prefix. The
semantics_checklist.md "CTC" lines are exact-value tests; ctc_batch_cost's gradient is checked
by float64 central differences; the decoders and dense_to_sparse have no gradient.
"""
import functools
import itertools
import math

import numpy as np
import pytest

from keras_cpp import backend as K

COVERED = ['ctc_label_dense_to_sparse', 'ctc_batch_cost', 'ctc_decode']

RNG = np.random.RandomState(4321)
EPS = 1e-7

# The classic example (Graves' implementation, TF's ctc_loss_op_test, Keras's test_ctc).
CLASSIC_LABELS = np.asarray([[0, 1, 2, 1, 0], [0, 1, 1, 0, -1]])
CLASSIC_INPUTS = np.asarray(
    [[[0.633766, 0.221185, 0.0917319, 0.0129757, 0.0142857, 0.0260553],
      [0.111121, 0.588392, 0.278779, 0.0055756, 0.00569609, 0.010436],
      [0.0357786, 0.633813, 0.321418, 0.00249248, 0.00272882, 0.0037688],
      [0.0663296, 0.643849, 0.280111, 0.00283995, 0.0035545, 0.00331533],
      [0.458235, 0.396634, 0.123377, 0.00648837, 0.00903441, 0.00623107]],
     [[0.30176, 0.28562, 0.0831517, 0.0862751, 0.0816851, 0.161508],
      [0.24082, 0.397533, 0.0557226, 0.0546814, 0.0557528, 0.19549],
      [0.230246, 0.450868, 0.0389607, 0.038309, 0.0391602, 0.202456],
      [0.280884, 0.429522, 0.0326593, 0.0339046, 0.0326856, 0.190345],
      [0.423286, 0.315517, 0.0338439, 0.0393744, 0.0339315, 0.154046]]], dtype=np.float32)


# ---------------------------------------------------------------- numpy references
def np_log_probs(frames):
    lp = np.log(frames.astype(np.float64) + EPS)
    return lp - np.log(np.exp(lp).sum(-1, keepdims=True))


def np_ctc_nll(label, frames):
    """-log p(label | frames) by the CTC forward pass; inf when the label cannot fit."""
    C = frames.shape[1]
    blank = C - 1
    ext = [blank]
    for l in label:
        ext += [int(l), blank]
    S, T = len(ext), len(frames)
    if T == 0:
        return 0.0 if len(label) == 0 else np.inf
    lp = np_log_probs(frames)
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


def np_ctc_batch_cost(y_true, y_pred, input_length, label_length):
    il, ll = np.ravel(input_length), np.ravel(label_length)
    return np.asarray([[np_ctc_nll(y_true[b, :ll[b]], y_pred[b, :il[b]])] for b in range(len(y_pred))])


def np_greedy(y_pred, input_length):
    paths, scores = [], []
    for b in range(len(y_pred)):
        best = np.argmax(y_pred[b, :input_length[b]], axis=-1)
        blank = y_pred.shape[2] - 1
        paths.append([int(k) for i, k in enumerate(best) if k != blank and (i == 0 or k != best[i - 1])])
        scores.append(-np.sum(np.log(np.max(y_pred[b, :input_length[b]], axis=-1) + EPS)))
    n = max([len(p) for p in paths] + [0])
    dense = np.full((len(paths), n), -1, np.int64)
    for b, p in enumerate(paths):
        dense[b, :len(p)] = p
    return dense, np.asarray(scores)[:, None]


def np_best_labelings(frames, top):
    """The `top` most probable label sequences (exhaustive over lengths <= T) and their log p."""
    C, T = frames.shape[1], len(frames)
    cands = []
    for n in range(T + 1):
        for seq in itertools.product(range(C - 1), repeat=n):
            nll = np_ctc_nll(seq, frames)
            if np.isfinite(nll):
                cands.append((-nll, list(seq)))
    cands.sort(key=lambda c: -c[0])
    return cands[:top]


class _Prefix:
    def __init__(self, parent, label):
        self.parent, self.label, self.children = parent, label, {}
        self.old = [-np.inf] * 3  # log p: total, ending in blank, ending in label
        self.new = [-np.inf] * 3


# TF keeps the beam in gtl::TopN, built on the C++ standard library's heap algorithms; which of
# several equal-probability prefixes survive and in what order they are returned follows from
# them. These are those algorithms (libstdc++'s sift-down/sift-up) over a Python list, with
# `gt` as the heap's comparison, so the reference breaks ties the way TF does.
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
            assert len(out) <= 16  # std::sort is an insertion sort (stable) up to 16 entries
            out.sort(key=functools.cmp_to_key(lambda x, y: -1 if self.gt(x, y) else (1 if self.gt(y, x) else 0)))
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
    raw = [[math.log(float(v) + EPS) for v in f] for f in frames]
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


def np_beam_search(frames, width, top, merge_repeated):
    """TF's CTCBeamSearchDecoder (ctc_beam_search.h, default scorer), written out in Python."""
    C = frames.shape[1]
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
    best = _TopN(top, gt)  # TF's op takes the best `top` from the leaves in their stored order
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


def frames_from_argmax(classes, C, p=0.8):
    """Frames whose argmax is `classes` with probability p, the rest spread evenly."""
    y = np.full((len(classes), C), (1 - p) / (C - 1))
    y[np.arange(len(classes)), classes] = p
    return y


def ev(x):
    return K.eval(x)


def c(a, dtype='float32'):
    return K.constant(np.asarray(a), dtype=dtype)


# ---------------------------------------------------------------- ctc_label_dense_to_sparse
@pytest.mark.parametrize('dtype', ['int32', 'int64', 'float32'])
def test_dense_to_sparse_forward(dtype):
    labels = np.asarray([[1, 2, 3, 4], [5, 6, 7, 8], [9, 1, 2, 3]])
    lengths = np.asarray([4, 0, 2])
    y = ev(K.ctc_label_dense_to_sparse(c(labels, dtype), c(lengths, 'int32')))
    assert y.dtype == np.int64 and y.shape == labels.shape
    np.testing.assert_array_equal(y, [[1, 2, 3, 4], [-1, -1, -1, -1], [9, 1, -1, -1]])


def test_dense_to_sparse_empty_and_placeholder():
    y = ev(K.ctc_label_dense_to_sparse(c(np.zeros((2, 0)), 'int32'), c([0, 0], 'int32')))
    assert y.shape == (2, 0)
    lab = K.placeholder(shape=(None, 3), dtype='int32')
    ln = K.placeholder(shape=(None,), dtype='int32')
    out = K.ctc_label_dense_to_sparse(lab, ln)
    assert K.int_shape(out) == (None, 3)
    r = K.function([lab, ln], [out])([np.asarray([[7, 8, 9]]), np.asarray([1])])[0]
    np.testing.assert_array_equal(r, [[7, -1, -1]])


def test_dense_to_sparse_no_grad_and_errors():
    lab = K.placeholder(shape=(2, 3), dtype='float32')
    out = K.cast(K.ctc_label_dense_to_sparse(lab, c([1, 2], 'int32')), 'float32')
    assert K.gradients(K.sum(out), [lab]) == [None]
    with pytest.raises(ValueError, match='ctc_label_dense_to_sparse.*labels must be'):
        K.ctc_label_dense_to_sparse(c([1, 2], 'int32'), c([1], 'int32'))
    with pytest.raises(ValueError, match='ctc_label_dense_to_sparse.*label_lengths'):
        K.ctc_label_dense_to_sparse(c([[1, 2]], 'int32'), c([1, 1], 'int32'))
    with pytest.raises(ValueError, match=r'ctc_label_dense_to_sparse.*sample 0.*label_lengths=3'):
        ev(K.ctc_label_dense_to_sparse(c([[1, 2]], 'int32'), c([3], 'int32')))


# ---------------------------------------------------------------- ctc_batch_cost
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_ctc_batch_cost_checklist_classic(dtype):
    """Checklist: [[3.34211], [5.42262]] for the classic 5-frame, 6-class example."""
    out = K.ctc_batch_cost(c(CLASSIC_LABELS, 'int32'), c(CLASSIC_INPUTS, dtype),
                           c([[5], [5]], 'int32'), c([[5], [4]], 'int32'))
    y = ev(out)
    assert y.dtype == dtype and y.shape == (2, 1)
    np.testing.assert_allclose(y, [[3.34211], [5.42262]], atol=1e-5)
    np.testing.assert_allclose(y, np_ctc_batch_cost(CLASSIC_LABELS, CLASSIC_INPUTS, [5, 5], [5, 4]), rtol=1e-6)


@pytest.mark.parametrize('len_dtype', ['int32', 'int64', 'float32'])
@pytest.mark.parametrize('len_shape', ['column', 'flat'])
def test_ctc_batch_cost_variable_lengths(len_dtype, len_shape):
    B, T, C, M = 4, 7, 5, 4
    y = RNG.dirichlet(np.ones(C), size=(B, T))
    labels = RNG.randint(0, C - 1, size=(B, M))
    il, ll = np.asarray([7, 3, 5, 0]), np.asarray([4, 1, 2, 0])
    shp = (lambda a: a[:, None]) if len_shape == 'column' else (lambda a: a)
    out = ev(K.ctc_batch_cost(c(labels, 'int64'), c(y, 'float64'), c(shp(il), len_dtype), c(shp(ll), len_dtype)))
    ref = np_ctc_batch_cost(labels, y, il, ll)
    np.testing.assert_allclose(out, ref, rtol=1e-10)
    assert out[3, 0] == 0.0  # empty label over no frames
    # Frames past input_length and labels past label_length are ignored.
    y2, labels2 = y.copy(), labels.copy()
    y2[1, 3:] = RNG.dirichlet(np.ones(C), size=T - 3)
    labels2[1, 1:] = C - 2
    out2 = ev(K.ctc_batch_cost(c(labels2, 'int64'), c(y2, 'float64'), c(shp(il), len_dtype), c(shp(ll), len_dtype)))
    np.testing.assert_array_equal(out2, out)


def test_ctc_batch_cost_repeats_and_placeholders():
    # A repeated label needs a blank between: "11" fits in 3 frames, not in 2.
    y = RNG.dirichlet(np.ones(3), size=(1, 3))
    yt, yp = K.placeholder(shape=(None, None), dtype='int32'), K.placeholder(shape=(None, None, 3))
    il, ll = K.placeholder(shape=(None, 1), dtype='int32'), K.placeholder(shape=(None, 1), dtype='int32')
    out = K.ctc_batch_cost(yt, yp, il, ll)
    assert K.int_shape(out) == (None, 1)
    f = K.function([yt, yp, il, ll], [out])
    r = f([np.asarray([[1, 1]]), y.astype('float32'), np.asarray([[3]]), np.asarray([[2]])])[0]
    np.testing.assert_allclose(r, [[np_ctc_nll([1, 1], y[0])]], rtol=1e-5)
    with pytest.raises(ValueError, match=r'ctc_batch_cost.*sample 0.*needs at least 3 frames.*input_length is 2'):
        f([np.asarray([[1, 1]]), y.astype('float32'), np.asarray([[2]]), np.asarray([[2]])])


def test_ctc_batch_cost_grad():
    """Central differences, float64, 2 samples x 5 frames x 4 classes (sample 1 uses 3 frames)."""
    y0 = RNG.uniform(0.05, 1.0, size=(2, 5, 4))
    y0 /= y0.sum(-1, keepdims=True)
    labels, il, ll = c([[0, 1, 1], [2, 0, 0]], 'int32'), c([[5], [3]], 'int32'), c([[3], [1]], 'int32')
    yp = K.placeholder(shape=(2, 5, 4), dtype='float64')
    out = K.ctc_batch_cost(labels, yp, il, ll)
    w = np.asarray([[0.7], [1.3]])
    loss = K.sum(out * K.constant(w, dtype='float64'))
    g = K.gradients(loss, [yp])[0]
    f = K.function([yp], [loss, g])
    val, grad = f([y0])
    num = np.zeros_like(y0)
    h = 1e-6
    for j in range(y0.size):
        yp_, ym_ = y0.copy(), y0.copy()
        yp_.flat[j] += h
        ym_.flat[j] -= h
        num.flat[j] = (f([yp_])[0] - f([ym_])[0]) / (2 * h)
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-7)
    assert np.all(grad[1, 3:] == 0)  # frames past input_length get no gradient
    # Only y_pred is differentiable.
    lab_ph = K.placeholder(shape=(2, 3), dtype='float64')
    assert K.gradients(K.sum(K.ctc_batch_cost(lab_ph, yp, il, ll)), [lab_ph]) == [None]


def test_ctc_batch_cost_errors():
    lab, y = c([[0, 1]], 'int32'), c(RNG.dirichlet(np.ones(3), size=(1, 4)))
    one = c([[4]], 'int32')
    with pytest.raises(ValueError, match='ctc_batch_cost.*y_pred must be'):
        K.ctc_batch_cost(lab, c(np.ones((1, 4))), one, one)
    with pytest.raises(TypeError, match='ctc_batch_cost.*float'):
        K.ctc_batch_cost(lab, c(np.ones((1, 4, 3)), 'int32'), one, one)
    with pytest.raises(ValueError, match='ctc_batch_cost.*label_length.*samples'):
        K.ctc_batch_cost(lab, y, one, c([[1], [1]], 'int32'))
    with pytest.raises(ValueError, match='ctc_batch_cost.*input_length must have shape'):
        K.ctc_batch_cost(lab, y, c([[4, 4]], 'int32'), one)
    with pytest.raises(ValueError, match=r'ctc_batch_cost.*sample 0.*label 2 at position 1 is out of range'):
        ev(K.ctc_batch_cost(c([[0, 2]], 'int32'), y, one, c([[2]], 'int32')))
    with pytest.raises(ValueError, match=r'ctc_batch_cost.*sample 0.*input_length=5'):
        ev(K.ctc_batch_cost(lab, y, c([[5]], 'int32'), c([[2]], 'int32')))
    with pytest.raises(ValueError, match=r'ctc_batch_cost.*sample 0.*label_length=3'):
        ev(K.ctc_batch_cost(lab, y, one, c([[3]], 'int32')))
    # Impossible alignment: the second sample's label is longer than its frames.
    with pytest.raises(ValueError, match=r'ctc_batch_cost.*sample 1.*impossible alignment'):
        ev(K.ctc_batch_cost(c([[0, 1], [0, 1]], 'int32'), c(RNG.dirichlet(np.ones(3), size=(2, 4))),
                            c([[4], [1]], 'int32'), c([[2], [2]], 'int32')))


# ---------------------------------------------------------------- ctc_decode: greedy
def test_ctc_decode_greedy_checklist():
    """Checklist: argmax [0, 0, blank, 1, blank] -> [[0, 1]], log_prob = 2.245827."""
    y = np.asarray([[[.6, .2, .2], [.6, .2, .2], [.2, .2, .6], [.15, .7, .15], [.15, .15, .7]]], 'float32')
    decoded, log_prob = K.ctc_decode(c(y), c([5], 'int32'))
    assert isinstance(decoded, list) and len(decoded) == 1
    d, lp = ev(decoded[0]), ev(log_prob)
    assert d.dtype == np.int64 and lp.shape == (1, 1) and lp.dtype == np.float32
    np.testing.assert_array_equal(d, [[0, 1]])
    np.testing.assert_allclose(lp, [[2.245827]], atol=1e-5)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_ctc_decode_greedy_padding_and_lengths(dtype):
    B, T, C = 4, 6, 4
    y = RNG.dirichlet(np.ones(C) * 0.5, size=(B, T))
    y[0] = frames_from_argmax([0, 0, 3, 0, 1, 2], C)  # repeats merged only without a blank between
    y[2] = frames_from_argmax([3] * T, C)  # all blanks: nothing decoded
    il = np.asarray([6, 4, 6, 0])
    decoded, log_prob = K.ctc_decode(c(y, dtype), c(il, 'int32'), greedy=True, merge_repeated=False)
    d, lp = ev(decoded[0]), ev(log_prob)
    ref_d, ref_lp = np_greedy(y, il)
    np.testing.assert_array_equal(d, ref_d)
    np.testing.assert_array_equal(d[0, :4], [0, 0, 1, 2])
    assert np.all(d[2] == -1) and np.all(d[3] == -1)
    np.testing.assert_allclose(lp, ref_lp, rtol=1e-6)
    assert lp.dtype == dtype and lp[3, 0] == 0


def test_ctc_decode_greedy_all_empty():
    y = frames_from_argmax([2, 2], 3)[None]
    decoded, log_prob = K.ctc_decode(c(y), c([2], 'int32'))
    assert ev(decoded[0]).shape == (1, 0)


# ---------------------------------------------------------------- ctc_decode: beam search
@pytest.mark.parametrize('merge, expected', [(False, [0, 0, 1, 1]), (True, [0, 1])])
def test_ctc_decode_beam_checklist_aabb(merge, expected):
    """Checklist: blank,A,blank,A,B,blank,B keeps "AABB" with merge_repeated=False, "AB" with True."""
    y = frames_from_argmax([2, 0, 2, 0, 1, 2, 1], 3, p=0.9)[None]
    decoded, log_prob = K.ctc_decode(c(y), c([7], 'int32'), greedy=False, beam_width=100, top_paths=1,
                                     merge_repeated=merge)
    np.testing.assert_array_equal(ev(decoded[0]), [expected])
    assert ev(log_prob).shape == (1, 1)


def test_ctc_decode_beam_matches_exhaustive_search():
    """With a beam wider than the number of prefixes the search is exact: the best label sequences
    and log p(label) of an exhaustive CTC enumeration, best first, padded with -1."""
    B, T, C, top = 3, 4, 3, 4
    y = RNG.dirichlet(np.ones(C), size=(B, T))
    il = np.asarray([4, 3, 4])
    decoded, log_prob = K.ctc_decode(c(y, 'float64'), c(il, 'int64'), greedy=False, beam_width=64, top_paths=top)
    assert len(decoded) == top
    ds, lp = [ev(d) for d in decoded], ev(log_prob)
    assert lp.shape == (B, top) and lp.dtype == np.float64
    for b in range(B):
        best = np_best_labelings(y[b, :il[b]], top)
        for p in range(top):
            np.testing.assert_allclose(lp[b, p], best[p][0], rtol=1e-9)
            row = ds[p][b]
            assert list(row[:len(best[p][1])]) == best[p][1] and np.all(row[len(best[p][1]):] == -1)
    for p in range(top):  # each path tensor is as wide as its longest decoded sequence
        assert ds[p].shape[1] == max(len(np_best_labelings(y[b, :il[b]], top)[p][1]) for b in range(B))


def test_ctc_decode_beam_narrow_and_float32():
    # A narrow beam still finds the dominant path; log_prob is negative and sorted.
    y = frames_from_argmax([0, 3, 1, 1, 3, 2], 4, p=0.7)[None]
    decoded, log_prob = K.ctc_decode(c(y), c([6], 'int32'), greedy=False, beam_width=3, top_paths=2)
    np.testing.assert_array_equal(ev(decoded[0]), [[0, 1, 2]])
    lp = ev(log_prob)
    assert lp.dtype == np.float32 and lp[0, 0] > lp[0, 1] and lp[0, 0] < 0
    ref = np_beam_search(y[0], 3, 2, False)
    np.testing.assert_allclose(lp[0], [r[1] for r in ref], rtol=1e-5)


@pytest.mark.parametrize('width', [1, 2, 5])
@pytest.mark.parametrize('merge', [False, True])
def test_ctc_decode_beam_matches_reference(width, merge):
    """Narrow beams prune: compare with the Python transcription of TF's beam search."""
    B, T, C = 3, 8, 4
    y = RNG.dirichlet(np.ones(C) * 0.7, size=(B, T))
    il = np.asarray([8, 5, 7])
    top = min(width, 2)
    decoded, log_prob = K.ctc_decode(c(y, 'float64'), c(il, 'int32'), greedy=False, beam_width=width,
                                     top_paths=top, merge_repeated=merge)
    ds, lp = [ev(d) for d in decoded], ev(log_prob)
    for b in range(B):
        ref = np_beam_search(y[b, :il[b]], width, top, merge)
        for p in range(top):
            row = ds[p][b]
            assert list(row[row >= 0]) == ref[p][0] and np.all(row[len(ref[p][0]):] == -1)
            np.testing.assert_allclose(lp[b, p], ref[p][1], rtol=1e-10)


def test_ctc_decode_beam_ties_hand_derived():
    """One uniform frame over labels 0, 1, 2 and the blank: "", "0", "1", "2" all have p = 1/4.
    They enter the beam (width 5) as root, 0, 1, 2; asked for 3 paths, TF pushes the four into
    a top-3 container: the fourth push heapifies [root, 0, 1, 2] into [1, 2, root, 0] and pops
    its top ("1"); sorting the remaining heap [root, 2, 0] gives 0, 2, root."""
    y = np.full((1, 1, 4), 0.25)
    decoded, log_prob = K.ctc_decode(c(y, 'float64'), c([1], 'int32'), greedy=False, beam_width=5, top_paths=3,
                                     merge_repeated=False)
    assert [list(ev(d)[0][ev(d)[0] >= 0]) for d in decoded] == [[0], [2], []]
    np.testing.assert_allclose(ev(log_prob), [[-np.log(4.)] * 3], rtol=1e-12)


@pytest.mark.parametrize('T,C,width,top', [(1, 4, 5, 3), (2, 3, 3, 2), (3, 3, 4, 4), (2, 4, 6, 5), (4, 3, 8, 3),
                                           (3, 5, 10, 6), (5, 3, 2, 2), (3, 4, 16, 7)])
@pytest.mark.parametrize('merge', [False, True])
def test_ctc_decode_beam_ties_break_as_tf(T, C, width, top, merge):
    """Uniform or mirrored frames make many prefixes exactly equally likely; the beam keeps and
    orders them as TF's top-N container does (the reference replays its heap operations)."""
    frames = [np.full((T, C), 1.0 / C), frames_from_argmax([C - 1, 0, C - 1, 1, 0][:T], C, p=0.5)]
    for y in frames:
        decoded, log_prob = K.ctc_decode(c(y[None], 'float64'), c([T], 'int32'), greedy=False, beam_width=width,
                                         top_paths=top, merge_repeated=merge)
        ref = np_beam_search(y, width, top, merge)
        got = [list(ev(d)[0][ev(d)[0] >= 0]) for d in decoded]
        assert got == [r[0] for r in ref]
        np.testing.assert_allclose(ev(log_prob)[0], [r[1] for r in ref], rtol=1e-10)


def test_ctc_decode_beam_without_merging_keeps_repeated_labels():
    """A, blank, A is the labeling "AA": kept whole with merge_repeated=False (Keras's default),
    collapsed to "A" with True; its log p is that of the exhaustive enumeration either way."""
    y = frames_from_argmax([0, 2, 0], 3, p=0.9)
    for merge, want in ((False, [0, 0]), (True, [0])):
        decoded, log_prob = K.ctc_decode(c(y[None], 'float64'), c([3], 'int32'), greedy=False, beam_width=20,
                                         merge_repeated=merge)
        np.testing.assert_array_equal(ev(decoded[0]), [want])
        best = np_best_labelings(y, 1)[0]
        assert best[1] == [0, 0]
        np.testing.assert_allclose(ev(log_prob)[0, 0], best[0], rtol=1e-10)


def test_ctc_decode_no_grad_and_errors():
    yp = K.placeholder(shape=(1, 3, 3), dtype='float32')
    decoded, log_prob = K.ctc_decode(yp, c([3], 'int32'))
    assert K.gradients(K.sum(log_prob), [yp]) == [None]
    y = c(RNG.dirichlet(np.ones(3), size=(1, 3)))
    with pytest.raises(ValueError, match=r'^\[ctc_decode\] y_pred must be'):
        K.ctc_decode(c(np.ones((3, 3))), c([3], 'int32'))
    with pytest.raises(ValueError, match=r'ctc_decode.*input_length.*one entry per sample'):
        K.ctc_decode(y, c([3, 3], 'int32'))
    with pytest.raises(ValueError, match=r'ctc_decode.*top_paths must be in \[1, beam_width=2\]'):
        K.ctc_decode(y, c([3], 'int32'), greedy=False, beam_width=2, top_paths=3)
    with pytest.raises(ValueError, match=r'ctc_decode.*beam_width must be >= 1'):
        K.ctc_decode(y, c([3], 'int32'), greedy=False, beam_width=0)
    with pytest.raises(ValueError, match=r'ctc_decode.*sample 0.*input_length=4'):
        ev(K.ctc_decode(y, c([4], 'int32'))[1])
    # One frame of 2 classes has only 2 prefixes ("" and "0"): 3 paths cannot be found.
    with pytest.raises(ValueError, match=r'ctc_decode.*sample 0.*found only 2 paths but top_paths=3'):
        ev(K.ctc_decode(c([[[.5, .5]]]), c([1], 'int32'), greedy=False, beam_width=5, top_paths=3)[1])
