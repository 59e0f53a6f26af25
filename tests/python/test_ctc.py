"""CTC group (blank = last class) beyond the op table's sweep (op_table.py compares
ctc_label_dense_to_sparse, ctc_batch_cost and ctc_decode with reference_seq.py and checks the
cost's gradient by finite differences): the semantics_checklist.md "CTC" lines as exact values,
an exhaustive search over label sequences that a wide beam must match, lengths that cut frames
and labels, placeholders with unknown sizes, and run-time errors.
"""
import numpy as np
import pytest

from keras_cpp import backend as K

import reference as R
import reference_seq as RS
from rows_seq import CLASSIC_INPUTS, CLASSIC_LABELS

CLASSIC_INPUTS_F32 = CLASSIC_INPUTS.astype(np.float32)
RNG = np.random.RandomState(4321)


# ---------------------------------------------------------------- numpy references


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


def test_dense_to_sparse_empty_and_placeholder():
    y = ev(K.ctc_label_dense_to_sparse(c(np.zeros((2, 0)), 'int32'), c([0, 0], 'int32')))
    assert y.shape == (2, 0)
    lab = K.placeholder(shape=(None, 3), dtype='int32')
    ln = K.placeholder(shape=(None,), dtype='int32')
    out = K.ctc_label_dense_to_sparse(lab, ln)
    assert K.int_shape(out) == (None, 3)
    r = K.function([lab, ln], [out])([np.asarray([[7, 8, 9]]), np.asarray([1])])[0]
    np.testing.assert_array_equal(r, [[7, -1, -1]])


def test_dense_to_sparse_run_time_length_error_names_the_sample():
    with pytest.raises(ValueError, match=r'ctc_label_dense_to_sparse.*sample 0.*label_lengths=3'):
        ev(K.ctc_label_dense_to_sparse(c([[1, 2]], 'int32'), c([3], 'int32')))


# ---------------------------------------------------------------- ctc_batch_cost
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_ctc_batch_cost_checklist_classic(dtype):
    """Checklist: [[3.34211], [5.42262]] for the classic 5-frame, 6-class example."""
    out = K.ctc_batch_cost(c(CLASSIC_LABELS, 'int32'), c(CLASSIC_INPUTS_F32, dtype),
                           c([[5], [5]], 'int32'), c([[5], [4]], 'int32'))
    y = ev(out)
    assert y.dtype == dtype and y.shape == (2, 1)
    np.testing.assert_allclose(y, [[3.34211], [5.42262]], atol=1e-5)
    np.testing.assert_allclose(y, R.ctc_batch_cost(CLASSIC_LABELS, CLASSIC_INPUTS_F32, [5, 5], [5, 4]), rtol=1e-6)


def test_ctc_batch_cost_ignores_frames_and_labels_past_their_lengths():
    B, T, C, M = 4, 7, 5, 4
    y = RNG.dirichlet(np.ones(C), size=(B, T))
    labels = RNG.randint(0, C - 1, size=(B, M))
    il, ll = c(np.asarray([7, 3, 5, 0]), 'int32'), c(np.asarray([4, 1, 2, 0]), 'int32')
    out = ev(K.ctc_batch_cost(c(labels, 'int64'), c(y, 'float64'), il, ll))
    assert out[3, 0] == 0.0  # empty label over no frames
    y2, labels2 = y.copy(), labels.copy()
    y2[1, 3:] = RNG.dirichlet(np.ones(C), size=T - 3)
    labels2[1, 1:] = C - 2
    np.testing.assert_array_equal(ev(K.ctc_batch_cost(c(labels2, 'int64'), c(y2, 'float64'), il, ll)), out)


def test_ctc_batch_cost_repeats_and_placeholders():
    # A repeated label needs a blank between: "11" fits in 3 frames, not in 2.
    y = RNG.dirichlet(np.ones(3), size=(1, 3))
    yt, yp = K.placeholder(shape=(None, None), dtype='int32'), K.placeholder(shape=(None, None, 3))
    il, ll = K.placeholder(shape=(None, 1), dtype='int32'), K.placeholder(shape=(None, 1), dtype='int32')
    out = K.ctc_batch_cost(yt, yp, il, ll)
    assert K.int_shape(out) == (None, 1)
    f = K.function([yt, yp, il, ll], [out])
    r = f([np.asarray([[1, 1]]), y.astype('float32'), np.asarray([[3]]), np.asarray([[2]])])[0]
    np.testing.assert_allclose(r, [[R.ctc_nll([1, 1], y[0])]], rtol=1e-5)
    with pytest.raises(ValueError, match=r'ctc_batch_cost.*sample 0.*needs at least 3 frames.*input_length is 2'):
        f([np.asarray([[1, 1]]), y.astype('float32'), np.asarray([[2]]), np.asarray([[2]])])


