import pickle

import numpy as np
import pytest

from pysession.framework import dtypes as d

ENUMS = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6,
         "string": 7, "int64": 9, "bool": 10, "float16": 19}
CTYPES = {"float16": "half", "float32": "float", "float64": "double", "int8": "char",
          "int16": "short", "int32": "int", "int64": "long", "uint8": "uchar", "bool": "uchar",
          "string": None}


@pytest.mark.parametrize("name", sorted(ENUMS))
def test_each_dtype(name):
    dt = getattr(d, name)
    assert dt.name == name
    assert repr(dt) == "tf." + name
    assert str(dt) == "<dtype: '%s'>" % name
    assert dt.as_datatype_enum == ENUMS[name]
    assert dt.ctype == CTYPES[name]
    assert d.as_dtype(name) is dt
    assert d.as_dtype(ENUMS[name]) is dt
    assert d.as_dtype(dt.tf_name) is dt
    assert d.as_dtype(dt.as_numpy_dtype) is dt
    assert d.as_dtype(np.dtype(dt.as_numpy_dtype)) is dt
    assert dt.base_dtype is dt and dt.real_dtype is dt
    assert pickle.loads(pickle.dumps(dt)) is dt


def test_tf_names_and_numpy_types():
    assert d.float32.tf_name == "DT_FLOAT" and d.float16.tf_name == "DT_HALF"
    assert d.float64.tf_name == "DT_DOUBLE" and d.bool.tf_name == "DT_BOOL"
    assert d.string.as_numpy_dtype is np.object_
    assert d.bool.as_numpy_dtype is np.bool_
    assert d.half is d.float16 and d.double is d.float64


def test_predicates():
    assert [t.name for t in (d.float16, d.float32, d.float64) if t.is_floating] == [
        "float16", "float32", "float64"]
    assert not d.int32.is_floating and not d.bool.is_integer and not d.string.is_integer
    assert d.int8.is_integer and d.uint8.is_integer and d.int64.is_integer
    assert d.bool.is_bool and not d.int32.is_bool
    assert d.uint8.is_unsigned and not d.int8.is_unsigned and not d.bool.is_unsigned
    assert d.float64.size == 8 and d.float16.size == 2 and d.bool.size == 1


def test_min_max():
    assert d.int8.min == -128 and d.int8.max == 127 and d.uint8.max == 255
    assert d.float32.max == np.finfo(np.float32).max
    assert d.int64.min == np.iinfo(np.int64).min
    with pytest.raises(TypeError):
        d.bool.min
    with pytest.raises(TypeError):
        d.string.max


def test_equality_and_hash():
    assert d.float32 == np.float32 and d.float32 == "float32" and d.float32 == np.dtype("f4")
    assert d.float32 != d.float64 and d.float32 != "bogus" and not d.float32 == None  # noqa
    assert {d.float32: 1}[d.as_dtype("float")] == 1
    assert d.int32.is_compatible_with(np.int32) and not d.int32.is_compatible_with(d.int64)


def test_as_dtype_python_types_and_strings():
    assert d.as_dtype(float) is d.float32          # TF maps Python float to float32
    assert d.as_dtype(bool) is d.bool
    assert d.as_dtype("half") is d.float16 and d.as_dtype("double") is d.float64
    assert d.as_dtype(np.dtype("S3")) is d.string and d.as_dtype(np.dtype("U2")) is d.string
    assert d.as_dtype(np.array([1], np.int16)) is d.int16   # anything with .dtype
    assert d.as_dtype(np.longlong) is d.int64


@pytest.mark.parametrize("bad", [int, "float128", np.complex64, np.uint16, 1000, None, object()])
def test_as_dtype_rejects(bad):
    with pytest.raises(TypeError, match="Cannot convert value"):
        d.as_dtype(bad)
