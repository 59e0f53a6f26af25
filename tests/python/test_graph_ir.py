"""The Python view of the graph IR: a Tensor is one result of a node. Results of one node are
distinct objects; the same result always comes back as the same object (Keras relies on identity,
e.g. `x in list`, and on attributes it sets such as `_keras_shape` staying on the object)."""
import gc

import numpy as np

from keras_cpp import backend as K


def _rnn():
    x = K.placeholder(shape=(2, 3, 4))
    w = K.variable(np.full((4, 5), 0.1, 'float32'))
    step = lambda xt, s: (K.tanh(K.dot(xt, w) + s[0]), [K.tanh(K.dot(xt, w) + s[0])])  # noqa: E731
    return x, w, K.rnn(step, x, [K.zeros((2, 5))])


def test_results_of_one_node_are_distinct_tensors():
    x, _, (last, outputs, states) = _rnn()
    assert outputs._id == states[0]._id  # one loop node ...
    assert (outputs._index, states[0]._index) == (0, 1)  # ... two of its results
    assert outputs is not states[0]
    assert K.int_shape(outputs) == (2, 3, 5) and K.int_shape(states[0]) == (2, 5)
    decoded, log_prob = K.ctc_decode(K.constant(np.full((1, 4, 3), 1 / 3., 'float32')), K.constant([4], 'int32'),
                                     greedy=False, beam_width=3, top_paths=2)
    assert [d._index for d in decoded] == [0, 1] and log_prob._index == 2
    assert len({d._id for d in decoded} | {log_prob._id}) == 1
    assert K.dtype(decoded[0]) == 'int64' and K.dtype(log_prob) == 'float32'


def test_the_same_result_comes_back_as_the_same_object():
    # rnn calls the step (from C++) with the states and constants the caller passed: they come
    # back as the caller's own objects, with the attributes set on them.
    x = K.placeholder(shape=(2, 3, 4))
    h0, c = K.zeros((2, 4)), K.constant(np.ones((2, 4), 'float32'))
    h0._keras_shape = (2, 4)
    seen = []

    def step(xt, states):
        seen.append(states)
        return xt + states[0] * states[1], [xt + states[0]]

    K.rnn(step, x, [h0], constants=[c])
    assert len(seen) == 2  # once on the first time step (as Keras does), once traced
    assert seen[0][0] is h0 and seen[0][1] is c and seen[1][1] is c
    assert seen[0][0]._keras_shape == (2, 4)
    assert h0 in seen[0] and seen[1][0] is not h0  # the trace runs on a state placeholder


def test_attributes_stay_on_a_result_while_the_graph_is_used():
    x, w, (last, outputs, states) = _rnn()
    outputs._keras_shape = (2, 3, 5)
    states[0]._uses_learning_phase = True
    g = K.gradients(K.sum(outputs) + K.sum(states[0]), [w])[0]
    gc.collect()
    assert outputs._keras_shape == (2, 3, 5) and states[0]._uses_learning_phase
    assert not hasattr(last, '_keras_shape') and last._uses_learning_phase is False
    f = K.function([x], [last, outputs, states[0], g])
    got = f([np.ones((2, 3, 4), 'float32')])
    assert [a.shape for a in got] == [(2, 5), (2, 3, 5), (2, 5), (4, 5)]
    np.testing.assert_allclose(got[0], got[2])  # last output and final state agree
