"""Core ops: Const, Placeholder, PlaceholderWithDefault, Identity, NoOp, Shape, Size, Rank.

Builders and shape inference (+ host functions for constant folding); kernels live elsewhere.
Builders: ``constant``, ``placeholder``, ``placeholder_with_default``, ``identity``,
``no_op``, ``group``, ``tuple``, ``with_dependencies``, ``shape``, ``size``, ``rank``.
"""
import builtins

import numpy as np

from pysession.framework import dtypes, ops, registry, tensor_util
from pysession.framework.tensor_shape import TensorShape, as_shape

_tuple = builtins.tuple


def _attr(ic, name, kind, optional=False):
    """``ic.attrs[name]`` checked to be a ``kind`` (TypeError naming the op otherwise)."""
    v = ic.attrs.get(name)
    if v is None and optional:
        return None
    if not isinstance(v, kind):
        raise TypeError("%s op %r: attr '%s' must be a %s, got %r"
                        % (ic.op_type, ic.name, name, getattr(kind, "__name__", kind), v))
    return v


def _n_inputs(ic, n):
    if ic.n_inputs != n:
        raise ValueError("%s op %r takes %d input(s), got %d" % (ic.op_type, ic.name, n,
                                                                 ic.n_inputs))


# --- Const ----------------------------------------------------------------------------------

def _const_infer(ic):
    _n_inputs(ic, 0)
    value = _attr(ic, "value", np.ndarray)
    dtype = _attr(ic, "dtype", dtypes.DType)
    if dtypes.as_dtype(value.dtype) != dtype:
        raise TypeError("Const op %r: value has dtype %s but attr dtype is %s"
                        % (ic.name, value.dtype, dtype.name))
    return [(dtype, TensorShape(value.shape))]


registry.register("Const", _const_infer, host=lambda ic: [ic.attrs["value"]])


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """TF1 ``tf.constant``: ``shape`` reshapes a value of the same size, otherwise fills with
    the value's last element; ``verify_shape`` requires the value to have ``shape``."""
    arr = tensor_util.make_ndarray(value, dtype, shape, verify_shape)
    if isinstance(value, np.ndarray) and np.may_share_memory(arr, value):
        arr = arr.copy()
    op = ops.get_default_graph()._create_op(
        "Const", [], {"value": arr, "dtype": dtypes.as_dtype(arr.dtype)}, name=name,
        default_name="Const")
    return op._outputs[0]


# --- Placeholder, PlaceholderWithDefault ---------------------------------------------------

def _placeholder_infer(ic):
    _n_inputs(ic, 0)
    shape = _attr(ic, "shape", TensorShape, optional=True)
    return [(_attr(ic, "dtype", dtypes.DType), TensorShape(None) if shape is None else shape)]


registry.register("Placeholder", _placeholder_infer)


def placeholder(dtype, shape=None, name=None):
    """A value that must be fed; ``shape=None`` accepts any shape."""
    attrs = {"dtype": dtypes.as_dtype(dtype),
             "shape": TensorShape(None) if shape is None else as_shape(shape)}
    return ops.get_default_graph()._create_op("Placeholder", [], attrs, name=name)._outputs[0]


def _placeholder_with_default_infer(ic):
    _n_inputs(ic, 1)
    dtype = _attr(ic, "dtype", dtypes.DType)
    shape = _attr(ic, "shape", TensorShape)
    if ic.in_dtypes[0] != dtype:
        raise TypeError("PlaceholderWithDefault op %r: default has dtype %s, attr dtype is %s"
                        % (ic.name, ic.in_dtypes[0].name, dtype.name))
    if not ic.in_shapes[0].is_compatible_with(shape):
        raise ValueError("PlaceholderWithDefault op %r: default value of shape %s is not "
                         "compatible with shape %s" % (ic.name, ic.in_shapes[0], shape))
    return [(dtype, shape)]


registry.register("PlaceholderWithDefault", _placeholder_with_default_infer)


def placeholder_with_default(input, shape, name=None):
    """Gives ``input`` unless fed; the static shape is ``shape``."""
    input = ops.convert_to_tensor(input)
    return ops.create_op("PlaceholderWithDefault", [input],
                         {"dtype": input.dtype, "shape": as_shape(shape)},
                         name=name)._outputs[0]


# --- Identity, NoOp -------------------------------------------------------------------------

def _identity_infer(ic):
    _n_inputs(ic, 1)
    return [(ic.in_dtypes[0], ic.in_shapes[0])]


registry.register("Identity", _identity_infer, host=lambda ic, x: [x])
registry.register("NoOp", lambda ic: (_n_inputs(ic, 0), [])[1])


def identity(input, name=None):
    input = ops.convert_to_tensor(input)
    return ops.create_op("Identity", [input], name=name)._outputs[0]


def no_op(name=None):
    return ops.get_default_graph()._create_op("NoOp", [], name=name)


def _flatten(x):
    if isinstance(x, dict):
        return [y for k in sorted(x) for y in _flatten(x[k])]
    if isinstance(x, (list, _tuple)):
        return [y for v in x for y in _flatten(v)]
    return [x]


