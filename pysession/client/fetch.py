"""Fetch and feed handling, as TF1's session does it.

A fetch structure (a graph element, or any nesting of list / tuple / namedtuple / dict /
OrderedDict) becomes a flat list of unique tensors plus target operations; the results are put
back into the user's own structure.  Feeds are resolved to tensors and converted to numpy arrays
with TF1's checks and messages.
"""
import collections

import numpy as np

from ..framework import errors, ops


def _fetch_type_error(fetch):
    return TypeError("Fetch argument %r has invalid type %r, must be a string or Tensor. (Can "
                     "not convert a %s into a Tensor or Operation.)" % (
                         fetch, type(fetch), type(fetch).__name__))


class _Leaf:
    __slots__ = ("index", "is_op", "post")

    def __init__(self, index, is_op, post=None):
        self.index = index
        self.is_op = is_op
        self.post = post

    def build(self, values):
        if self.is_op:
            return None
        v = values[self.index]
        return self.post(v) if self.post is not None else v


class _Seq:
    __slots__ = ("kind", "items")

    def __init__(self, kind, items):
        self.kind = kind
        self.items = items

    def build(self, values):
        vals = [m.build(values) for m in self.items]
        if self.kind is list:
            return vals
        if self.kind is tuple:
            return tuple(vals)
        return self.kind(*vals)          # namedtuple


class _Map:
    __slots__ = ("kind", "keys", "items")

    def __init__(self, kind, keys, items):
        self.kind = kind
        self.keys = keys
        self.items = items

    def build(self, values):
        pairs = [(k, m.build(values)) for k, m in zip(self.keys, self.items)]
        try:
            return self.kind(pairs)
        except TypeError:
            return dict(pairs)


class FetchPlan:
    """The flat form of a fetch structure: ``tensors`` (unique), ``targets`` (ops) and a
    mapper rebuilding the user's structure from the tensors' values."""

    def __init__(self, graph, fetches):
        self.graph = graph
        self.tensors = []
        self.targets = []
        self._index = {}
        self._special = []           # custom fetch types registered later (sparse, handles)
        self.mapper = self._map(fetches)

    def _element(self, fetch):
        g = self.graph
        if fetch is None:
            raise TypeError("Fetch argument None has invalid type %r" % type(None))
        conv = getattr(fetch, "_as_graph_element", None)
        if conv is not None and not isinstance(fetch, (ops.Tensor, ops.Operation)):
            fetch = conv()
        if isinstance(fetch, (str, bytes)):
            name = fetch.decode() if isinstance(fetch, bytes) else fetch
            try:
                return g.as_graph_element(name, allow_tensor=True, allow_operation=True)
            except (KeyError, ValueError) as e:
                raise ValueError("Fetch argument %r cannot be interpreted as a Tensor. (%s)" % (
                    name, e.args[0] if e.args else e)) from None
        if isinstance(fetch, (ops.Tensor, ops.Operation)):
            if fetch.graph is not g:
                raise ValueError("Fetch argument %r cannot be interpreted as a Tensor. (Tensor "
                                 "%s is not an element of this graph.)" % (fetch, fetch))
            return fetch
        raise _fetch_type_error(fetch)

    def _map(self, fetch):
        special = _special_fetch(fetch)
        if special is not None:
            parts, post = special
            inner = self._map(parts)
            return _PostMapper(inner, post)
        if isinstance(fetch, (list, tuple)) and not isinstance(fetch, str):
            kind = list if isinstance(fetch, list) else (
                type(fetch) if hasattr(fetch, "_fields") else tuple)
            return _Seq(kind, [self._map(f) for f in fetch])
        if isinstance(fetch, dict):
            keys = list(fetch.keys())
            return _Map(type(fetch), keys, [self._map(fetch[k]) for k in keys])
        if isinstance(fetch, (set, frozenset, np.ndarray, int, float, complex)) and \
                not isinstance(fetch, bool):
            raise _fetch_type_error(fetch)
        el = self._element(fetch)
        if isinstance(el, ops.Operation):
            if el not in self.targets:
                self.targets.append(el)
            return _Leaf(None, True)
        idx = self._index.get(el)
        if idx is None:
            idx = self._index[el] = len(self.tensors)
            self.tensors.append(el)
        post = _string_post if el.dtype.name == "string" else None
        return _Leaf(idx, False, post)

    def build(self, values):
        return self.mapper.build(values)


