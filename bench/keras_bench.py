"""Keras 2.3.1 on keras_cpp against PyTorch, TensorFlow's own Keras and onnxruntime (issue 5).

Keras 2.3.1 needs numpy<2, so each framework runs in a Python that has it, as a subprocess of
this one run (`--worker NAME` is the entry point of each); the table and the ratios
(keras_cpp time / best peer time, < 1 = keras_cpp faster) are printed here.

  python bench/keras_bench.py [--keras-python build/keras-venv/bin/python] [--tf-python PY]
                              [--threads 2] [--repeat 30]

Cases: MLP 784-512-512-10 training step (batch 128, SGD lr 0.01, softmax + categorical
crossentropy) through model.train_on_batch; batch-1 inference through model.predict_on_batch
(onnxruntime: the same weights as an ONNX graph). Missing peers are skipped.
"""
import argparse
import json
import os
import sys

import numpy as np

import subproc

SIZES = (784, 512, 512, 10)
BATCH = 128
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _median_time(fn, repeat, warmup=3):
    return subproc.timed(fn, repeat, warmup)['median']


def _data():
    rng = np.random.RandomState(0)
    x = rng.rand(BATCH, SIZES[0]).astype('float32')
    y = np.eye(SIZES[-1], dtype='float32')[rng.randint(0, SIZES[-1], BATCH)]
    return x, y, x[:1].copy()


def worker_keras(repeat, weights_out):
    os.environ.setdefault('KERAS_BACKEND', 'keras_cpp.backend')
    import keras
    from keras import layers as L, models, optimizers
    x, y, x1 = _data()
    m = models.Sequential([L.Dense(SIZES[1], activation='relu', input_shape=(SIZES[0],)),
                           L.Dense(SIZES[2], activation='relu'), L.Dense(SIZES[3], activation='softmax')])
    m.compile(optimizers.SGD(0.01), 'categorical_crossentropy')
    res = {'backend': keras.backend.backend(),
           'train_step': _median_time(lambda: m.train_on_batch(x, y), repeat),
           'predict_1': _median_time(lambda: m.predict_on_batch(x1), repeat * 10)}
    if weights_out:
        np.savez(weights_out, *m.get_weights())
    return res


def worker_torch(repeat, threads):
    import torch
    torch.set_num_threads(threads)
    x, y, x1 = _data()
    net = torch.nn.Sequential(torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(), torch.nn.Linear(SIZES[1], SIZES[2]),
                              torch.nn.ReLU(), torch.nn.Linear(SIZES[2], SIZES[3]))
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    tx, ty, tx1 = torch.from_numpy(x), torch.from_numpy(y.argmax(1)), torch.from_numpy(x1)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(tx), ty)
        loss.backward()
        opt.step()

    def predict():
        with torch.no_grad():
            return torch.softmax(net(tx1), -1).numpy()

    return {'train_step': _median_time(step, repeat), 'predict_1': _median_time(predict, repeat * 10)}


def worker_tf(repeat, threads):
    os.environ['KERAS_BACKEND'] = 'tensorflow'
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    x, y, x1 = _data()
    m = tf.keras.Sequential([tf.keras.layers.Input((SIZES[0],)), tf.keras.layers.Dense(SIZES[1], activation='relu'),
                             tf.keras.layers.Dense(SIZES[2], activation='relu'),
                             tf.keras.layers.Dense(SIZES[3], activation='softmax')])
    m.compile(tf.keras.optimizers.SGD(0.01), 'categorical_crossentropy')
    return {'version': tf.__version__, 'train_step': _median_time(lambda: m.train_on_batch(x, y), repeat),
            'predict_1': _median_time(lambda: m.predict_on_batch(x1), repeat * 10)}


def worker_onnxruntime(repeat, threads, weights):
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    w = np.load(weights)
    ws = [w['arr_%d' % i] for i in range(len(w.files))]
    nodes, inits, prev = [], [], 'x'
    for i in range(3):
        inits += [numpy_helper.from_array(ws[2 * i], 'W%d' % i), numpy_helper.from_array(ws[2 * i + 1], 'b%d' % i)]
        nodes += [helper.make_node('MatMul', [prev, 'W%d' % i], ['m%d' % i]),
                  helper.make_node('Add', ['m%d' % i, 'b%d' % i], ['a%d' % i])]
        prev = 'a%d' % i
        if i < 2:
            nodes.append(helper.make_node('Relu', [prev], ['r%d' % i]))
            prev = 'r%d' % i
    nodes.append(helper.make_node('Softmax', [prev], ['y'], axis=-1))
    graph = helper.make_graph(nodes, 'mlp', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [None, SIZES[0]])],
                              [helper.make_tensor_value_info('y', TensorProto.FLOAT, [None, SIZES[-1]])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8  # readable by older onnxruntime releases too
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=['CPUExecutionProvider'])
    _, _, x1 = _data()
    return {'predict_1': _median_time(lambda: sess.run(None, {'x': x1}), repeat * 10)}


def _spawn(python, worker, args, threads):
    return subproc.spawn(python, __file__, worker, args, threads,
                         env={'PYTHONPATH': HERE + os.pathsep + os.environ.get('PYTHONPATH', '')})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--worker')
    ap.add_argument('--keras-python', default=os.path.join(ROOT, 'build', 'keras-venv', 'bin', 'python'))
    ap.add_argument('--tf-python', default=os.environ.get('KERAS_CPP_BENCH_TF_PYTHON', sys.executable))
    ap.add_argument('--threads', type=int, default=os.cpu_count() or 1)
    ap.add_argument('--repeat', type=int, default=30)
    ap.add_argument('--weights')
    a = ap.parse_args()
    if a.worker:
        res = {'keras_cpp': lambda: worker_keras(a.repeat, a.weights), 'torch': lambda: worker_torch(a.repeat, a.threads),
               'tensorflow': lambda: worker_tf(a.repeat, a.threads),
               'onnxruntime': lambda: worker_onnxruntime(a.repeat, a.threads, a.weights)}[a.worker]()
        print(json.dumps(res))
        return
    weights = os.path.join(ROOT, 'build', 'keras_bench_weights.npz')
    os.makedirs(os.path.dirname(weights), exist_ok=True)
    common = ['--repeat', str(a.repeat)]
    results = {}
    for name, py, extra in [('keras_cpp', a.keras_python, ['--weights', weights]), ('torch', sys.executable, []),
                            ('tensorflow', a.tf_python, []), ('onnxruntime', sys.executable, ['--weights', weights])]:
        res, err = _spawn(py, name, common + extra, a.threads)
        results[name] = res
        print('%-12s %s' % (name, 'ok' if res else 'skipped (%s)' % err))
    print('\nthreads=%d  (median seconds; ratio = keras_cpp / best peer, < 1 means keras_cpp is faster)' % a.threads)
    for case, title in [('train_step', 'Keras MLP 784-512-512-10 train_on_batch (b=128)'),
                        ('predict_1', 'predict batch 1 (latency)')]:
        kc = (results.get('keras_cpp') or {}).get(case)
        peers = {n: r[case] for n, r in results.items() if n != 'keras_cpp' and r and case in r}
        row = '  '.join('%s %.1f us' % (n, t * 1e6) for n, t in peers.items())
        if kc is None:
            print('%-48s keras_cpp missing  %s' % (title, row))
            continue
        best = min(peers.items(), key=lambda kv: kv[1]) if peers else None
        ratio = ' ratio %.2f vs %s' % (kc / best[1], best[0]) if best else ''
        print('%-48s keras_cpp %.1f us  %s %s' % (title, kc * 1e6, row, ratio))


if __name__ == '__main__':
    main()
