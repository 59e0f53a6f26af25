"""Errors raised inside a hand-written K function name the function the user called, as C++ ops
do ("[ndim] [int_shape] ..."): Python-level checks, numpy and Keras-copied messages otherwise
leave the user guessing which call failed."""
import functools
import types


def _named(fn):
    tag = '[%s]' % fn.__name__

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError) as e:
            msg = str(e)
            if msg.startswith(tag):
                raise
            try:
                named = type(e)('%s %s' % (tag, msg))
            except Exception:  # an exception type with another constructor keeps its base's type
                named = (TypeError if isinstance(e, TypeError) else ValueError)('%s %s' % (tag, msg))
            raise named.with_traceback(e.__traceback__) from e.__cause__
    return call


def name_errors(ns):
    """Replace each public function defined in module namespace `ns` by its named form, in place,
    so the module's own calls and every importer see the same object."""
    for name, fn in list(ns.items()):
        if not name.startswith('_') and isinstance(fn, types.FunctionType) and fn.__module__ == ns['__name__']:
            ns[name] = _named(fn)
