"""Array ops: creation (zeros, ones, fill, range), views (reshape, expand_dims, squeeze),
movement (transpose, concat, stack, unstack, split, slice, strided_slice, gather, tile, pad),
where, one_hot.

Each op has TF1 static inference (shapes read from constant inputs through ``ic.const``), a
numpy ``host`` function (build-time constant folding: ``tf.shape(x)[0]``, ``tf.stack`` of
constants), and a lowering.  Views (Reshape, ExpandDims, Squeeze) alias their input buffer.
Movement ops share one generic strided-copy kernel (``clkernels/array.cl``: out index → input
offset through per-dim strides, rank ≤ 8 after merging dims), contiguous blocks go through
``lc.copy`` and transposes whose last dim moves use a tiled kernel.
"""
import numpy as np

from pysession.framework import dtypes, errors, ops, registry
from pysession.framework.tensor_shape import Dimension, TensorShape, as_shape, unknown_shape
from pysession.ops import core_ops
from pysession.runtime.lowering import round_up

__all__ = [
    "zeros", "ones", "zeros_like", "ones_like", "fill", "range", "reshape", "expand_dims",
    "squeeze", "transpose", "concat", "stack", "unstack", "split", "slice", "strided_slice",
    "gather", "tile", "pad", "where", "one_hot", "newaxis",
]

newaxis = None
_py_range = range
_py_slice = slice

_LWS = 64
_UTYPE = {1: "uchar", 2: "ushort", 4: "uint", 8: "ulong"}


# ------------------------------------------------------------------------------ small helpers

def _shape_str(s):
    if s.ndims is None:
        return "<unknown>"
    return "[%s]" % ",".join("?" if d is None else str(d) for d in s.as_list())


def _where(ic):
    """The `` for 'name' (op: 'Type') with input shapes: ...`` suffix of TF's messages."""
    return " for '%s' (op: '%s') with input shapes: %s." % (
        ic.name, ic.op_type, ", ".join(_shape_str(s) for s in ic.in_shapes))


def _dims(shape):
    """A TensorShape's dims as a list of int/None, or None when the rank is unknown."""
    return None if shape.ndims is None else shape.as_list()


def _int_list(v):
    return None if v is None else [int(x) for x in np.asarray(v).reshape(-1)]


def _scalar(v):
    return None if v is None else int(np.asarray(v).reshape(-1)[0])


def _check_int(ic, i, param, allowed=("int32", "int64")):
    dt = ic.in_dtypes[i]
    if dt.name not in allowed:
        raise TypeError("Value passed to parameter '%s' has DataType %s not in list of allowed "
                        "values: %s" % (param, dt.name, ", ".join(allowed)))


def _rank_check(ic, i, rank, what=None):
    s = ic.in_shapes[i]
    if s.ndims is not None and s.ndims != rank:
        raise ValueError("Shape must be rank %d but is rank %d%s" % (rank, s.ndims, _where(ic)))


def _prod(xs):
    p = 1
    for x in xs:
        p *= int(x)
    return p


def _strides(shape):
    st = [1] * len(shape)
    for k in _py_range(len(shape) - 2, -1, -1):
        st[k] = st[k + 1] * int(shape[k + 1])
    return st


# ------------------------------------------------------------------------------ lowering helpers

def _collapse(dims, strides_list):
    """Drop size-1 dims, merge adjacent dims contiguous in every stride list."""
    out = []
    for k, d in enumerate(dims):
        d = int(d)
        if d == 1:
            continue
        ss = [int(s[k]) for s in strides_list]
        if out and all(ps == s * d for ps, s in zip(out[-1][1], ss)):
            out[-1] = (out[-1][0] * d, ss)
        else:
            out.append((d, ss))
    return out


def _idx_type(*extents):
    return ("int", np.int32) if max(abs(int(e)) for e in extents) < 2 ** 31 - 1 \
        else ("long", np.int64)


