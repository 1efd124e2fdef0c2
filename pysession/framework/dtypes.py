"""TF1 data types: ``DType`` objects, ``as_dtype`` and the module constants (``float32``...)."""
import builtins

import numpy as np

__all__ = ["DType", "as_dtype", "float16", "half", "float32", "float64", "double", "int8",
           "int16", "int32", "int64", "uint8", "bool", "string"]


class DType:
    """One TensorFlow element type (``tf.float32``...).  Instances are interned."""
    __slots__ = ("_name", "_enum", "_np", "_tf_name", "_ctype")

    def __init__(self, name, enum, np_type, tf_name, ctype):
        self._name, self._enum, self._np = name, enum, np_type
        self._tf_name, self._ctype = tf_name, ctype

    name = property(lambda self: self._name)
    as_datatype_enum = property(lambda self: self._enum)
    as_numpy_dtype = property(lambda self: self._np)
    tf_name = property(lambda self: self._tf_name, doc='"DT_FLOAT" ...')
    ctype = property(lambda self: self._ctype, doc="OpenCL C storage type; None for string.")
    base_dtype = property(lambda self: self)
    real_dtype = property(lambda self: self)
    is_numpy_compatible = property(lambda self: True)
    is_quantized = property(lambda self: False)
    is_complex = property(lambda self: False)

    @property
    def is_floating(self):
        return self._enum in (1, 2, 19)

    @property
    def is_integer(self):
        return self._enum in (3, 4, 5, 6, 9)

    @property
    def is_bool(self):
        return self._enum == 10

    @property
    def is_unsigned(self):
        return self._enum == 4

    @property
    def size(self):
        return np.dtype(self._np).itemsize

    @property
    def min(self):
        if self.is_floating:
            return np.finfo(self._np).min
        if self.is_integer:
            return np.iinfo(self._np).min
        raise TypeError("Cannot find minimum value of %s." % self)

    @property
    def max(self):
        if self.is_floating:
            return np.finfo(self._np).max
        if self.is_integer:
            return np.iinfo(self._np).max
        raise TypeError("Cannot find maximum value of %s." % self)

    @property
    def limits(self):
        return self.min, self.max

    def is_compatible_with(self, other):
        return self is as_dtype(other)

    def __eq__(self, other):
        if other is None:
            return False
        try:
            return self is as_dtype(other)
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self._enum

    def __reduce__(self):
        return as_dtype, (self._name,)

    def __repr__(self):
        return "tf." + self._name

    def __str__(self):
        return "<dtype: %r>" % self._name


float16 = DType("float16", 19, np.float16, "DT_HALF", "half")
float32 = DType("float32", 1, np.float32, "DT_FLOAT", "float")
float64 = DType("float64", 2, np.float64, "DT_DOUBLE", "double")
int8 = DType("int8", 6, np.int8, "DT_INT8", "char")
int16 = DType("int16", 5, np.int16, "DT_INT16", "short")
int32 = DType("int32", 3, np.int32, "DT_INT32", "int")
int64 = DType("int64", 9, np.int64, "DT_INT64", "long")
uint8 = DType("uint8", 4, np.uint8, "DT_UINT8", "uchar")
bool = DType("bool", 10, np.bool_, "DT_BOOL", "uchar")  # noqa: A001  (TF's name)
string = DType("string", 7, np.object_, "DT_STRING", None)
half = float16
double = float64

_ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool, string)

_ANY_TO_TF = {}
for _d in _ALL:
    _ANY_TO_TF[_d.name] = _d
    _ANY_TO_TF[_d.tf_name] = _d
    _ANY_TO_TF[_d.as_datatype_enum] = _d
    _ANY_TO_TF[_d.as_numpy_dtype] = _d
_ANY_TO_TF.update({"half": float16, "float": float32, "double": float64,
                   np.bytes_: string, np.str_: string,
                   builtins.float: float32, builtins.bool: bool})
# Keyed by numpy dtype ``char`` codes too, since np.longlong etc. are distinct type objects.
_NP_KIND = {np.dtype(d.as_numpy_dtype).str: d for d in _ALL if d is not string}


def _from_np_dtype(nd):
    if nd.kind in "OSU":
        return string
    return _NP_KIND.get(nd.str)


def as_dtype(type_value):
    """Converts a DType, numpy dtype/type, enum, TF name or Python float/bool to a DType."""
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, np.dtype):
        d = _from_np_dtype(type_value)
        if d is not None:
            return d
    else:
        try:
            return _ANY_TO_TF[type_value]
        except (KeyError, TypeError):
            pass
        if isinstance(type_value, type) and issubclass(type_value, np.generic):
            d = _from_np_dtype(np.dtype(type_value))
            if d is not None:
                return d
        dt = getattr(type_value, "dtype", None)
        if isinstance(dt, np.dtype):
            d = _from_np_dtype(dt)
            if d is not None:
                return d
    raise TypeError("Cannot convert value %r to a TensorFlow DType." % (type_value,))
