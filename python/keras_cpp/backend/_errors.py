"""Errors of the hand-written Python functions name the function, as the C++ ops' errors do
("[eye] negative dimensions are not allowed"); a private op's name ("[_batch_var]") is replaced
by the public one."""
import functools
import inspect


def _renamed(e, name):
    msg = str(e)
    if msg.startswith('[%s]' % name):
        return None
    if msg.startswith('[_') and ']' in msg:
        msg = msg[msg.index(']') + 1:].lstrip()
    try:
        new = type(e)(msg if msg.startswith('[%s]' % name) else '[%s] %s' % (name, msg))
    except Exception:  # noqa: BLE001 - an exception type with another constructor: leave it alone
        return None
    return new


def names_itself(fn):
    name = fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError) as e:
            new = _renamed(e, name)
            if new is None:
                raise
            raise new from None
    return wrapper


def name_errors(namespace, module, names=None):
    """Wrap the public functions defined in `module` (a module's globals()), or only `names`."""
    for k, v in list(namespace.items()):
        if (k in names if names else not k.startswith('_')) and inspect.isfunction(v) and v.__module__ == module:
            namespace[k] = names_itself(v)