def test_ctc_batch_cost_grad_is_zero_past_input_length_and_labels_have_none():
    y0 = RNG.dirichlet(np.ones(4), size=(2, 5))
    labels, il, ll = c([[0, 1, 1], [2, 0, 0]], 'int32'), c([[5], [3]], 'int32'), c([[3], [1]], 'int32')
    yp = K.placeholder(shape=(2, 5, 4), dtype='float64')
    g = K.gradients(K.sum(K.ctc_batch_cost(labels, yp, il, ll)), [yp])[0]
    grad = K.function([yp], [g])([y0])[0]
    assert np.all(grad[1, 3:] == 0) and np.all(grad[1, :3] != 0)  # sample 1 uses 3 frames
    lab_ph = K.placeholder(shape=(2, 3), dtype='float64')
    assert K.gradients(K.sum(K.ctc_batch_cost(lab_ph, yp, il, ll)), [lab_ph]) == [None]


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
    ref_d, ref_lp = R.ctc_greedy(y, il)
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
    and log p(label) of an exhaustive CTC enumeration, best first, padded with -1. (TF, and so
    keras_cpp, adds up probabilities with float expf/log1pf even for float64: rtol 1e-7.)"""
    B, T, C, top = 3, 4, 3, 4
    y = RNG.dirichlet(np.ones(C), size=(B, T))
    il = np.asarray([4, 3, 4])
    decoded, log_prob = K.ctc_decode(c(y, 'float64'), c(il, 'int64'), greedy=False, beam_width=64, top_paths=top)
    assert len(decoded) == top
    ds, lp = [ev(d) for d in decoded], ev(log_prob)
    assert lp.shape == (B, top) and lp.dtype == np.float64
    for b in range(B):
        best = R.ctc_best_labelings(y[b, :il[b]], top)
        for p in range(top):
            np.testing.assert_allclose(lp[b, p], best[p][0], rtol=1e-7)
            row = ds[p][b]
            assert list(row[:len(best[p][1])]) == best[p][1] and np.all(row[len(best[p][1]):] == -1)
    for p in range(top):  # each path tensor is as wide as its longest decoded sequence
        assert ds[p].shape[1] == max(len(R.ctc_best_labelings(y[b, :il[b]], top)[p][1]) for b in range(B))


def test_ctc_decode_beam_narrow_and_float32():
    # A narrow beam still finds the dominant path; log_prob is negative and sorted.
    y = frames_from_argmax([0, 3, 1, 1, 3, 2], 4, p=0.7)[None]
    decoded, log_prob = K.ctc_decode(c(y), c([6], 'int32'), greedy=False, beam_width=3, top_paths=2)
    np.testing.assert_array_equal(ev(decoded[0]), [[0, 1, 2]])
    lp = ev(log_prob)
    assert lp.dtype == np.float32 and lp[0, 0] > lp[0, 1] and lp[0, 0] < 0
    ref = R.ctc_beam_search(y[0], 3, 2, False)
    np.testing.assert_allclose(lp[0], [r[1] for r in ref], rtol=1e-5)


def test_ctc_decode_beam_ties_hand_derived():
    """One uniform frame over labels 0, 1, 2 and the blank: "", "0", "1", "2" all have p = 1/4.
    They enter the beam (width 5) as root, 0, 1, 2; asked for 3 paths, TF pushes the four into
    a top-3 container: the fourth push overflows it, so it heapifies [root, 0, 1, 2] into
    [1, 2, root, 0], pops its front ("1") to the end and drops it; sorting the remaining heap
    [root, 2, 0] gives 0, 2, root."""
    y = np.full((1, 1, 4), 0.25)
    decoded, log_prob = K.ctc_decode(c(y, 'float64'), c([1], 'int32'), greedy=False, beam_width=5, top_paths=3,
                                     merge_repeated=False)
    assert [list(ev(d)[0][ev(d)[0] >= 0]) for d in decoded] == [[0], [2], []]
    np.testing.assert_allclose(ev(log_prob), [[-np.log(4.)] * 3], rtol=1e-12)


@pytest.mark.parametrize('T,C,width,top', [(1, 4, 5, 3), (2, 3, 3, 2), (3, 3, 4, 4), (2, 4, 6, 5), (4, 3, 8, 3),
                                           (3, 5, 10, 6), (5, 3, 2, 2), (3, 4, 16, 7), (3, 4, 5, 3), (3, 5, 8, 5),
                                           (4, 6, 40, 9)])
@pytest.mark.parametrize('merge', [False, True])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_ctc_decode_beam_ties_break_as_tf(T, C, width, top, merge, dtype):
    """Uniform or mirrored frames make many prefixes exactly equally likely; the beam keeps and
    orders them as TF's top-N container does (the reference replays its heap and sort steps;
    width 40 sorts more than 16 leaves, which std::sort does by introsort), in the input's
    precision, log probabilities to the bit."""
    frames = [np.full((T, C), 1.0 / C), frames_from_argmax([C - 1, 0, C - 1, 1, 0][:T], C, p=0.5)]
    for y in frames:
        y = y.astype(dtype)
        decoded, log_prob = K.ctc_decode(c(y[None], dtype), c([T], 'int32'), greedy=False, beam_width=width,
                                         top_paths=top, merge_repeated=merge)
        ref = R.ctc_beam_search(y, width, top, merge)
        got = [list(ev(d)[0][ev(d)[0] >= 0]) for d in decoded]
        assert got == [r[0] for r in ref]
        np.testing.assert_array_equal(ev(log_prob)[0], np.asarray([r[1] for r in ref], dtype))


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_ctc_decode_beam_sees_the_log_tf_computes(dtype):
    """Keras's TF backend decodes log(y_pred + eps) as TF's vectorized log computes it: a packet
    polynomial for all but the last size % packet elements of the (time, samples, classes)
    tensor, the C library's log for those; the two differ in the last bit for some values, so
    equal class probabilities need not tie. The reference recomputes both: frames with weights
    1..3 per class (ties everywhere), samples of different lengths, log p compared to the bit."""
    rng = np.random.RandomState(7)
    for B, T, C, width, top in [(3, 5, 6, 20, 4), (2, 6, 5, 7, 3), (5, 3, 4, 100, 2)]:
        w = rng.randint(1, 4, size=(B, T, C)).astype(np.float64)
        y = (w / w.sum(-1, keepdims=True)).astype(dtype)
        il = np.asarray([T] + list(rng.randint(1, T + 1, size=B - 1)), 'int32')
        decoded, log_prob = K.ctc_decode(c(y, dtype), c(il, 'int32'), greedy=False, beam_width=width, top_paths=top)
        ref_d, ref_lp = R.ctc_decode(y, il, greedy=False, beam_width=width, top_paths=top)
        for d, rd in zip(decoded, ref_d):
            np.testing.assert_array_equal(ev(d), rd)
        np.testing.assert_array_equal(ev(log_prob), ref_lp)
    # the premise: the packet log is within a few ulps of the C library's, and not always equal to it
    vals = rng.rand(2000).astype(dtype) + np.asarray(1e-7, dtype)
    tail_log = (lambda v: RS._logf(v)) if dtype == 'float32' else (lambda v: np.float64(np.log(v)))
    diff = np.asarray([RS._packet_log(v) for v in vals], dtype) - np.asarray([tail_log(v) for v in vals], dtype)
    assert np.all(np.abs(diff) <= 4 * np.spacing(np.abs(np.log(vals)))) and np.any(diff != 0)


def test_ctc_decode_beam_without_merging_keeps_repeated_labels():
    """A, blank, A is the labeling "AA": kept whole with merge_repeated=False (Keras's default),
    collapsed to "A" with True; its log p is that of the exhaustive enumeration either way."""
    y = frames_from_argmax([0, 2, 0], 3, p=0.9)
    for merge, want in ((False, [0, 0]), (True, [0])):
        decoded, log_prob = K.ctc_decode(c(y[None], 'float64'), c([3], 'int32'), greedy=False, beam_width=20,
                                         merge_repeated=merge)
        np.testing.assert_array_equal(ev(decoded[0]), [want])
        best = R.ctc_best_labelings(y, 1)[0]
        assert best[1] == [0, 0]
        np.testing.assert_allclose(ev(log_prob)[0, 0], best[0], rtol=1e-7)


