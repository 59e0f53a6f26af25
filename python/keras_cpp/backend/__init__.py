"""keras_cpp.backend: the Keras 2 backend API on the keras_cpp C++ engine.

Config functions come from `_config` (keras.json, KERAS_BACKEND); everything else is computed in
C++ (`keras_cpp._core`); `_engine` holds the few hand-written functions (placeholder, variable,
function, learning phase, name scopes...), `_control` those that take a Python callable or give
several results (switch, rnn, map_fn...). See docs/configuration.md for backend selection.
"""
from .. import _keras_hook

_keras_hook.arm()  # Keras 2.3.1 on Python 3.11 / h5py 3: keras2_compat, before or after `import keras`

from . import _config
from ._config import (epsilon, set_epsilon, floatx, set_floatx, cast_to_floatx, image_data_format,
                      set_image_data_format, normalize_data_format, image_dim_ordering,
                      set_image_dim_ordering, symbolic, eager)
from ._engine import *  # noqa: F401,F403
from ._control import *  # noqa: F401,F403
from . import optimizers  # K.optimizers
from ._loader import backend, register_backend, _activate
_activate(globals())
