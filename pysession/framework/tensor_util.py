"""Python/numpy values → the numpy array a ``Const`` holds, with TF1's inference and checks."""
import numbers

import numpy as np

from pysession.framework import dtypes
from pysession.framework.tensor_shape import Dimension, TensorShape


def _is_tensor(v):
    from pysession.framework.ops import Tensor
    return isinstance(v, Tensor)


def _contains_tensor(v):
    if isinstance(v, (list, tuple)):
        return any(_contains_tensor(x) for x in v)
    return _is_tensor(v)


def _strip(v):
    """Dimensions → ints (unknown → ValueError); tuples kept as lists for numpy."""
    if isinstance(v, (list, tuple)):
        return [_strip(x) for x in v]
    if isinstance(v, Dimension):
        if v.value is None:
            raise ValueError("Cannot convert an unknown Dimension to a Tensor: %s" % v)
        return v.value
    return v


def _dense_dims(v):
    if not isinstance(v, (list, tuple)):
        return []
    if not v:
        return [0]
    return [len(v)] + _dense_dims(v[0])


def _ok_int(v):
    return isinstance(v, numbers.Integral)


def _ok_float(v):
    return isinstance(v, numbers.Real) or isinstance(v, (np.integer, np.floating))


def _ok_bool(v):
    return isinstance(v, (bool, np.bool_))


def _ok_str(v):
    return isinstance(v, (str, bytes))


def _first_bad(v, ok):
    if isinstance(v, (list, tuple)):
        for x in v:
            bad = _first_bad(x, ok)
            if bad is not None:
                return bad
        return None
    if isinstance(v, np.ndarray):
        return None
    return None if ok(v) else (v,)


def _assert_compatible(values, dtype):
    if dtype is None:
        return
    ok = (_ok_str if dtype == dtypes.string else _ok_bool if dtype.is_bool else
          _ok_int if dtype.is_integer else _ok_float)
    bad = _first_bad(values, ok)
    if bad is not None:
        raise TypeError("Expected %s, got %r of type '%s' instead."
                        % (dtype.name, bad[0], type(bad[0]).__name__))


def _to_bytes_array(a):
    flat = [x.encode("utf-8") if isinstance(x, str) else x for x in a.ravel().tolist()]
    for x in flat:
        if not isinstance(x, bytes):
            raise TypeError("Expected string, got %r of type '%s' instead."
                            % (x, type(x).__name__))
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(a.shape)


def make_ndarray(values, dtype=None, shape=None, verify_shape=False):
    """The value of ``constant(values, dtype, shape, verify_shape)`` as a numpy array.

    TF1 rules: Python floats → float32, Python ints → int32 (int64 if they do not fit),
    numpy arrays keep their dtype; ``shape`` reshapes equal sizes and otherwise fills with
    the last element; strings become object arrays of bytes.
    """
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if _contains_tensor(values):
        if dtype is None:
            raise TypeError("List of Tensors when single Tensor expected")
        raise TypeError("Expected %s, got a Tensor instead." % dtype.name)
    if isinstance(values, (np.ndarray, np.generic)):
        nparray = np.asarray(values)
        if dtype is not None:
            try:
                nparray = (_to_bytes_array(nparray) if dtype == dtypes.string
                           else nparray.astype(dtype.as_numpy_dtype))
            except (ValueError, OverflowError) as e:
                raise TypeError("Cannot convert %r to %s: %s" % (values, dtype.name, e)) from None
    else:
        if values is None:
            raise ValueError("None values not supported.")
        values = _strip(values)
        np_dt = dtype.as_numpy_dtype if dtype is not None else None
        if shape is not None and int(np.prod(_shape_list(shape), dtype=np.int64)) == 0:
            nparray = np.full(_shape_list(shape), b"" if dtype == dtypes.string else 0,
                              dtype=np_dt or np.float32)
        else:
            _assert_compatible(values, dtype)
            try:
                nparray = np.array(values, dtype=np_dt)
            except OverflowError as e:
                raise TypeError("Value %r cannot be represented as %s: %s"
                                % (values, dtype.name if dtype else "a tensor", e)) from None
            except ValueError as e:
                dense = _dense_dims(values)
                if isinstance(values, (list, tuple)):
                    raise ValueError("Argument must be a dense tensor: %r - got shape [%d], but "
                                     "wanted %s." % (values, len(values), dense)) from None
                raise TypeError(str(e)) from None
            if list(nparray.shape) != _dense_dims(values):
                raise ValueError("Argument must be a dense tensor: %r - got shape %s, but wanted "
                                 "%s." % (values, list(nparray.shape), _dense_dims(values)))
            if dtype is None:
                if nparray.dtype == np.float64:
                    nparray = nparray.astype(np.float32)
                elif nparray.dtype == np.int64:
                    down = nparray.astype(np.int32)
                    if np.array_equal(down, nparray):
                        nparray = down
    if nparray.dtype.kind in "OSU":
        nparray = _to_bytes_array(nparray)
    try:
        np_tf = dtypes.as_dtype(nparray.dtype)
    except TypeError:
        raise TypeError("Unrecognized data type: %s" % nparray.dtype) from None
    if dtype is not None and dtype != np_tf:
        raise TypeError("Incompatible types: %s vs. %s. Value is %s" % (dtype, nparray.dtype, values))
    if shape is None:
        return nparray
    shape = _shape_list(shape)
    size = int(np.prod(shape, dtype=np.int64))
    if verify_shape and nparray.shape != tuple(shape):
        raise TypeError("Expected Tensor's shape: %s, got %s." % (tuple(shape), nparray.shape))
    if nparray.size > size:
        raise ValueError("Too many elements provided. Needed at most %d, but received %d"
                         % (size, nparray.size))
    if nparray.size == size:
        return nparray.reshape(shape)
    if nparray.size == 0:
        return np.full(shape, b"" if np_tf == dtypes.string else 0, dtype=nparray.dtype)
    flat = nparray.ravel()
    return np.concatenate([flat, np.repeat(flat[-1:], size - flat.size)]).reshape(shape)


def _shape_list(shape):
    if isinstance(shape, TensorShape):
        return shape.as_list()
    if isinstance(shape, (list, tuple)):
        return [int(_strip(d)) for d in shape]
    return [int(shape)]


def constant_value(tensor):
    """Static numpy value of ``tensor`` or None (see ``ops.constant_value``)."""
    from pysession.framework.ops import constant_value as cv
    return cv(tensor)