class _PostMapper:
    __slots__ = ("inner", "post")

    def __init__(self, inner, post):
        self.inner = inner
        self.post = post

    def build(self, values):
        return self.post(self.inner.build(values))


# Custom fetch types (SparseTensor, session handles) register (predicate, split) pairs:
# split(fetch) -> (nested fetches, post(values) -> result).
_SPECIAL_FETCHES = []


def register_fetch_type(predicate, split):
    _SPECIAL_FETCHES.append((predicate, split))


def _special_fetch(fetch):
    for pred, split in _SPECIAL_FETCHES:
        if pred(fetch):
            return split(fetch)
    return None


def _string_post(v):
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v[()]
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, np.ndarray) and v.dtype.kind in "OUS":
        return np.vectorize(lambda s: s.encode("utf-8") if isinstance(s, str) else s,
                            otypes=[object])(v) if v.size else v.astype(object)
    return v


# ------------------------------------------------------------------------------ feeds

def feed_key(graph, key):
    """The Tensor a feed_dict key names; TypeError as TF1 when it names none."""
    conv = getattr(key, "_as_graph_element", None)
    if conv is not None and not isinstance(key, (ops.Tensor, ops.Operation)):
        try:
            key = conv()
        except Exception:
            pass
    try:
        if isinstance(key, ops.Tensor):
            if key.graph is not graph:
                raise ValueError("Tensor %s is not an element of this graph." % key)
            return key
        if isinstance(key, (str, bytes)):
            name = key.decode() if isinstance(key, bytes) else key
            return graph.as_graph_element(name, allow_tensor=True, allow_operation=False)
        raise TypeError("Can not convert a %s into a Tensor." % type(key).__name__)
    except (KeyError, ValueError, TypeError) as e:
        raise TypeError("Cannot interpret feed_dict key as Tensor: %s" % (
            e.args[0] if e.args else e)) from None


_INT_KINDS = "iu"


def feed_value(tensor, value):
    """``value`` converted to ``tensor``'s dtype as TF1 does; TypeError / ValueError else."""
    if isinstance(value, (ops.Tensor, ops.Operation)):
        raise TypeError(
            "The value of a feed cannot be a tf.Tensor object. Acceptable feed values include "
            "Python scalars, strings, lists, numpy ndarrays, or TensorHandles. For reference, "
            "the tensor object was %s which was passed to the feed with key %s." % (value,
                                                                                   tensor))
    dt = tensor.dtype.base_dtype
    if dt.name == "string":
        a = np.asarray(value, dtype=object)
        flat = a.reshape(-1)
        for s in flat:
            if not isinstance(s, (str, bytes)):
                raise TypeError("Type of feed value %r with type %s is not compatible with "
                                "Tensor type %s. Is this a string?" % (value, type(s),
                                                                       dt.name))
        return a
    npdt = dt.as_numpy_dtype
    if isinstance(value, np.ndarray) and value.dtype == npdt:
        a = value
    else:
        try:
            a = np.asarray(value, dtype=npdt)
        except OverflowError:
            raise TypeError("Value %r cannot be fed to Tensor %s of dtype %s: it does not fit"
                            % (value, tensor.name, dt.name)) from None
        except (ValueError, TypeError) as e:
            raise ValueError("Cannot convert value %r to dtype %s for Tensor %s: %s" % (
                value, dt.name, tensor.name, e)) from None
        if npdt(0).dtype.kind in _INT_KINDS:
            src = np.asarray(value)
            if src.dtype.kind in _INT_KINDS and src.size and src.dtype != a.dtype:
                info = np.iinfo(npdt)
                if src.min() < info.min or src.max() > info.max:
                    raise TypeError("Value %r does not fit Tensor %s of dtype %s" % (
                        value, tensor.name, dt.name))
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
    if a.dtype.kind == "O":
        raise ValueError("Cannot feed value %r to Tensor %s of dtype %s" % (
            value, tensor.name, dt.name))
    return a


def check_feed_shape(tensor, shape):
    s = tensor.shape
    if s.ndims is None:
        return
    dims = s.as_list()
    if len(dims) != len(shape) or any(d is not None and d != x for d, x in zip(dims, shape)):
        raise ValueError("Cannot feed value of shape %s for Tensor '%s', which has shape '%s'"
                         % (_tuple_str(shape), tensor.name, str(s)))


def _tuple_str(shape):
    return "(%s)" % (", ".join(str(x) for x in shape) + ("," if len(shape) == 1 else ""))
