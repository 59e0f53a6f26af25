"""An ordinary Keras 2 script: nothing in it mentions keras_cpp.

Run it on keras_cpp by choosing the backend with one environment variable:

    KERAS_BACKEND=keras_cpp.backend python examples/keras2_mlp.py

(Keras 2.3.1 with numpy<2 and h5py: `pip install keras==2.3.1 "numpy<2" h5py`.)
"""
import numpy as np
from keras import backend as K
from keras.layers import Dense, Dropout
from keras.models import Sequential, load_model

rng = np.random.RandomState(0)
x = rng.randn(2048, 20).astype("float32")
y = (x[:, :5].sum(axis=1) > 0).astype("int32")

model = Sequential([
    Dense(64, activation="relu", input_shape=(20,)),
    Dropout(0.2),
    Dense(64, activation="relu"),
    Dense(2, activation="softmax"),
])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=5, batch_size=64, validation_split=0.1, verbose=2)
print("backend:", K.backend())
print("loss, accuracy:", model.evaluate(x, y, verbose=0))
model.save("/tmp/keras2_mlp.h5")
print("reloaded predictions match:", np.allclose(load_model("/tmp/keras2_mlp.h5").predict(x[:8]), model.predict(x[:8])))
