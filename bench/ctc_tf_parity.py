"""K.ctc_decode(greedy=False) against TensorFlow's beam search, as Keras 2.3.1's TF backend calls it
(tf.math.log(transpose(y_pred) + 1e-7) into tf.compat.v1.nn.ctc_beam_search_decoder), on many
generated cases; optionally the test reference (tests/python/reference_seq.py) as well.

    python bench/ctc_tf_parity.py [--quick] [--reference] [--show N]

Families: `uniform` (every frame 1/C: all prefixes of a length tie), `mirrored` (classes share a
few weights per frame: many ties), `random` (Dirichlet frames, no ties), each in float32 and
float64, with batches whose samples have different lengths. A case counts as an order mismatch
when any decoded path differs, and as a log-probability mismatch when any value differs in a
bit. Needs TensorFlow; not part of the test suite.
"""
import argparse
import collections
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'python'))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'python'))
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import numpy as np  # noqa: E402


def cases(quick):
    rng = np.random.RandomState(2024)
    widths = (1, 2, 3, 4, 5, 7, 8, 10, 16, 20, 33, 100) if not quick else (1, 3, 5, 8, 16, 20, 100)
    for family in ('uniform', 'mirrored', 'random'):
        for T in range(1, 6 if family == 'uniform' else 7):
            for C in range(2, 9 if family == 'uniform' else 7):
                for width in widths:
                    tops = sorted({1, 2, 3, max(1, width // 2), width} & set(range(1, width + 1)))
                    for top in tops:
                        if quick and rng.rand() < 0.6:
                            continue
                        merge = bool(rng.randint(2))
                        dtype = ('float32', 'float64')[rng.randint(2)]
                        B = 1 if rng.rand() < 0.5 else rng.randint(2, 6)
                        lengths = [T] + list(rng.randint(0, T + 1, size=B - 1))
                        if family == 'uniform':
                            y = np.full((B, T, C), 1.0 / C)
                        elif family == 'mirrored':
                            w = rng.randint(1, 4, size=(B, T, C)).astype(np.float64)
                            y = w / w.sum(-1, keepdims=True)
                        else:
                            y = rng.dirichlet(np.ones(C), size=(B, T))
                        yield family, y.astype(dtype), np.asarray(lengths, np.int32), width, top, merge


def tf_decode(tf, y, il, width, top, merge):
    x = tf.math.log(tf.transpose(tf.constant(y), perm=[1, 0, 2]) + 1e-7)
    dec, lp = tf.compat.v1.nn.ctc_beam_search_decoder(x, tf.constant(il), beam_width=width, top_paths=top,
                                                      merge_repeated=merge)
    dense = [tf.sparse.to_dense(st, default_value=-1).numpy() for st in dec]
    return [[[int(v) for v in d[b] if v >= 0] if b < len(d) else [] for d in dense] for b in range(len(y))], lp.numpy()


def kc_decode(K, y, il, width, top, merge):
    dec, lp = K.ctc_decode(K.constant(y, dtype=str(y.dtype)), K.constant(il, dtype='int32'), greedy=False,
                           beam_width=width, top_paths=top, merge_repeated=merge)
    dense = [K.eval(d) for d in dec]
    return [[[int(v) for v in d[b] if v >= 0] for d in dense] for b in range(len(y))], K.eval(lp)


def ref_decode(R, y, il, width, top, merge):
    dec, lp = R.ctc_decode(y, il, greedy=False, beam_width=width, top_paths=top, merge_repeated=merge)
    return [[[int(v) for v in d[b] if v >= 0] for d in dec] for b in range(len(y))], lp


def run(name, fn, all_cases, expected, show):
    bad = collections.Counter()
    total = collections.Counter()
    shown = 0
    for (family, y, il, width, top, merge), want in zip(all_cases, expected):
        key = (family, str(y.dtype))
        total[key] += 1
        try:
            got = fn(y, il, width, top, merge)
        except ValueError:
            got = None
        if (got is None) != (want is None):
            bad[key + ('error',)] += 1
            continue
        if got is None:
            continue
        if got[0] != want[0]:
            bad[key + ('order',)] += 1
            if shown < show:
                shown += 1
                print(f'  {name} {family} {y.dtype} shape={y.shape} lengths={il.tolist()} width={width} top={top} '
                      f'merge={merge}\n    tf: {want[0]}\n    {name}: {got[0]}')
        if np.asarray(got[1]).astype(y.dtype).tobytes() != np.asarray(want[1]).tobytes():
            bad[key + ('logp',)] += 1
    print(f'{name} vs TensorFlow ({sum(total.values())} cases):')
    print(f'  {"family":9s} {"dtype":8s} {"cases":>6s} {"order":>6s} {"logp":>6s} {"error":>6s}')
    for key in sorted(total):
        print(f'  {key[0]:9s} {key[1]:8s} {total[key]:6d} {bad[key + ("order",)]:6d} {bad[key + ("logp",)]:6d} '
              f'{bad[key + ("error",)]:6d}')
    n_order = sum(v for k, v in bad.items() if k[2] == 'order')
    print(f'  order mismatches: {n_order}, log-prob mismatches (any bit): '
          f'{sum(v for k, v in bad.items() if k[2] == "logp")}, error mismatches: '
          f'{sum(v for k, v in bad.items() if k[2] == "error")}')
    return n_order


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='about a quarter of the cases')
    ap.add_argument('--reference', action='store_true', help='also check the numpy test reference')
    ap.add_argument('--show', type=int, default=3, help='print the first N order mismatches')
    a = ap.parse_args()
    import tensorflow as tf
    from keras_cpp import backend as K
    all_cases = list(cases(a.quick))
    expected = []
    for _, y, il, width, top, merge in all_cases:
        try:
            expected.append(tf_decode(tf, y, il, width, top, merge))
        except tf.errors.InvalidArgumentError:  # fewer leaves than top_paths
            expected.append(None)
    print(f'TensorFlow {tf.__version__}, {len(all_cases)} cases')
    bad = run('keras_cpp', lambda *c: kc_decode(K, *c), all_cases, expected, a.show)
    if a.reference:
        import reference_seq as R
        bad += run('reference', lambda *c: ref_decode(R, *c), all_cases, expected, a.show)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