def group(*inputs, **kwargs):
    """A NoOp that runs after all ``inputs`` (Tensors/Operations, nested lists allowed)."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise ValueError("Unknown keyword arguments: " + ", ".join(kwargs.keys()))
    flat = _flatten(inputs)
    with ops.name_scope(name, "group_deps", flat) as name:
        if not flat:
            return no_op(name=name)
        for inp in flat:
            if not hasattr(inp, "device"):
                raise TypeError("Expected tf.group() expected Tensor arguments not '%s' with "
                                "type '%s'" % (inp, type(inp)))
        with ops.control_dependencies(flat):
            return no_op(name=name)


def with_dependencies(dependencies, output_tensor, name=None):
    """An Identity of ``output_tensor`` that runs after ``dependencies``."""
    with ops.name_scope(name, "control_dependency",
                        list(dependencies) + [output_tensor]) as name:
        with ops.control_dependencies(dependencies):
            output_tensor = ops.convert_to_tensor(output_tensor)
            return identity(output_tensor, name=name)


def tuple(tensors, name=None, control_inputs=None):  # noqa: A001  (TF's name)
    """TF1 ``tf.tuple``: each tensor through an Identity gated on one group of all of them."""
    with ops.name_scope(name, "tuple", tensors) as name:
        tensors = [t if isinstance(t, (ops.Operation, ops.Tensor)) or t is None
                   else ops.convert_to_tensor(t) for t in tensors]
        gating = [t if isinstance(t, ops.Operation) else t.op for t in tensors if t is not None]
        for c in control_inputs or ():
            if isinstance(c, ops.Tensor):
                c = c.op
            elif not isinstance(c, ops.Operation):
                raise TypeError("Control input must be Operation or Tensor: %s" % (c,))
            gating.append(c)
        gating = sorted(set(gating), key=lambda op: op._id)
        if not gating:
            raise ValueError("Must have at least one Tensor: %s" % (tensors,))
        gate = group(*gating)
        out = []
        for t in tensors:
            if isinstance(t, ops.Tensor):
                out.append(with_dependencies([gate], t))
            elif isinstance(t, ops.Operation):
                with ops.control_dependencies([gate]):
                    out.append(group(t))
            else:
                out.append(None)
        return out


# --- Shape, Size, Rank ----------------------------------------------------------------------

def _static(fn):
    """Marks a host function that reads only static shapes (see ops.constant_value)."""
    fn.accepts_unknown = True
    return fn


def _int_out_type(ic):
    t = _attr(ic, "out_type", dtypes.DType)
    if t not in (dtypes.int32, dtypes.int64):
        raise TypeError("%s op %r: out_type must be int32 or int64, got %s"
                        % (ic.op_type, ic.name, t.name))
    return t


def _shape_infer(ic):
    _n_inputs(ic, 1)
    return [(_int_out_type(ic), TensorShape([ic.in_shapes[0].ndims]))]


@_static
def _shape_host(ic, x=None):
    s = ic.in_shapes[0] if x is None else TensorShape(np.shape(x))
    if not s.is_fully_defined():
        return None
    return [np.array(s.as_list(), dtype=ic.attrs["out_type"].as_numpy_dtype)]


def _size_infer(ic):
    _n_inputs(ic, 1)
    return [(_int_out_type(ic), TensorShape([]))]


@_static
def _size_host(ic, x=None):
    s = ic.in_shapes[0] if x is None else TensorShape(np.shape(x))
    if s.is_fully_defined():
        n = s.num_elements()
    elif s.ndims is not None and any(d == 0 for d in s.as_list()):
        n = 0
    else:
        return None
    return [np.array(n, dtype=ic.attrs["out_type"].as_numpy_dtype)]


def _rank_infer(ic):
    _n_inputs(ic, 1)
    return [(dtypes.int32, TensorShape([]))]


@_static
def _rank_host(ic, x=None):
    n = ic.in_shapes[0].ndims if x is None else np.ndim(x)
    return None if n is None else [np.array(n, dtype=np.int32)]


registry.register("Shape", _shape_infer, host=_shape_host)
registry.register("Size", _size_infer, host=_size_host)
registry.register("Rank", _rank_infer, host=_rank_host)


def shape(input, name=None, out_type=dtypes.int32):
    """TF1 ``tf.shape``: a Const when the static shape is fully known, else a Shape op."""
    with ops.name_scope(name, "Shape", [input]) as name:
        input = ops.convert_to_tensor(input)
        out_type = dtypes.as_dtype(out_type)
        if input.shape.is_fully_defined():
            return constant(input.shape.as_list(), out_type, name=name)
        return ops.create_op("Shape", [input], {"out_type": out_type}, name=name)._outputs[0]


def size(input, name=None, out_type=dtypes.int32):
    """TF1 ``tf.size``: a Const when the element count is statically known."""
    with ops.name_scope(name, "Size", [input]) as name:
        input = ops.convert_to_tensor(input)
        out_type = dtypes.as_dtype(out_type)
        s = input.shape
        if s.is_fully_defined():
            return constant(s.num_elements(), out_type, name=name)
        if s.ndims is not None and any(d == 0 for d in s.as_list()):
            return constant(0, out_type, name=name)
        return ops.create_op("Size", [input], {"out_type": out_type}, name=name)._outputs[0]


def rank(input, name=None):
    """TF1 ``tf.rank``: a Const when the rank is statically known."""
    with ops.name_scope(name, "Rank", [input]) as name:
        input = ops.convert_to_tensor(input)
        if input.shape.ndims is not None:
            return constant(input.shape.ndims, dtypes.int32, name=name)
        return ops.create_op("Rank", [input], name=name)._outputs[0]
