"""A small keras_cpp demo: build a graph, take its gradient, run both with K.function."""
import numpy as np

from keras_cpp import backend as K

x = K.placeholder(shape=(None, 3), name="x")
w = K.variable(np.array([[1.0], [2.0], [3.0]]), name="w")
y = K.sum(K.square(K.dot(x, w) - 1.0))           # a scalar loss
grad_w, = K.gradients(y, [w])                       # d y / d w, itself a graph node
f = K.function([x], [y, grad_w], updates=[K.update_sub(w, 0.01 * grad_w)])

batch = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]], dtype="float32")
loss, grad = f([batch])
print("backend:", K.backend())
print("loss:", loss)
print("d loss / d w:", grad.ravel())
print("w after one SGD step:", K.get_value(w).ravel())