def _copy(lc, src, dst, dims, istr, ostr, ibase, obase, esize):
    """Element copy over the box ``dims``: dst[obase + idx.ostr] = src[ibase + idx.istr]."""
    n = _prod(dims)
    if n == 0:
        return
    c = _collapse(dims, [istr, ostr])
    if not c:
        lc.copy(dst, src, esize, obase * esize, ibase * esize)
        return
    if len(c) == 1 and c[0][1] == [1, 1]:
        lc.copy(dst, src, n * esize, obase * esize, ibase * esize)
        return
    if len(c) > 8:
        raise errors.UnimplementedError(
            lc.op.node_def, lc.op, "%s: the copy needs %d dims after merging; pysession "
            "supports 8" % (lc.op.name, len(c)))
    d = [x[0] for x in c]
    si = [x[1][0] for x in c]
    so = [x[1][1] for x in c]
    extent = max([n, ibase, obase] + [abs(a) * b for a, b in zip(si, d)] +
                 [abs(a) * b for a, b in zip(so, d)]) + ibase + obase + 1
    ctype, npi = _idx_type(extent)
    ut = _UTYPE[esize]
    out_contig = so == _strides(d)
    # A transposing copy: the output's last dim is strided in the input and some other dim
    # is contiguous there -> tiled kernel.
    if out_contig and si[-1] != 1 and 1 in si and n >= 4096:
        p = si.index(1)
        rest = [k for k in _py_range(len(d) - 1) if k != p]
        if len(rest) <= 6:
            tile = 32 if esize <= 4 else 16
            nbl = -(-d[-1] // tile)
            nbp = -(-d[p] // tile)
            nblocks = nbl * nbp * _prod(d[k] for k in rest)
            rd = [d[k] for k in rest] + [1] * (6 - len(rest))
            rs = [si[k] for k in rest] + [0] * (6 - len(rest))
            ro = [so[k] for k in rest] + [0] * (6 - len(rest))
            k = lc.kernel("transpose_tiled", filename="array.cl",
                  defines={"K_transpose_tiled": 1, "T": ut, "I": ctype,
                                   "NREST": len(rest), "TILE": tile})
            lws = 8
            args = [src, dst, npi(nblocks), npi(d[-1]), npi(d[p]), npi(si[-1]), npi(so[p]),
                    npi(nbl), npi(nbp)] + [npi(x) for x in rd + rs + ro]
            if ibase or obase:
                raise AssertionError("tiled transpose with offsets")  # not used that way
            lc.launch(k, [round_up(nblocks, lws)], [lws], args)
            return
    pad = 8 - len(d)
    if d[-1] >= 16:
        # long rows: one work-item per chunk of a row
        chunk = min(d[-1], 512)
        nchunks = -(-d[-1] // chunk)
        nitems = (n // d[-1]) * nchunks
        k = lc.kernel("strided_rows", filename="array.cl",
                      defines={"K_strided_rows": 1, "T": ut, "I": ctype, "RANK": len(d),
                               "INNER_CONTIG": 1 if si[-1] == 1 and so[-1] == 1 else 0})
        args = [src, dst, npi(nitems), npi(ibase), npi(obase)] + \
            [npi(x) for x in d + [1] * pad] + [npi(x) for x in si + [0] * pad] + \
            [npi(x) for x in so + [0] * pad] + [npi(chunk), npi(nchunks)]
        lc.launch(k, [round_up(nitems, 16)], [16], args)
        return
    k = lc.kernel("strided_copy", filename="array.cl",
                  defines={"K_strided_copy": 1, "T": ut, "I": ctype, "RANK": len(d),
                           "OUT_CONTIG": 1 if out_contig else 0})
    args = [src, dst, npi(n), npi(ibase), npi(obase)] + \
        [npi(x) for x in d + [1] * pad] + [npi(x) for x in si + [0] * pad] + \
        [npi(x) for x in so + [0] * pad]
    lc.launch(k, [round_up(n, _LWS)], [_LWS], args)


def _fill_pattern(lc, buf, n, dtype, value):
    """Fill ``n`` elements of ``buf`` with a scalar value."""
    if n:
        pat = np.asarray(value, dtype=dtype.as_numpy_dtype).tobytes()
        lc.fill(buf, n * dtype.size, pat)


def _broadcast_scalar(lc, src, dst, n, esize, obase=0):
    _copy(lc, src, dst, [n], [0], [1], 0, obase, esize)


def _lconst(lc, i):
    """Input i's value at plan time: the planner's folded value, else build-time folding
    (``Pack``/``StridedSlice``/arithmetic of constants, which the planner does not fold)."""
    v = lc.const(i)
    if v is None:
        v = ops.constant_value(lc.op.inputs[i])
    return v


def _lower_alias(lc):
    if lc.inputs[0] is not None and lc.outputs[0] is not None:
        lc.alias(0, 0)


def _esize(lc, i=0, output=False):
    return (lc.out_dtypes[i] if output else lc.in_dtypes[i]).size


def _register(op_type, infer, lower=None, host=None):
    return registry.register(op_type, infer, lower=lower, host=host)


# ============================================================================== Fill, zeros/ones

def _shape_from_const(ic, i, what="shape"):
    """A TensorShape from the 1-D int input ``i``: known values, else unknown dims of the
    static length (or unknown rank)."""
    v = ic.const(i)
    if v is not None:
        dims = _int_list(v)
        for d in dims:
            if d < 0:
                raise ValueError("Dimension %d must be >= 0%s" % (d, _where(ic)))
        return TensorShape(dims)
    s = ic.in_shapes[i]
    if s.ndims == 1 and s.as_list()[0] is not None:
        return unknown_shape(s.as_list()[0])
    return unknown_shape()


def _fill_infer(ic):
    _check_int(ic, 0, "dims")
    _rank_check(ic, 0, 1)
    _rank_check(ic, 1, 0)
    return [(ic.in_dtypes[1], _shape_from_const(ic, 0))]


def _fill_host(ic, dims, value):
    return [np.full(_int_list(dims), value)]


def _fill_lower(lc):
    n = lc.num_elements(0, output=True)
    if n == 0:
        return
    v = _lconst(lc, 1)
    if v is not None:
        _fill_pattern(lc, lc.outputs[0], n, lc.out_dtypes[0], v)
    else:
        _broadcast_scalar(lc, lc.inputs[1], lc.outputs[0], n, _esize(lc, 0, True))


_register("Fill", _fill_infer, _fill_lower, _fill_host)


def _like_infer(ic):
    return [(ic.in_dtypes[0], ic.in_shapes[0])]


def _zeros_like_lower(lc):
    n = lc.num_elements(0, output=True)
    _fill_pattern(lc, lc.outputs[0], n, lc.out_dtypes[0], 0)


def _ones_like_lower(lc):
    n = lc.num_elements(0, output=True)
    _fill_pattern(lc, lc.outputs[0], n, lc.out_dtypes[0], 1)


_register("ZerosLike", _like_infer, _zeros_like_lower,
          lambda ic, x: [np.zeros_like(x)])
_register("OnesLike", _like_infer, _ones_like_lower,
          lambda ic, x: [np.ones_like(x)])


def fill(dims, value, name=None):
    """TF1 ``tf.fill``: a ``Fill`` op of shape ``dims`` (1-D int32/int64) holding ``value``."""
    with ops.name_scope(name, "Fill", [dims, value]) as name:
        dims = _as_shape_tensor(dims, "dims")
        value = ops.convert_to_tensor(value, name="value")
        out = ops.create_op("Fill", [dims, value], name=name).outputs[0]
        if not out.shape.is_fully_defined():
            part = _partial_shape_of(dims)
            if part is not None and out.shape.ndims in (None, len(part)):
                out.set_shape(TensorShape([None if d is None or d < 0 else d for d in part]))
        return out


def _as_shape_tensor(shape, name):
    if isinstance(shape, ops.Tensor):
        return shape
    if isinstance(shape, TensorShape):
        return ops.convert_to_tensor(shape, name=name)
    if isinstance(shape, (list, tuple)):
        from pysession.framework.tensor_util import _contains_tensor
        if _contains_tensor(shape):
            return stack([_dim_value(s) for s in shape], name=name)
        shape = [_dim_value(s) for s in shape]
        if any(s is None for s in shape):
            raise ValueError("Cannot convert a partially known shape to a Tensor: %s" % (shape,))
        big = any(s >= 2 ** 31 for s in shape)
        return core_ops.constant(shape, dtype=dtypes.int64 if big else dtypes.int32, name=name)
    return ops.convert_to_tensor(shape, name=name)


def _dim_value(d):
    return d.value if isinstance(d, Dimension) else d


def _static_shape(shape):
    """``shape`` (list/tuple/TensorShape/int) as a list of ints, or None when it is a Tensor
    or holds Tensors/unknown dims."""
    if isinstance(shape, ops.Tensor):
        return None
    if isinstance(shape, TensorShape):
        return shape.as_list() if shape.is_fully_defined() else None
    if isinstance(shape, (int, np.integer)):
        return [int(shape)]
    if isinstance(shape, np.ndarray):
        return [int(x) for x in shape.reshape(-1)]
    if isinstance(shape, (list, tuple)):
        out = []
        for s in shape:
            s = _dim_value(s)
            if isinstance(s, (int, np.integer)) and not isinstance(s, bool):
                out.append(int(s))
            else:
                return None
        return out
    return None


def _zeros_or_ones(shape, dtype, name, value, default_name):
    dtype = dtypes.as_dtype(dtype)
    with ops.name_scope(name, default_name, [shape] if isinstance(shape, ops.Tensor) else [])\
            as name:
        zero = value if dtype != dtypes.bool else bool(value)
        static = _static_shape(shape)
        if static is not None and _prod(static) < 1000:
            return core_ops.constant(zero, dtype=dtype, shape=static, name=name)
        shape = _as_shape_tensor(shape, "shape")
        if shape.shape.ndims == 0:
            shape = reshape(shape, [-1])
        return fill(shape, core_ops.constant(zero, dtype=dtype), name=name)


def zeros(shape, dtype=dtypes.float32, name=None):
    """TF1 ``tf.zeros``: a Const when small (< 1000 elements) and static, else Fill."""
    return _zeros_or_ones(shape, dtype, name, 0, "zeros")


def ones(shape, dtype=dtypes.float32, name=None):
    """TF1 ``tf.ones``: a Const when small (< 1000 elements) and static, else Fill."""
    return _zeros_or_ones(shape, dtype, name, 1, "ones")


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    """TF1 ``tf.zeros_like``: ``zeros(shape)`` when the shape is static, else ZerosLike."""
    with ops.name_scope(name, "zeros_like", [tensor]) as name:
        tensor = ops.convert_to_tensor(tensor, name="tensor")
        dt = tensor.dtype if dtype is None else dtypes.as_dtype(dtype)
        if optimize and tensor.shape.is_fully_defined():
            return zeros(tensor.shape.as_list(), dtype=dt, name=name)
        if dt != tensor.dtype:
            return zeros(core_ops.shape(tensor), dtype=dt, name=name)
        return ops.create_op("ZerosLike", [tensor], name=name).outputs[0]


def ones_like(tensor, dtype=None, name=None, optimize=True):
    """TF1 ``tf.ones_like``: ``ones(shape(tensor))``."""
    with ops.name_scope(name, "ones_like", [tensor]) as name:
        tensor = ops.convert_to_tensor(tensor, name="tensor")
        dt = tensor.dtype if dtype is None else dtypes.as_dtype(dtype)
        if optimize and tensor.shape.is_fully_defined():
            return ones(tensor.shape.as_list(), dtype=dt, name=name)
        return ones(core_ops.shape(tensor), dtype=dt, name=name)


# ============================================================================== Range

_RANGE_TYPES = ("float32", "float64", "int32", "int64")


def _range_size(ic, start, limit, delta, integral):
    if delta == 0:
        raise ValueError("Requires delta != 0: %s%s" % (delta, _where(ic)))
    if delta > 0 and start > limit:
        raise ValueError("Requires start <= limit when delta > 0: %s/%s%s"
                         % (start, limit, _where(ic)))
    if delta < 0 and start < limit:
        raise ValueError("Requires start >= limit when delta < 0: %s/%s%s"
                         % (start, limit, _where(ic)))
    if integral:
        return (abs(limit - start) + abs(delta) - 1) // abs(delta)
    return int(np.ceil(abs((limit - start) / delta)))


def _range_infer(ic):
    dt = ic.in_dtypes[0]
    if dt.name not in _RANGE_TYPES:
        raise TypeError("Value passed to parameter 'start' has DataType %s not in list of "
                        "allowed values: %s" % (dt.name, ", ".join(_RANGE_TYPES)))
    for i, p in ((1, "limit"), (2, "delta")):
        if ic.in_dtypes[i] != dt:
            raise TypeError("Input '%s' of 'Range' Op has type %s that does not match type %s "
                            "of argument 'start'." % (p, ic.in_dtypes[i].name, dt.name))
    for i in _py_range(3):
        _rank_check(ic, i, 0)
    vals = [ic.const(i) for i in _py_range(3)]
    if any(v is None for v in vals):
        return [(dt, unknown_shape(1))]
    s, l, d = (np.asarray(v).reshape(()).item() for v in vals)
    return [(dt, TensorShape([_range_size(ic, s, l, d, dt.is_integer)]))]


def _range_host(ic, start, limit, delta):
    dt = ic.in_dtypes[0].as_numpy_dtype
    s, l, d = (np.asarray(v).reshape(()).item() for v in (start, limit, delta))
    n = _range_size(ic, s, l, d, ic.in_dtypes[0].is_integer)
    return [(np.asarray(s, dt) + np.arange(n).astype(dt) * np.asarray(d, dt)).astype(dt)]


def _range_lower(lc):
    n = lc.num_elements(0, output=True)
    if n == 0:
        return
    dt = lc.out_dtypes[0]
    k = lc.kernel("range_fill", filename="array.cl",
                  defines={"K_range_fill": 1, "V": dt.ctype})
    lc.launch(k, [round_up(n, _LWS)], [_LWS],
              [lc.inputs[0], lc.inputs[2], lc.outputs[0], np.int64(n)])


_register("Range", _range_infer, _range_lower, _range_host)

_RANGE_ORDER = [dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64]


def _py_arg_dtype(a):
    if isinstance(a, (np.generic, np.ndarray)):
        return dtypes.as_dtype(np.asarray(a).dtype)
    if isinstance(a, bool):
        return dtypes.bool
    if isinstance(a, float):
        return dtypes.float32
    if isinstance(a, int):
        return dtypes.int32 if -2 ** 31 <= a < 2 ** 31 else dtypes.int64
    return dtypes.as_dtype(np.asarray(a).dtype)


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001 (TF's name)
    """TF1 ``tf.range``; without ``dtype`` the widest of the arguments' dtypes in the order
    int32 < int64 < float32 < float64 (Python ints are int32, floats float32)."""
    if limit is None:
        start, limit = 0, start
    with ops.name_scope(name, "Range", [start, limit, delta]) as name:
        args = [start, limit, delta]
        names = ("start", "limit", "delta")
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype)
        else:
            dts = [a.dtype if isinstance(a, ops.Tensor) else _py_arg_dtype(a) for a in args]
            for d in dts:
                if d not in _RANGE_ORDER:
                    raise TypeError("range() arguments must be int32, int64, float32 or "
                                    "float64, got %s" % d.name)
            dtype = max(dts, key=_RANGE_ORDER.index)
        out = []
        for a, n in zip(args, names):
            if isinstance(a, ops.Tensor):
                if a.dtype != dtype:
                    from pysession.ops import math_ops
                    a = math_ops.cast(a, dtype)
                out.append(a)
            else:
                out.append(ops.convert_to_tensor(a, dtype=dtype, name=n))
        return ops.create_op("Range", out, name=name).outputs[0]


# ============================================================================== Reshape

def _reshape_infer(ic):
    _check_int(ic, 1, "shape")
    _rank_check(ic, 1, 1)
    dt = ic.in_dtypes[0]
    in_s = ic.in_shapes[0]
    v = ic.const(1)
    if v is None:
        s = ic.in_shapes[1]
        if s.ndims == 1 and s.as_list()[0] is not None:
            return [(dt, unknown_shape(s.as_list()[0]))]
        return [(dt, unknown_shape())]
    shape = _int_list(v)
    unknown = [k for k, d in enumerate(shape) if d == -1]
    for d in shape:
        if d < -1:
            raise ValueError("Size %d must be non-negative, not %d%s"
                             % (shape.index(d), d, _where(ic)))
    if len(unknown) > 1:
        raise ValueError("Cannot infer multiple unknown dimensions in shape %s%s"
                         % (shape, _where(ic)))
    n_in = in_s.num_elements() if in_s.ndims is not None and in_s.is_fully_defined() else None
    known = _prod(d for d in shape if d != -1)
    if n_in is None:
        return [(dt, TensorShape([None if d == -1 else d for d in shape]))]
    if unknown:
        if known == 0:
            raise ValueError("Reshape cannot infer the missing input size for an empty tensor "
                             "unless all specified input sizes are non-zero%s" % _where(ic))
        if n_in % known:
            raise ValueError("Cannot reshape a tensor with %d elements to shape %s (%d "
                             "elements)%s" % (n_in, _shape_str(TensorShape(
                                 [None if d == -1 else d for d in shape])), known, _where(ic)))
        shape = [n_in // known if d == -1 else d for d in shape]
    elif known != n_in:
        raise ValueError("Cannot reshape a tensor with %d elements to shape %s (%d elements)%s"
                         % (n_in, _shape_str(TensorShape(shape)), known, _where(ic)))
    return [(dt, TensorShape(shape))]


def _reshape_host(ic, x, shape):
    return [np.reshape(x, _int_list(shape))]


_register("Reshape", _reshape_infer, _lower_alias, _reshape_host)


def _partial_shape_of(t):
    """TF's constant_value_as_shape, for a 1-D shape tensor: Pack of known/unknown scalars."""
    v = ops.constant_value(t)
    if v is not None:
        return [int(x) for x in np.asarray(v).reshape(-1)]
    if t.op.type == "Pack" and t.op.get_attr("axis") == 0:
        out = []
        for x in t.op.inputs:
            xv = ops.constant_value(x)
            out.append(None if xv is None else int(np.asarray(xv).reshape(())))
        return out
    return None


def reshape(tensor, shape, name=None):
    """TF1 ``tf.reshape`` (one -1 inferred); the result aliases the input buffer."""
    with ops.name_scope(name, "Reshape", [tensor, shape]) as name:
        tensor = ops.convert_to_tensor(tensor, name="tensor")
        shape_t = _as_shape_tensor(shape, "shape")
        out = ops.create_op("Reshape", [tensor, shape_t], name=name).outputs[0]
        if not out.shape.is_fully_defined():
            part = _partial_shape_of(shape_t)
            if part is not None and out.shape.ndims in (None, len(part)):
                out.set_shape(TensorShape([None if d is None or d < 0 else d for d in part]))
        return out


# ============================================================================== ExpandDims, Squeeze

def _expand_dims_infer(ic):
    _check_int(ic, 1, "dim")
    dt = ic.in_dtypes[0]
    v = ic.const(1)
    s = ic.in_shapes[0]
    if v is None or s.ndims is None:
        return [(dt, unknown_shape() if s.ndims is None else unknown_shape(s.ndims + 1))]
    vals = _int_list(v)
    if len(vals) != 1:
        raise ValueError("'dim' input must be a tensor with a single value%s" % _where(ic))
    axis = vals[0]
    rank = s.ndims
    if not -rank - 1 <= axis <= rank:
        raise ValueError("Tried to expand dim index %d for tensor with %d dimensions.%s"
                         % (axis, rank, _where(ic)[:-1]))
    if axis < 0:
        axis += rank + 1
    dims = s.as_list()
    return [(dt, TensorShape(dims[:axis] + [1] + dims[axis:]))]


def _expand_dims_host(ic, x, dim):
    axis = _scalar(dim)
    return [np.expand_dims(x, axis)]


_register("ExpandDims", _expand_dims_infer, _lower_alias, _expand_dims_host)


def expand_dims(input, axis=None, name=None, dim=None):  # noqa: A002
    """TF1 ``tf.expand_dims`` (``dim`` is the deprecated spelling of ``axis``)."""
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    if axis is None:
        axis = dim
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    with ops.name_scope(name, "ExpandDims", [input]) as name:
        input = ops.convert_to_tensor(input, name="input")
        axis = ops.convert_to_tensor(axis, dtype=None if isinstance(axis, ops.Tensor)
                                     else dtypes.int32, name="dim")
        return ops.create_op("ExpandDims", [input, axis], name=name).outputs[0]


def _squeeze_infer(ic):
    dt = ic.in_dtypes[0]
    s = ic.in_shapes[0]
    axes = list(ic.attrs.get("squeeze_dims") or [])
    if s.ndims is None:
        return [(dt, unknown_shape())]
    rank = s.ndims
    dims = s.as_list()
    canon = set()
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError("Tried to squeeze dim index %d for tensor with %d dimensions.%s"
                             % (a, rank, _where(ic)[:-1]))
        canon.add(a + rank if a < 0 else a)
    out = []
    for k, d in enumerate(dims):
        if canon:
            if k in canon:
                if d is not None and d != 1:
                    raise ValueError("Can not squeeze dim[%d], expected a dimension of 1, got "
                                     "%d%s" % (k, d, _where(ic)))
                continue
            out.append(d)
        else:
            if d is None:
                return [(dt, unknown_shape())]
            if d != 1:
                out.append(d)
    return [(dt, TensorShape(out))]


def _squeeze_host(ic, x):
    axes = list(ic.attrs.get("squeeze_dims") or [])
    return [np.squeeze(x, axis=tuple(axes) if axes else None)]


_register("Squeeze", _squeeze_infer, _lower_alias, _squeeze_host)


def squeeze(input, axis=None, name=None, squeeze_dims=None):  # noqa: A002
    """TF1 ``tf.squeeze`` (``squeeze_dims`` is the deprecated spelling of ``axis``)."""
    if axis is not None and squeeze_dims is not None:
        raise ValueError("Cannot specify both 'axis' and 'squeeze_dims'")
    if axis is None:
        axis = squeeze_dims
    if np.isscalar(axis):
        axis = [axis]
    with ops.name_scope(name, "Squeeze", [input]) as name:
        input = ops.convert_to_tensor(input, name="input")
        return ops.create_op("Squeeze", [input], {"squeeze_dims": [int(a) for a in axis or []]},
                             name=name).outputs[0]


# ============================================================================== Transpose

def _transpose_infer(ic):
    _check_int(ic, 1, "perm")
    dt = ic.in_dtypes[0]
    s = ic.in_shapes[0]
    v = ic.const(1)
    ps = ic.in_shapes[1]
    if v is None:
        if s.ndims is not None:
            return [(dt, unknown_shape(s.ndims))]
        if ps.ndims == 1 and ps.as_list()[0] is not None:
            return [(dt, unknown_shape(ps.as_list()[0]))]
        return [(dt, unknown_shape())]
    perm = _int_list(v)
    if s.ndims is None:
        return [(dt, unknown_shape(len(perm)))]
    rank = s.ndims
    if len(perm) != rank:
        raise ValueError("Dimension must be %d but is %d%s" % (rank, len(perm), _where(ic)))
    canon = [p + rank if p < 0 else p for p in perm]
    for p, c in zip(perm, canon):
        if not 0 <= c < rank:
            raise ValueError("perm dim %d is out of range of input rank %d%s"
                             % (p, rank, _where(ic)))
    if sorted(canon) != list(_py_range(rank)):
        raise ValueError("%s is not a valid permutation%s" % (perm, _where(ic)))
    dims = s.as_list()
    return [(dt, TensorShape([dims[c] for c in canon]))]


def _transpose_host(ic, x, perm):
    return [np.transpose(x, _int_list(perm))]


def _transpose_lower(lc):
    shape = list(lc.in_shapes[0])
    rank = len(shape)
    perm = [p + rank if p < 0 else p for p in _int_list(_lconst(lc, 1))]
    out_shape = [shape[p] for p in perm]
    ist = _strides(shape)
    _copy(lc, lc.inputs[0], lc.outputs[0], out_shape, [ist[p] for p in perm],
          _strides(out_shape), 0, 0, _esize(lc))


_register("Transpose", _transpose_infer, _transpose_lower, _transpose_host)


def transpose(a, perm=None, name="transpose", conjugate=False):
    """TF1 ``tf.transpose``; ``perm`` defaults to the reversed dims."""
    with ops.name_scope(name, "transpose", [a]) as name:
        a = ops.convert_to_tensor(a, name="a")
        if perm is None:
            if a.shape.ndims is not None:
                perm = list(_py_range(a.shape.ndims - 1, -1, -1))
            else:
                r = core_ops.rank(a)
                perm = range(r - 1, -1, -1)
        if not isinstance(perm, ops.Tensor):
            perm = ops.convert_to_tensor(perm, dtype=dtypes.int32, name="perm")
        return ops.create_op("Transpose", [a, perm], name=name).outputs[0]


# ============================================================================== ConcatV2, Pack

def _same_dtypes(ic, n, op_name, param="values"):
    dts = ic.in_dtypes[:n]
    if len(set(dts)) > 1:
        raise TypeError("Tensors in list passed to '%s' of '%s' Op have types [%s] that don't "
                        "all match." % (param, op_name, ", ".join(d.name for d in dts)))
    return dts[0]


def _merge_shapes(ic, shapes, skip_axis=None):
    """Merge shapes of equal rank (dims at ``skip_axis`` are not merged)."""
    known = [s for s in shapes if s.ndims is not None]
    if not known:
        return None
    rank = known[0].ndims
    out = [None] * rank
    first = None
    for i, s in enumerate(shapes):
        if s.ndims is None:
            continue
        if s.ndims != rank:
            raise ValueError("Shape must be rank %d but is rank %d%s"
                             % (rank, s.ndims, _where(ic)))
        for k, d in enumerate(s.as_list()):
            if k == skip_axis or d is None:
                continue
            if out[k] is None:
                out[k] = d
                first = first if first is not None else i
            elif out[k] != d:
                raise ValueError("Dimension %d in both shapes must be equal, but are %d and %d. "
                                 "Shapes are %s and %s.%s" % (
                                     k, out[k], d, _shape_str(shapes[0]), _shape_str(s),
                                     _where(ic)))
    return out


def _concat_infer(ic):
    n = ic.n_inputs - 1
    if n < 1:
        raise ValueError("ConcatV2 needs at least one value%s" % _where(ic))
    dt = _same_dtypes(ic, n, "ConcatV2")
    _check_int(ic, n, "axis")
    _rank_check(ic, n, 0)
    shapes = ic.in_shapes[:n]
    av = ic.const(n)
    known = [s for s in shapes if s.ndims is not None]
    if av is None:
        if not known:
            return [(dt, unknown_shape())]
        return [(dt, unknown_shape(known[0].ndims))]
    axis = _scalar(av)
    if not known:
        return [(dt, unknown_shape())]
    rank = known[0].ndims
    if rank == 0:
        raise ValueError("Can't concatenate scalars (use tf.stack instead)%s" % _where(ic))
    if not -rank <= axis < rank:
        raise ValueError("Expected concatenating dimensions in the range [%d, %d), but got %d"
                         "%s" % (-rank, rank, axis, _where(ic)))
    axis = axis + rank if axis < 0 else axis
    out = _merge_shapes(ic, shapes, skip_axis=axis)
    tot = 0
    for s in shapes:
        d = None if s.ndims is None else s.as_list()[axis]
        if d is None or tot is None:
            tot = None
        else:
            tot += d
    out[axis] = tot
    return [(dt, TensorShape(out))]


def _concat_host(ic, *vals):
    return [np.concatenate(vals[:-1], axis=_scalar(vals[-1]))]


def _concat_lower(lc):
    n = len(lc.inputs) - 1
    out_shape = list(lc.out_shapes[0])
    rank = len(out_shape)
    axis = _scalar(_lconst(lc, n))
    axis = axis + rank if axis < 0 else axis
    outer = _prod(out_shape[:axis])
    out_inner = _prod(out_shape[axis:])
    es = _esize(lc, 0, True)
    off = 0
    for j in _py_range(n):
        inner = _prod(lc.in_shapes[j][axis:])
        if inner and outer:
            if outer == 1:
                lc.copy(lc.outputs[0], lc.inputs[j], inner * es, off * es, 0)
            else:
                _copy(lc, lc.inputs[j], lc.outputs[0], [outer, inner], [inner, 1],
                      [out_inner, 1], 0, off, es)
        off += inner


_register("ConcatV2", _concat_infer, _concat_lower, _concat_host)


def concat(values, axis, name="concat"):
    """TF1 ``tf.concat``; one value gives an Identity."""
    if not isinstance(values, (list, tuple)):
        values = [values]
    if len(values) == 1:
        with ops.name_scope(name) as scope:
            ax = ops.convert_to_tensor(axis, name="concat_dim", dtype=dtypes.int32)
            if ax.shape.ndims not in (None, 0):
                raise ValueError("Shape must be rank 0 but is rank %d" % ax.shape.ndims)
            return core_ops.identity(values[0], name=scope)
    with ops.name_scope(name, "concat", list(values) + [axis]) as name:
        values = _convert_list(values, "values")
        axis = ops.convert_to_tensor(axis, dtype=None if isinstance(axis, ops.Tensor)
                                     else dtypes.int32, name="axis")
        return ops.create_op("ConcatV2", values + [axis], {"N": len(values)},
                             name=name).outputs[0]


def _convert_list(values, what):
    dtype = next((v.dtype for v in values if isinstance(v, ops.Tensor)), None)
    return [ops.convert_to_tensor(v, dtype=dtype, name="%s_%d" % (what, i))
            if not isinstance(v, ops.Tensor) else v for i, v in enumerate(values)]


def _pack_infer(ic):
    n = ic.n_inputs
    if n < 1:
        raise ValueError("Pack needs at least one value%s" % _where(ic))
    dt = _same_dtypes(ic, n, "Pack")
    axis = int(ic.attrs.get("axis", 0))
    out = _merge_shapes(ic, ic.in_shapes)
    if out is None:
        return [(dt, unknown_shape())]
    rank = len(out) + 1
    if not -rank <= axis < rank:
        raise ValueError("Invalid axis: %d; must be in [%d,%d)%s" % (axis, -rank, rank,
                                                                      _where(ic)))
    axis = axis + rank if axis < 0 else axis
    return [(dt, TensorShape(out[:axis] + [n] + out[axis:]))]


def _pack_host(ic, *vals):
    return [np.stack(vals, axis=int(ic.attrs.get("axis", 0)))]


def _pack_lower(lc):
    n = len(lc.inputs)
    out_shape = list(lc.out_shapes[0])
    axis = int(lc.attrs.get("axis", 0))
    axis = axis + len(out_shape) if axis < 0 else axis
    in_shape = list(lc.in_shapes[0])
    outer = _prod(in_shape[:axis])
    inner = _prod(in_shape[axis:])
    es = _esize(lc, 0, True)
    if not inner or not outer:
        return
    for j in _py_range(n):
        if outer == 1:
            lc.copy(lc.outputs[0], lc.inputs[j], inner * es, j * inner * es, 0)
        else:
            _copy(lc, lc.inputs[j], lc.outputs[0], [outer, inner], [inner, 1],
                  [n * inner, 1], 0, j * inner, es)


_register("Pack", _pack_infer, _pack_lower, _pack_host)


def stack(values, axis=0, name="stack"):
    """TF1 ``tf.stack``: a Const when every value is constant and ``axis`` is 0, else Pack."""
    from pysession.framework.tensor_util import _contains_tensor
    if isinstance(values, ops.Tensor) and axis == 0:
        return values
    values = list(values) if isinstance(values, (list, tuple)) else values
    if axis == 0 and not _contains_tensor(values):
        try:
            return ops.convert_to_tensor(values, name=name)
        except (TypeError, ValueError):
            pass
    if not isinstance(values, (list, tuple)):
        values = unstack(values)
    with ops.name_scope(name, "stack", values) as scope:
        values = _convert_list(values, "values")
        s = values[0].shape
        if s.ndims is not None:
            r = s.ndims + 1
            if not -r <= axis < r:
                raise ValueError("axis = %d not in [%d, %d)" % (axis, -r, r))
        return ops.create_op("Pack", values, {"axis": int(axis), "N": len(values)},
                             name=scope).outputs[0]


# ============================================================================== Unpack, Split

def _unpack_infer(ic):
    dt = ic.in_dtypes[0]
    num = int(ic.attrs["num"])
    axis = int(ic.attrs.get("axis", 0))
    s = ic.in_shapes[0]
    if s.ndims is None:
        return [(dt, unknown_shape())] * num
    rank = s.ndims
    if not -rank <= axis < rank:
        raise ValueError("axis = %d not in [%d, %d)%s" % (axis, -rank, rank, _where(ic)))
    axis = axis + rank if axis < 0 else axis
    dims = s.as_list()
    if dims[axis] is not None and dims[axis] != num:
        raise ValueError("Dimension must be %d but is %d%s" % (num, dims[axis], _where(ic)))
    return [(dt, TensorShape(dims[:axis] + dims[axis + 1:]))] * num


def _unpack_host(ic, x):
    axis = int(ic.attrs.get("axis", 0))
    return [np.take(x, i, axis=axis) for i in _py_range(x.shape[axis])]


def _unpack_lower(lc):
    shape = list(lc.in_shapes[0])
    axis = int(lc.attrs.get("axis", 0))
    axis = axis + len(shape) if axis < 0 else axis
    _split_generic(lc, lc.inputs[0], shape, axis, [1] * shape[axis], _esize(lc))


_register("Unpack", _unpack_infer, _unpack_lower, _unpack_host)


def unstack(value, num=None, axis=0, name="unstack"):
    """TF1 ``tf.unstack``: ``num`` outputs along ``axis`` (inferred from the static shape)."""
    with ops.name_scope(name, "unstack", [value]) as name:
        value = ops.convert_to_tensor(value, name="value")
        if num is None:
            s = value.shape
            if s.ndims is None:
                raise ValueError("Cannot infer num from shape %s" % s)
            r = s.ndims
            if not -r <= axis < r:
                raise ValueError("axis = %d not in [%d, %d)" % (axis, -r, r))
            num = s.as_list()[axis]
            if num is None:
                raise ValueError("Cannot infer num from shape %s" % s)
        return list(ops.create_op("Unpack", [value], {"num": int(num), "axis": int(axis)},
                                  name=name).outputs)


def _split_infer(ic):
    _check_int(ic, 0, "split_dim", ("int32",))
    dt = ic.in_dtypes[1]
    num = int(ic.attrs["num_split"])
    s = ic.in_shapes[1]
    av = ic.const(0)
    if s.ndims is None:
        return [(dt, unknown_shape())] * num
    if av is None:
        return [(dt, unknown_shape(s.ndims))] * num
    rank = s.ndims
    axis = _scalar(av)
    if not -rank <= axis < rank:
        raise ValueError("Dimension %d must be in range [%d, %d)%s"
                         % (axis, -rank, rank, _where(ic)))
    axis = axis + rank if axis < 0 else axis
    dims = s.as_list()
    d = dims[axis]
    if d is not None:
        if num <= 0 or d % num:
            raise ValueError("Dimension size must be evenly divisible by %d but is %d%s"
                             % (num, d, _where(ic)))
        d //= num
    return [(dt, TensorShape(dims[:axis] + [d] + dims[axis + 1:]))] * num


def _split_host(ic, axis, x):
    return np.split(x, int(ic.attrs["num_split"]), axis=_scalar(axis))


def _split_lower(lc):
    shape = list(lc.in_shapes[1])
    axis = _scalar(_lconst(lc, 0))
    axis = axis + len(shape) if axis < 0 else axis
    num = len(lc.outputs)
    es = lc.in_dtypes[1].size
    lc_in = lc.inputs[1]
    _split_generic(lc, lc_in, shape, axis, [shape[axis] // num] * num, es)


def _split_generic(lc, src, shape, axis, sizes, es):
    outer = _prod(shape[:axis])
    in_inner = _prod(shape[axis:])
    rest = _prod(shape[axis + 1:])
    off = 0
    for j, sz in enumerate(sizes):
        inner = sz * rest
        if inner and outer:
            dst = lc.outputs[j]
            if outer == 1:
                lc.copy(dst, src, inner * es, 0, off * es)
            else:
                _copy(lc, src, dst, [outer, inner], [in_inner, 1], [inner, 1], off, 0, es)
        off += inner


_register("Split", _split_infer, _split_lower, _split_host)


def _splitv_sizes(ic, d, num):
    v = ic.const(1)
    if v is None:
        return None
    sizes = _int_list(v)
    if len(sizes) != num:
        raise ValueError("Length of size_splits should be equal to num_split (%d vs %d)%s"
                         % (len(sizes), num, _where(ic)))
    unknown = [k for k, x in enumerate(sizes) if x == -1]
    if len(unknown) > 1:
        raise ValueError("Only one dimensions can have a value of -1. Second one found at "
                         "dimension %d%s" % (unknown[1], _where(ic)))
    if d is None:
        return [None if x == -1 else x for x in sizes]
    known = sum(x for x in sizes if x != -1)
    if unknown:
        if known > d:
            raise ValueError("The specified sizes %s sum to %d, more than the dimension size "
                             "%d%s" % (sizes, known, d, _where(ic)))
        sizes[unknown[0]] = d - known
    elif known != d:
        raise ValueError("Determined shape must either match input shape along split_dim "
                         "exactly if fully specified, or be less than the size of the input "
                         "along split_dim if not fully specified.  Got: %d%s"
                         % (known, _where(ic)))
    if any(x < 0 for x in sizes):
        raise ValueError("Split sizes must be >= 0 (or -1), got %s%s" % (sizes, _where(ic)))
    return sizes


def _splitv_infer(ic):
    _check_int(ic, 1, "size_splits")
    _check_int(ic, 2, "split_dim", ("int32",))
    dt = ic.in_dtypes[0]
    num = int(ic.attrs["num_split"])
    s = ic.in_shapes[0]
    av = ic.const(2)
    if s.ndims is None:
        return [(dt, unknown_shape())] * num
    if av is None:
        return [(dt, unknown_shape(s.ndims))] * num
    rank = s.ndims
    axis = _scalar(av)
    if not -rank <= axis < rank:
        raise ValueError("Dimension %d must be in range [%d, %d)%s"
                         % (axis, -rank, rank, _where(ic)))
    axis = axis + rank if axis < 0 else axis
    dims = s.as_list()
    sizes = _splitv_sizes(ic, dims[axis], num)
    if sizes is None:
        return [(dt, TensorShape(dims[:axis] + [None] + dims[axis + 1:]))] * num
    return [(dt, TensorShape(dims[:axis] + [x] + dims[axis + 1:])) for x in sizes]


def _splitv_host(ic, x, sizes, axis):
    axis = _scalar(axis)
    sizes = _int_list(sizes)
    if -1 in sizes:
        sizes[sizes.index(-1)] = x.shape[axis] - (sum(sizes) + 1)
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


def _splitv_lower(lc):
    shape = list(lc.in_shapes[0])
    axis = _scalar(_lconst(lc, 2))
    axis = axis + len(shape) if axis < 0 else axis
    sizes = [s[axis] for s in lc.out_shapes]
    _split_generic(lc, lc.inputs[0], shape, axis, sizes, lc.in_dtypes[0].size)


_register("SplitV", _splitv_infer, _splitv_lower, _splitv_host)


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """TF1 ``tf.split``: an int gives ``Split`` (even pieces), a list ``SplitV`` (one -1)."""
    with ops.name_scope(name, "split", [value, num_or_size_splits, axis]) as name:
        value = ops.convert_to_tensor(value, name="value")
        axis_t = axis if isinstance(axis, ops.Tensor) else \
            ops.convert_to_tensor(axis, dtype=dtypes.int32, name="axis")
        if isinstance(num_or_size_splits, (int, np.integer)) and \
                not isinstance(num_or_size_splits, bool):
            return list(ops.create_op("Split", [axis_t, value],
                                      {"num_split": int(num_or_size_splits)},
                                      name=name).outputs)
        sizes = num_or_size_splits
        if not isinstance(sizes, ops.Tensor):
            sizes = ops.convert_to_tensor(sizes, name="size_splits")
            if sizes.dtype not in (dtypes.int32, dtypes.int64):
                sizes = ops.convert_to_tensor(num_or_size_splits, dtype=dtypes.int32,
                                              name="size_splits")
        if num is None:
            s = sizes.shape
            if s.ndims == 1 and s.as_list()[0] is not None:
                num = s.as_list()[0]
            else:
                raise ValueError("Cannot infer num from shape %s" % s)
        return list(ops.create_op("SplitV", [value, sizes, axis_t], {"num_split": int(num)},
                                  name=name).outputs)


# ============================================================================== Slice

def _slice_infer(ic):
    _check_int(ic, 1, "begin")
    dt = ic.in_dtypes[0]
    s = ic.in_shapes[0]
    bv, sv = ic.const(1), ic.const(2)
    if ic.in_dtypes[2] != ic.in_dtypes[1]:
        raise TypeError("Input 'size' of 'Slice' Op has type %s that does not match type %s of "
                        "argument 'begin'." % (ic.in_dtypes[2].name, ic.in_dtypes[1].name))
    _rank_check(ic, 1, 1)
    _rank_check(ic, 2, 1)
    rank = s.ndims
    n = None
    for i in (1, 2):
        sh = ic.in_shapes[i]
        if sh.ndims == 1 and sh.as_list()[0] is not None:
            n = sh.as_list()[0]
    if rank is not None and n is not None and n != rank:
        raise ValueError("Shape must be rank %d but is rank %d%s" % (n, rank, _where(ic)))
    if rank is None:
        rank = n
    if rank is None:
        return [(dt, unknown_shape())]
    if sv is None:
        return [(dt, unknown_shape(rank))]
    size = _int_list(sv)
    dims = s.as_list() if s.ndims is not None else [None] * rank
    begin = _int_list(bv)
    out = []
    for k in _py_range(rank):
        sz, d = size[k], dims[k]
        b = None if begin is None else begin[k]
        if sz == -1:
            if d is None or b is None:
                out.append(None)
                continue
            sz = d - b
        if b is not None and d is not None:
            if b < 0 or b > d or sz < 0 or b + sz > d:
                raise ValueError("Expected size[%d] in [0, %d], but got %d%s" % (
                    k, max(d - b, 0), sz, _where(ic)) if 0 <= b <= d else
                    "Expected begin[%d] in [0, %d], but got %d%s" % (k, d, b, _where(ic)))
        elif sz < 0:
            raise ValueError("Expected size[%d] >= -1, but got %d%s" % (k, sz, _where(ic)))
        out.append(sz)
    return [(dt, TensorShape(out))]


def _slice_host(ic, x, begin, size):
    begin = _int_list(begin)
    size = _int_list(size)
    idx = tuple(_py_slice(b, x.shape[k] if s == -1 else b + s)
                for k, (b, s) in enumerate(zip(begin, size)))
    return [x[idx]]


def _slice_lower(lc):
    shape = list(lc.in_shapes[0])
    begin = _int_list(_lconst(lc, 1))
    if begin is None:
        raise errors.UnimplementedError(lc.op.node_def, lc.op, "%s: Slice needs a constant "
                                        "begin in pysession" % lc.op.name)
    out_shape = list(lc.out_shapes[0])
    ist = _strides(shape)
    base = sum(b * s for b, s in zip(begin, ist))
    _copy(lc, lc.inputs[0], lc.outputs[0], out_shape, ist, _strides(out_shape), base, 0,
          _esize(lc))


_register("Slice", _slice_infer, _slice_lower, _slice_host)


def slice(input_, begin, size, name=None):  # noqa: A001 (TF's name)
    """TF1 ``tf.slice``; ``size[i] == -1`` takes the rest of dim i."""
    with ops.name_scope(name, "Slice", [input_, begin, size]) as name:
        input_ = ops.convert_to_tensor(input_, name="input")
        begin = _as_index_tensor(begin, "begin")
        size = _as_index_tensor(size, "size", begin.dtype)
        return ops.create_op("Slice", [input_, begin, size], name=name).outputs[0]


def _as_index_tensor(v, name, dtype=None):
    if isinstance(v, ops.Tensor):
        return v
    from pysession.framework.tensor_util import _contains_tensor
    if isinstance(v, (list, tuple)) and _contains_tensor(v):
        return stack(list(v), name=name)
    t = ops.convert_to_tensor(v, dtype=dtype, name=name) if dtype is not None else None
    if t is None:
        t = ops.convert_to_tensor(v, name=name)
        if t.dtype not in (dtypes.int32, dtypes.int64):
            t = ops.convert_to_tensor(v, dtype=dtypes.int32, name=name)
    return t


# ============================================================================== StridedSlice

_NEW, _SHRINK = "new", "shrink"


def _strided_spec(where, shape, begin, end, strides, bm, em, elm, nam, sam):
    """TF's ValidateStridedSliceOp.  ``shape``: input dims (int/None); begin/end/strides:
    lists (entries int, or None when unknown).  Returns (dense, final) where dense is a list
    per input dim of (begin, size, stride) (None where unknown) and final the output dims."""
    nsparse = len(begin)
    if elm & (elm - 1):
        raise ValueError("Multiple ellipses in slice spec not allowed%s" % where)
    if not elm:
        elm = 1 << nsparse
        begin, end, strides = begin + [0], end + [0], strides + [1]
        nsparse += 1
    rank = len(shape)
    epos = elm.bit_length() - 1
    n_new_after = sum(1 for i in _py_range(epos + 1, nsparse) if nam & (1 << i))
    dense = [None] * rank
    gather = []
    full = 0
    for i in _py_range(nsparse):
        bit = 1 << i
        if elm & bit:
            nxt = min(rank - (nsparse - i) + 1 + n_new_after, rank)
            while full < nxt:
                dense[full] = (0, 0, 1, True, True, False)
                gather.append(full)
                full += 1
        elif nam & bit:
            gather.append(_NEW)
        else:
            if full >= rank:
                raise ValueError("Index out of range using input dim %d; input has only %d "
                                 "dims%s" % (full, rank, where))
            dense[full] = (begin[i], end[i], strides[i], bool(bm & bit), bool(em & bit),
                           bool(sam & bit))
            gather.append(_SHRINK if sam & bit else full)
            full += 1
    for k in _py_range(rank):
        if dense[k] is None:
            dense[k] = (0, 0, 1, True, True, False)
    out_dense = []
    sizes = []
    for k in _py_range(rank):
        b, e, st, bmask, emask, shrink = dense[k]
        d = shape[k]
        if st == 0:
            raise ValueError("strides[%d] must be non-zero%s" % (k, where))
        if shrink:
            if st is not None and st < 0:
                raise ValueError("only stride 1 allowed on non-range indexing.%s" % where)
            if b is not None and d is not None:
                xf = b + d if b < 0 else b
                if not 0 <= xf < d:
                    raise ValueError("slice index %d of dimension %d out of bounds.%s"
                                     % (b, k, where))
                out_dense.append((xf, 1, 1))
            else:
                out_dense.append((None, 1, 1))
            sizes.append(1)
            continue
        if d is None or st is None or (b is None and not bmask) or (e is None and not emask):
            out_dense.append((None, None, st))
            sizes.append(None)
            continue
        lo, hi = (0, d) if st > 0 else (-1, d - 1)

        def canon(x, c, masked):
            if masked:
                return (lo, hi)[c] if st > 0 else (lo, hi)[(c + 1) & 1]
            xf = x + d if x < 0 else x
            return lo if xf < lo else hi if xf > hi else xf
        b = canon(b, 0, bmask)
        e = canon(e, 1, emask)
        length = e - b
        if length == 0 or (length < 0) != (st < 0):
            size = 0
        else:
            q, r = divmod(abs(length), abs(st))
            size = q + (1 if r else 0)
        out_dense.append((b, size, st))
        sizes.append(size)
    final = []
    for gi in gather:
        if gi == _NEW:
            final.append(1)
        elif gi != _SHRINK:
            final.append(sizes[gi])
    return out_dense, final


_SS_ATTRS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


def _ss_args(ic_or_lc, begin, end, strides, n):
    def lst(v):
        return [None] * n if v is None else _int_list(v)
    a = ic_or_lc.attrs
    return (lst(begin), lst(end), lst(strides)) + tuple(int(a.get(k, 0)) for k in _SS_ATTRS)


def _strided_slice_infer(ic):
    _check_int(ic, 1, "begin")
    dt = ic.in_dtypes[0]
    for i, p in ((2, "end"), (3, "strides")):
        if ic.in_dtypes[i] != ic.in_dtypes[1]:
            raise TypeError("Input '%s' of 'StridedSlice' Op has type %s that does not match "
                            "type %s of argument 'begin'." % (p, ic.in_dtypes[i].name,
                                                              ic.in_dtypes[1].name))
    for i in (1, 2, 3):
        _rank_check(ic, i, 1)
    s = ic.in_shapes[0]
    n = None
    for i in (1, 2, 3):
        sh = ic.in_shapes[i]
        if sh.ndims == 1 and sh.as_list()[0] is not None:
            if n is not None and sh.as_list()[0] != n:
                raise ValueError("Expected begin, end, and strides to be 1D equal size tensors"
                                 "%s" % _where(ic))
            n = sh.as_list()[0]
    if s.ndims is None or n is None:
        return [(dt, unknown_shape())]
    args = _ss_args(ic, ic.const(1), ic.const(2), ic.const(3), n)
    _, final = _strided_spec(_where(ic), s.as_list(), *args)
    return [(dt, TensorShape(final))]


def _strided_slice_host(ic, x, begin, end, strides):
    args = _ss_args(ic, begin, end, strides, len(_int_list(begin)))
    dense, final = _strided_spec("", list(x.shape), *args)
    idx = np.ix_(*[b + st * np.arange(sz) for b, sz, st in dense]) if dense else ()
    return [np.asarray(x[idx]).reshape(final)]


def _strided_slice_lower(lc):
    shape = list(lc.in_shapes[0])
    n = lc.in_shapes[1][0] if lc.in_shapes[1] else 0
    vals = [_lconst(lc, i) for i in (1, 2, 3)]
    if any(v is None for v in vals):
        raise errors.UnimplementedError(
            lc.op.node_def, lc.op, "%s: StridedSlice needs constant begin/end/strides in "
            "pysession" % lc.op.name)
    dense, _ = _strided_spec("", shape, *_ss_args(lc, *vals, n))
    ist = _strides(shape)
    base = sum(b * s for (b, _, _), s in zip(dense, ist))
    dims = [sz for _, sz, _ in dense]
    _copy(lc, lc.inputs[0], lc.outputs[0], dims, [st * s for (_, _, st), s in zip(dense, ist)],
          _strides(dims), base, 0, _esize(lc))


_register("StridedSlice", _strided_slice_infer, _strided_slice_lower, _strided_slice_host)


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    """TF1 ``tf.strided_slice`` (the op ``Tensor.__getitem__`` builds)."""
    with ops.name_scope(name, "StridedSlice", [input_, begin, end, strides]) as name:
        input_ = ops.convert_to_tensor(input_, name="input")
        begin = _as_index_tensor(begin, "begin")
        end = _as_index_tensor(end, "end", begin.dtype)
        if strides is None:
            strides = ones_like(begin)
        strides = _as_index_tensor(strides, "strides", begin.dtype)
        attrs = {"begin_mask": int(begin_mask), "end_mask": int(end_mask),
                 "ellipsis_mask": int(ellipsis_mask), "new_axis_mask": int(new_axis_mask),
                 "shrink_axis_mask": int(shrink_axis_mask)}
        return ops.create_op("StridedSlice", [input_, begin, end, strides], attrs,
                             name=name).outputs[0]


def _check_index(idx):
    if isinstance(idx, ops.Tensor):
        if idx.dtype in (dtypes.int32, dtypes.int64) and idx.shape.ndims in (None, 0):
            return
    elif isinstance(idx, (int, np.integer)) and not isinstance(idx, (bool, np.bool_)):
        return
    raise TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and "
                    "scalar tf.int32/tf.int64 tensors are valid indices, got %r" % (idx,))


def _slice_helper(tensor, slice_spec, var=None):
    """``tensor[slice_spec]`` as TF1 builds it: one StridedSlice."""
    if isinstance(slice_spec, (bool, np.bool_)) or \
            (isinstance(slice_spec, ops.Tensor) and slice_spec.dtype == dtypes.bool) or \
            (isinstance(slice_spec, np.ndarray) and slice_spec.dtype == bool):
        raise TypeError("Boolean-mask indexing (tf.boolean_mask) is not supported by pysession")
    if not isinstance(slice_spec, (list, tuple)):
        slice_spec = [slice_spec]
    begin, end, strides = [], [], []
    index = 0
    new_axis_mask = shrink_axis_mask = begin_mask = end_mask = ellipsis_mask = 0
    for s in slice_spec:
        if isinstance(s, _py_slice):
            if s.start is not None:
                _check_index(s.start)
                begin.append(s.start)
            else:
                begin.append(0)
                begin_mask |= 1 << index
            if s.stop is not None:
                _check_index(s.stop)
                end.append(s.stop)
            else:
                end.append(0)
                end_mask |= 1 << index
            if s.step is not None:
                _check_index(s.step)
                strides.append(s.step)
            else:
                strides.append(1)
        elif s is Ellipsis:
            begin.append(0)
            end.append(0)
            strides.append(1)
            ellipsis_mask |= 1 << index
        elif s is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            new_axis_mask |= 1 << index
        else:
            _check_index(s)
            begin.append(s)
            end.append(s + 1)
            strides.append(1)
            shrink_axis_mask |= 1 << index
        index += 1
    with ops.name_scope(None, "strided_slice", [tensor] + begin + end + strides) as name:
        if begin:
            pb, pe, ps = stack(begin), stack(end), stack(strides)
            if dtypes.int64 in (pb.dtype, pe.dtype, ps.dtype):
                from pysession.ops import math_ops
                pb, pe, ps = (t if t.dtype == dtypes.int64 else math_ops.cast(t, dtypes.int64)
                              for t in (pb, pe, ps))
        else:
            pb = pe = ps = core_ops.constant([], dtype=dtypes.int32)
        return strided_slice(tensor, pb, pe, ps, begin_mask=begin_mask, end_mask=end_mask,
                             shrink_axis_mask=shrink_axis_mask, new_axis_mask=new_axis_mask,
                             ellipsis_mask=ellipsis_mask, var=var, name=name)


# ============================================================================== GatherV2

def _gather_infer(ic):
    _check_int(ic, 1, "indices")
    _check_int(ic, 2, "axis")
    _rank_check(ic, 2, 0)
    dt = ic.in_dtypes[0]
    ps, is_ = ic.in_shapes[0], ic.in_shapes[1]
    av = ic.const(2)
    if av is None or ps.ndims is None or is_.ndims is None:
        return [(dt, unknown_shape())]
    axis = _scalar(av)
    rank = ps.ndims
    if not -rank <= axis < rank:
        raise ValueError("Shape must be at least rank %d but is rank %d%s"
                         % ((axis + 1 if axis >= 0 else -axis), rank, _where(ic)))
    axis = axis + rank if axis < 0 else axis
    pd = ps.as_list()
    return [(dt, TensorShape(pd[:axis] + is_.as_list() + pd[axis + 1:]))]


def _gather_host(ic, params, indices, axis):
    axis = _scalar(axis)
    n = params.shape[axis]
    if np.any((indices < 0) | (indices >= n)):
        raise ValueError("index out of range")
    return [np.take(params, indices, axis=axis)]


def _gather_lower(lc):
    n = lc.num_elements(0, output=True)
    if n == 0:
        return
    shape = list(lc.in_shapes[0])
    axis = _scalar(_lconst(lc, 2))
    axis = axis + len(shape) if axis < 0 else axis
    inner = _prod(shape[axis + 1:])
    nidx = lc.num_elements(1)
    axis_dim = shape[axis]
    err, code = lc.error_flag("indices is not in [0, %d) (an index of %s is out of range)"
                              % (axis_dim, lc.op.inputs[1].name))
    ctype, npi = _idx_type(n, lc.num_elements(0), nidx)
    ti = lc.in_dtypes[1].ctype
    k = lc.kernel("gather", filename="array.cl",
                  defines={"K_gather": 1, "T": _UTYPE[_esize(lc)], "I": ctype, "TI": ti})
    params = lc.inputs[0] if lc.inputs[0] is not None else lc.temp(8)
    lc.launch(k, [round_up(n, _LWS)], [_LWS],
              [params, lc.inputs[1], lc.outputs[0], err, code, npi(n), npi(inner), npi(nidx),
               npi(axis_dim)])


_register("GatherV2", _gather_infer, _gather_lower, _gather_host)


def gather(params, indices, validate_indices=None, name=None, axis=0, batch_dims=0):
    """TF1 ``tf.gather`` (GatherV2); an index out of range raises InvalidArgumentError when
    run."""
    if batch_dims:
        raise NotImplementedError("gather with batch_dims is not supported by pysession")
    with ops.name_scope(name, "GatherV2", [params, indices, axis]) as name:
        params = ops.convert_to_tensor(params, name="params")
        indices = ops.convert_to_tensor(indices, name="indices")
        axis = axis if isinstance(axis, ops.Tensor) else \
            ops.convert_to_tensor(axis, dtype=dtypes.int32, name="axis")
        return ops.create_op("GatherV2", [params, indices, axis], name=name).outputs[0]


# ============================================================================== Tile

def _tile_infer(ic):
    _check_int(ic, 1, "multiples")
    _rank_check(ic, 1, 1)
    dt = ic.in_dtypes[0]
    s = ic.in_shapes[0]
    ms = ic.in_shapes[1]
    if s.ndims is not None and ms.ndims == 1 and ms.as_list()[0] is not None and \
            ms.as_list()[0] != s.ndims:
        raise ValueError("Shape must be rank %d but is rank %d%s"
                         % (ms.as_list()[0], s.ndims, _where(ic)))
    v = ic.const(1)
    if s.ndims is None:
        return [(dt, unknown_shape() if v is None else unknown_shape(len(_int_list(v))))]
    if v is None:
        return [(dt, unknown_shape(s.ndims))]
    mult = _int_list(v)
    for m in mult:
        if m < 0:
            raise ValueError("Expected multiples[%d] >= 0, but got %d%s"
                             % (mult.index(m), m, _where(ic)))
    return [(dt, TensorShape([None if d is None else d * m
                              for d, m in zip(s.as_list(), mult)]))]


def _tile_host(ic, x, mult):
    return [np.tile(x, _int_list(mult))]


def _tile_lower(lc):
    shape = list(lc.in_shapes[0])
    mult = _int_list(_lconst(lc, 1))
    dims, ist = [], []
    st = _strides(shape)
    for d, m, s in zip(shape, mult, st):
        dims += [m, d]
        ist += [0, s]
    _copy(lc, lc.inputs[0], lc.outputs[0], dims, ist, _strides(dims), 0, 0, _esize(lc))


_register("Tile", _tile_infer, _tile_lower, _tile_host)


def tile(input, multiples, name=None):  # noqa: A002
    """TF1 ``tf.tile``."""
    with ops.name_scope(name, "Tile", [input, multiples]) as name:
        input = ops.convert_to_tensor(input, name="input")
        multiples = _as_index_tensor(multiples, "multiples")
        return ops.create_op("Tile", [input, multiples], name=name).outputs[0]


# ============================================================================== Pad, MirrorPad

def _pad_infer(ic):
    _check_int(ic, 1, "paddings")
    dt = ic.in_dtypes[0]
    if ic.op_type == "PadV2":
        if ic.in_dtypes[2] != dt:
            raise TypeError("Input 'constant_values' of 'PadV2' Op has type %s that does not "
                            "match type %s of argument 'input'." % (ic.in_dtypes[2].name,
                                                                   dt.name))
        _rank_check(ic, 2, 0)
    s = ic.in_shapes[0]
    psh = ic.in_shapes[1]
    if psh.ndims is not None:
        if psh.ndims != 2:
            raise ValueError("Shape must be rank 2 but is rank %d%s" % (psh.ndims, _where(ic)))
        pl = psh.as_list()
        if pl[1] is not None and pl[1] != 2:
            raise ValueError("Dimension 1 in both shapes must be equal, but are %d and 2%s"
                             % (pl[1], _where(ic)))
        if s.ndims is not None and pl[0] is not None and pl[0] != s.ndims:
            raise ValueError("The first dimension of paddings must be the rank of inputs"
                             "[%d,2], %s%s" % (pl[0], _shape_str(s), _where(ic)))
    v = ic.const(1)
    if v is None:
        if s.ndims is not None:
            return [(dt, unknown_shape(s.ndims))]
        return [(dt, unknown_shape())]
    p = np.asarray(v).reshape(-1, 2)
    if (p < 0).any():
        raise ValueError("Paddings must be non-negative%s" % _where(ic))
    dims = s.as_list() if s.ndims is not None else [None] * p.shape[0]
    if ic.op_type == "MirrorPad" and s.ndims is not None:
        sym = ic.attrs.get("mode") == "SYMMETRIC"
        for k, d in enumerate(dims):
            if d is None:
                continue
            lim = d if sym else d - 1
            if p[k, 0] > lim or p[k, 1] > lim:
                raise ValueError("paddings must be less than%s the dimension size: %d, %d not "
                                 "less than %d%s" % (" or equal to" if sym else "", p[k, 0],
                                                     p[k, 1], d, _where(ic)))
    return [(dt, TensorShape([None if d is None else d + int(a) + int(b)
                              for d, (a, b) in zip(dims, p)]))]


def _pad_host(ic, x, paddings, value=None):
    p = np.asarray(paddings).reshape(-1, 2)
    if ic.op_type == "MirrorPad":
        mode = "reflect" if ic.attrs.get("mode") == "REFLECT" else "symmetric"
        return [np.pad(x, p, mode=mode)]
    cv = 0 if value is None else np.asarray(value).reshape(())
    return [np.pad(x, p, mode="constant", constant_values=cv)]


def _pad_lower(lc):
    out_shape = list(lc.out_shapes[0])
    n = lc.num_elements(0, output=True)
    if n == 0:
        return
    dt = lc.out_dtypes[0]
    shape = list(lc.in_shapes[0])
    p = np.asarray(_lconst(lc, 1)).reshape(-1, 2)
    if lc.op.type == "MirrorPad":
        return _mirror_pad_lower(lc, shape, out_shape, p, n)
    if lc.num_elements(0) != n:
        if len(lc.inputs) > 2:
            v = _lconst(lc, 2)
            if v is None:
                _broadcast_scalar(lc, lc.inputs[2], lc.outputs[0], n, dt.size)
            else:
                _fill_pattern(lc, lc.outputs[0], n, dt, v)
        else:
            _fill_pattern(lc, lc.outputs[0], n, dt, 0)
    ost = _strides(out_shape)
    base = sum(int(a) * s for (a, _), s in zip(p, ost))
    _copy(lc, lc.inputs[0], lc.outputs[0], shape, _strides(shape), ost, 0, base, dt.size)


def _mirror_pad_lower(lc, shape, out_shape, p, n):
    rank = len(shape)
    if rank > 8:
        raise errors.UnimplementedError(lc.op.node_def, lc.op, "MirrorPad of rank > 8")
    if lc.num_elements(0) == 0:
        return
    ctype, npi = _idx_type(n, lc.num_elements(0))
    pad = 8 - rank
    sym = 1 if lc.attrs.get("mode") == "SYMMETRIC" else 0
    k = lc.kernel("mirror_pad", filename="array.cl",
                  defines={"K_mirror_pad": 1, "T": _UTYPE[_esize(lc)], "I": ctype,
                           "RANK": max(rank, 1),
                           "SYM": sym})
    if rank == 0:
        shape, out_shape, pb = [1], [1], [0]
    else:
        pb = [int(a) for a, _ in p]
    pad = 8 - len(shape)
    args = [lc.inputs[0], lc.outputs[0], npi(n)] + \
        [npi(x) for x in list(out_shape) + [1] * pad] + \
        [npi(x) for x in list(shape) + [1] * pad] + \
        [npi(x) for x in pb + [0] * pad] + \
        [npi(x) for x in _strides(shape) + [0] * pad]
    lc.launch(k, [round_up(n, _LWS)], [_LWS], args)


_register("Pad", _pad_infer, _pad_lower, _pad_host)
_register("PadV2", _pad_infer, _pad_lower, _pad_host)
_register("MirrorPad", _pad_infer, _pad_lower, _pad_host)


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    """TF1 ``tf.pad``: CONSTANT gives Pad (PadV2 when ``constant_values`` is not 0),
    REFLECT/SYMMETRIC give MirrorPad."""
    m = mode.upper() if isinstance(mode, str) else mode
    with ops.name_scope(name, "Pad", [tensor, paddings]) as name:
        tensor = ops.convert_to_tensor(tensor, name="input")
        paddings = _as_index_tensor(paddings, "paddings")
        if m == "CONSTANT":
            if not isinstance(constant_values, ops.Tensor) and \
                    np.all(np.asarray(constant_values) == 0):
                return ops.create_op("Pad", [tensor, paddings], name=name).outputs[0]
            cv = ops.convert_to_tensor(constant_values, dtype=tensor.dtype,
                                       name="constant_values")
            return ops.create_op("PadV2", [tensor, paddings, cv], name=name).outputs[0]
        if m in ("REFLECT", "SYMMETRIC"):
            return ops.create_op("MirrorPad", [tensor, paddings], {"mode": m},
                                 name=name).outputs[0]
        raise ValueError("Unknown padding mode: %s" % mode)


# ============================================================================== Select, Where

def _select_infer(ic):
    if ic.in_dtypes[0] != dtypes.bool:
        raise TypeError("Value passed to parameter 'condition' has DataType %s not in list of "
                        "allowed values: bool" % ic.in_dtypes[0].name)
    if ic.in_dtypes[1] != ic.in_dtypes[2]:
        raise TypeError("Input 'e' of 'Select' Op has type %s that does not match type %s of "
                        "argument 't'." % (ic.in_dtypes[2].name, ic.in_dtypes[1].name))
    dt = ic.in_dtypes[1]
    c, x, y = ic.in_shapes
    data = _merge_or_raise(ic, x, y)
    if c.ndims is None or data.ndims is None:
        return [(dt, data)]
    if c.ndims == 0:
        return [(dt, data)]
    if c.ndims == data.ndims and c.ndims > 1 and all(
            a == 1 or a is None or b is None or a == b
            for a, b in zip(c.as_list()[1:], data.as_list()[1:])) and \
            any(a == 1 and b != 1 for a, b in zip(c.as_list()[1:], data.as_list()[1:])):
        # [n, 1, ..., 1]: the vector condition as where() reshapes it for the fused kernel
        _merge_or_raise(ic, TensorShape(data.as_list()[:1]), TensorShape(c.as_list()[:1]))
        return [(dt, data)]
    if c.ndims != 1 or data.ndims <= 1:
        return [(dt, _merge_or_raise(ic, data, c))]
    # A vector cond selecting rows: the builder reshapes it to [n, 1, ...] (see where());
    # the fused elementwise kernel broadcasts numpy-style, so a bare vector cond cannot run.
    _merge_or_raise(ic, TensorShape([data.as_list()[0]]), c)
    raise errors.UnimplementedError(
        None, None, "Select with a vector condition and rank-%d values: build it with "
        "tf.where, which reshapes the condition%s" % (data.ndims, _where(ic)))


def _merge_or_raise(ic, a, b):
    try:
        return a.merge_with(b)
    except ValueError:
        raise ValueError("Shapes must be equal rank, but are %s and %s%s" % (
            a.ndims, b.ndims, _where(ic)) if a.ndims != b.ndims else
            "Dimensions must be equal: %s and %s%s" % (_shape_str(a), _shape_str(b),
                                                       _where(ic))) from None


def _select_host(ic, c, x, y):
    c = np.asarray(c, dtype=bool)
    if c.ndim == 1 and np.ndim(x) > 1:
        c = c.reshape((-1,) + (1,) * (np.ndim(x) - 1))
    return [np.where(c, x, y)]


registry.register("Select", _select_infer, host=_select_host, elementwise="select")


def _where_infer(ic):
    s = ic.in_shapes[0]
    v = ic.const(0)
    if v is not None:
        return [(dtypes.int64, TensorShape([int(np.count_nonzero(v)), np.ndim(v)]))]
    return [(dtypes.int64, TensorShape([None, s.ndims]))]


registry.register("Where", _where_infer,
                  host=lambda ic, c: [np.argwhere(np.asarray(c)).astype(np.int64)])


def where(condition, x=None, y=None, name=None):
    """TF1 ``tf.where``: strict select (``condition`` of x's shape, a vector over x's first
    dim, or a scalar); with only ``condition`` the indices of its true elements (``Where``,
    whose data-dependent shape pysession supports only for constant conditions)."""
    if x is None and y is None:
        with ops.name_scope(name, "Where", [condition]) as name:
            condition = ops.convert_to_tensor(condition, dtype=dtypes.bool, name="condition")
            return ops.create_op("Where", [condition], name=name).outputs[0]
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    with ops.name_scope(name, "Select", [condition, x, y]) as name:
        condition = ops.convert_to_tensor(condition, dtype=dtypes.bool, name="condition")
        if isinstance(x, ops.Tensor) or not isinstance(y, ops.Tensor):
            x = ops.convert_to_tensor(x, name="x")
            y = ops.convert_to_tensor(y, dtype=x.dtype, name="y")
        else:
            y = ops.convert_to_tensor(y, name="y")
            x = ops.convert_to_tensor(x, dtype=y.dtype, name="x")
        cs, xs = condition.shape, x.shape.merge_with(y.shape) if \
            x.shape.is_compatible_with(y.shape) else x.shape
        if cs.ndims == 1 and xs.ndims is not None and xs.ndims > 1:
            d0 = xs.as_list()[0]
            c0 = cs.as_list()[0]
            if d0 is not None and c0 is not None and d0 != c0:
                raise ValueError("Dimensions must be equal, but are %d and %d for '%s' (op: "
                                 "'Select') with input shapes: %s, %s, %s." % (
                                     c0, d0, name.rstrip("/"), _shape_str(cs),
                                     _shape_str(x.shape), _shape_str(y.shape)))
            condition = reshape(condition, [-1] + [1] * (xs.ndims - 1))
        return ops.create_op("Select", [condition, x, y], name=name).outputs[0]


# ============================================================================== OneHot

def _one_hot_infer(ic):
    _check_int(ic, 0, "indices", ("uint8", "int32", "int64"))
    _check_int(ic, 1, "depth", ("int32",))
    _rank_check(ic, 1, 0)
    _rank_check(ic, 2, 0)
    _rank_check(ic, 3, 0)
    dt = ic.in_dtypes[2]
    if ic.in_dtypes[3] != dt:
        raise TypeError("Input 'off_value' of 'OneHot' Op has type %s that does not match type "
                        "%s of argument 'on_value'." % (ic.in_dtypes[3].name, dt.name))
    axis = int(ic.attrs.get("axis", -1))
    s = ic.in_shapes[0]
    dv = ic.const(1)
    depth = None if dv is None else _scalar(dv)
    if depth is not None and depth < 0:
        raise ValueError("depth must be non-negative, got: %d%s" % (depth, _where(ic)))
    if s.ndims is None:
        return [(dt, unknown_shape())]
    if axis < -1 or axis > s.ndims:
        raise ValueError("Expected axis to be -1 or between [0, %d).  But received: %d%s"
                         % (s.ndims + 1, axis, _where(ic)))
    dims = s.as_list()
    a = s.ndims if axis == -1 else axis
    return [(dt, TensorShape(dims[:a] + [depth] + dims[a:]))]


def _one_hot_host(ic, indices, depth, on, off):
    depth = _scalar(depth)
    axis = int(ic.attrs.get("axis", -1))
    ind = np.asarray(indices).astype(np.int64)
    eq = ind[..., None] == np.arange(depth)
    out = np.where(eq, on, off).astype(np.asarray(on).dtype)
    if axis != -1:
        out = np.moveaxis(out, -1, axis)
    return [out]


def _one_hot_lower(lc):
    n = lc.num_elements(0, output=True)
    if n == 0:
        return
    shape = list(lc.in_shapes[0])
    axis = int(lc.attrs.get("axis", -1))
    a = len(shape) if axis == -1 else axis
    inner = _prod(shape[a:])
    depth = lc.out_shapes[0][a]
    ctype, npi = _idx_type(n)
    k = lc.kernel("one_hot", filename="array.cl",
                  defines={"K_one_hot": 1, "T": _UTYPE[lc.out_dtypes[0].size], "I": ctype,
                           "TI": lc.in_dtypes[0].ctype})
    lc.launch(k, [round_up(n, _LWS)], [_LWS],
              [lc.inputs[0], lc.inputs[2], lc.inputs[3], lc.outputs[0], npi(n), npi(depth),
               npi(inner)])


_register("OneHot", _one_hot_infer, _one_hot_lower, _one_hot_host)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """TF1 ``tf.one_hot``; the dtype comes from ``dtype``, else on/off values, else float32."""
    with ops.name_scope(name, "one_hot", [indices, depth, on_value, off_value, axis,
                                          dtype]) as name:
        on_exists = on_value is not None
        off_exists = off_value is not None
        if on_exists:
            on_value = ops.convert_to_tensor(on_value, name="on_value")
        if off_exists:
            off_value = ops.convert_to_tensor(off_value, name="off_value")
        on_dtype = on_value.dtype if on_exists else None
        off_dtype = off_value.dtype if off_exists else None
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype)
        if on_exists or off_exists:
            if dtype is not None:
                if on_exists and on_dtype != dtype:
                    raise TypeError("dtype {0} of on_value does not match dtype parameter {1}"
                                    .format(on_dtype, dtype))
                if off_exists and off_dtype != dtype:
                    raise TypeError("dtype {0} of off_value does not match dtype parameter {1}"
                                    .format(off_dtype, dtype))
            else:
                dtype = on_dtype if on_exists else off_dtype
        elif dtype is None:
            dtype = dtypes.float32
        if not on_exists:
            on_value = ops.convert_to_tensor(True if dtype == dtypes.bool else 1, dtype,
                                             name="on_value")
            on_dtype = dtype
        if not off_exists:
            off_value = ops.convert_to_tensor(False if dtype == dtypes.bool else 0, dtype,
                                              name="off_value")
            off_dtype = dtype
        if on_dtype != off_dtype:
            raise TypeError("dtype {0} of on_value does not match dtype {1} of off_value"
                            .format(on_dtype, off_dtype))
        on_t, off_t = on_value, off_value
        indices = ops.convert_to_tensor(indices, name="indices")
        depth = ops.convert_to_tensor(depth, dtype=dtypes.int32, name="depth")
        return ops.create_op("OneHot", [indices, depth, on_t, off_t],
                             {"axis": -1 if axis is None else int(axis)}, name=name).outputs[0]
