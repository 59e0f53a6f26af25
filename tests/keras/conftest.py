"""Keras loads keras_cpp as its external backend: the environment is set before `import keras`,
with a private KERAS_HOME so the user's keras.json is neither read nor written."""
import os
import tempfile

os.environ['KERAS_BACKEND'] = 'keras_cpp.backend'
os.environ['KERAS_HOME'] = tempfile.mkdtemp(prefix='keras_cpp_keras_home_')
