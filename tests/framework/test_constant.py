import numpy as np
import pytest

from pysession.framework import dtypes, ops
from pysession.framework.ops import constant_value as cv
from pysession.ops import core_ops as C


@pytest.mark.parametrize("value,dtype,shape", [
    (1, dtypes.int32, []), (2 ** 40, dtypes.int64, []), (1.5, dtypes.float32, []),
    (True, dtypes.bool, []), ("s", dtypes.string, []), (b"b", dtypes.string, []),
    ([1, 2], dtypes.int32, [2]), ([[1.0], [2]], dtypes.float32, [2, 1]),
    ([1, 2 ** 40], dtypes.int64, [2]), ([], dtypes.float32, [0]),
    (np.array([1, 2], np.int64), dtypes.int64, [2]),        # numpy keeps its dtype
    (np.array([1.5]), dtypes.float64, [1]), (np.float64(2), dtypes.float64, []),
    (np.array([1], np.uint8), dtypes.uint8, [1]), (np.float16(1), dtypes.float16, []),
    (np.array(["a", "bc"]), dtypes.string, [2]), ([[True, False]], dtypes.bool, [1, 2]),
    ((1, 2, 3), dtypes.int32, [3]), ([np.float64(1.0)], dtypes.float32, [1]),
])
def test_inferred_dtype_and_shape(value, dtype, shape):
    t = C.constant(value)
    assert t.dtype == dtype and t.shape.as_list() == shape
    assert t.op.type == "Const" and t.op.get_attr("dtype") == dtype
    v = t.op.get_attr("value")
    assert isinstance(v, np.ndarray) and list(v.shape) == shape


def test_values():
    assert cv(C.constant("s")).item() == b"s"
    assert cv(C.constant(["a", b"b"])).tolist() == [b"a", b"b"]
    assert cv(C.constant(1.5)).dtype == np.float32
    np.testing.assert_array_equal(cv(C.constant([[1, 2], [3, 4]])), [[1, 2], [3, 4]])


def test_explicit_dtype_conversions():
    assert C.constant(1, dtype=dtypes.float32).dtype == dtypes.float32
    assert cv(C.constant([1, 2], dtype="float64")).dtype == np.float64
    assert cv(C.constant(np.array([1.7, -2.7]), dtype=dtypes.int32)).tolist() == [1, -2]
    assert C.constant(True, dtype=dtypes.int32).dtype == dtypes.int32
    assert cv(C.constant(3, dtype=dtypes.float16)).dtype == np.float16
    assert cv(C.constant(["x"], dtype=dtypes.string)).tolist() == [b"x"]


@pytest.mark.parametrize("value,dtype,msg", [
    (1.5, dtypes.int32, "Expected int32, got 1.5 of type 'float' instead."),
    (1.0, dtypes.int64, "Expected int64, got 1.0 of type 'float' instead."),
    ([1, 2.5], dtypes.int32, "Expected int32, got 2.5"),
    (1, dtypes.string, "Expected string, got 1 of type 'int' instead."),
    ("a", dtypes.float32, "Expected float32, got 'a' of type 'str' instead."),
    (1, dtypes.bool, "Expected bool, got 1 of type 'int' instead."),
    (300, dtypes.uint8, "cannot be represented"),
    (2 ** 40, dtypes.int32, "cannot be represented"),
    (np.array([1.0]), dtypes.string, "Expected string"),
])
def test_unrepresentable_values_raise_type_error(value, dtype, msg):
    with pytest.raises(TypeError) as e:
        C.constant(value, dtype=dtype)
    assert msg in str(e.value)


def test_other_errors():
    with pytest.raises(ValueError, match="Argument must be a dense tensor"):
        C.constant([[1, 2], [3]])
    with pytest.raises(ValueError, match="None values not supported"):
        C.constant(None)
    with pytest.raises(TypeError):
        C.constant(2 ** 70)
    with pytest.raises(TypeError):
        C.constant(np.array([1 + 2j]))
    with pytest.raises(TypeError):
        C.constant(1.0, dtype="complex64")
    with pytest.raises(TypeError, match="List of Tensors"):
        C.constant([C.constant(1.0)])


def test_shape_argument_tf1_semantics():
    np.testing.assert_array_equal(cv(C.constant(7, shape=[2, 3])), np.full((2, 3), 7))
    np.testing.assert_array_equal(cv(C.constant([1, 2, 3, 4], shape=[2, 2])), [[1, 2], [3, 4]])
    # a smaller list is padded with its last element (TF1)
    np.testing.assert_array_equal(cv(C.constant([1, 2], shape=[2, 3])), [[1, 2, 2], [2, 2, 2]])
    assert C.constant(1.0, shape=[0, 4]).shape.as_list() == [0, 4]
    assert cv(C.constant([], shape=[3])).tolist() == [0.0, 0.0, 0.0]
    assert cv(C.constant("a", shape=[2])).tolist() == [b"a", b"a"]
    assert C.constant(5, shape=()).shape.as_list() == []
    with pytest.raises(ValueError, match="Too many elements provided. Needed at most 2, but "
                                         "received 3"):
        C.constant([1, 2, 3], shape=[2])
    with pytest.raises(TypeError, match=r"Expected Tensor's shape: \(2,\), got \(\)"):
        C.constant(1, shape=[2], verify_shape=True)
    assert C.constant([1, 2], shape=[2], verify_shape=True).shape.as_list() == [2]


def test_constant_copies_numpy_input():
    a = np.array([1.0, 2.0], np.float32)
    t = C.constant(a)
    a[0] = 100
    assert cv(t).tolist() == [1.0, 2.0]


def test_constant_names(graph):
    assert C.constant(1).op.name == "Const" and C.constant(1).op.name == "Const_1"
    assert C.constant(1, name="k").name == "k:0"
    with graph.name_scope("s"):
        assert C.constant(1).op.name == "s/Const"


def test_placeholder():
    p = C.placeholder(dtypes.float32)
    assert p.shape.ndims is None and p.op.type == "Placeholder" and p.op.name == "Placeholder"
    assert p.op.get_attr("shape").ndims is None and p.op.get_attr("dtype") is dtypes.float32
    q = C.placeholder("int64", shape=[None, 3], name="q")
    assert (q.dtype, q.shape.as_list(), q.name) == (dtypes.int64, [None, 3], "q:0")
    assert C.placeholder(np.float16, shape=()).shape.as_list() == []
    assert C.placeholder(dtypes.string, shape=2).shape.as_list() == [2]
    assert cv(q) is None
    with pytest.raises(TypeError):
        C.placeholder(int)


def test_placeholder_with_default():
    d = C.constant([[1, 2, 3]])
    p = C.placeholder_with_default(d, shape=[None, 3])
    assert p.op.type == "PlaceholderWithDefault" and p.shape.as_list() == [None, 3]
    assert p.dtype == dtypes.int32 and p.op.inputs == [d] and cv(p) is None
    q = C.placeholder_with_default(2.0, shape=[])
    assert q.dtype == dtypes.float32 and q.shape.as_list() == []
    with pytest.raises(ValueError, match="not compatible"):
        C.placeholder_with_default(d, shape=[2, 3])
    with pytest.raises(ValueError, match="not compatible"):
        C.placeholder_with_default(d, shape=[3])


def test_identity_noop_group_tuple(graph):
    a, b = C.constant(1.0, name="a"), C.constant(2, name="b")
    i = C.identity(a)
    assert (i.op.type, i.dtype, i.shape.as_list(), i.op.name) == ("Identity", dtypes.float32,
                                                                  [], "Identity")
    assert C.identity([1, 2]).shape.as_list() == [2]
    n = C.no_op(name="nothing")
    assert n.type == "NoOp" and n.outputs == [] and n.name == "nothing"
    g = C.group(a, [b, n])
    assert (g.type, g.name) == ("NoOp", "group_deps")
    assert g.control_inputs == [a.op, b.op, n] and g.inputs == []
    assert C.group(name="empty").control_inputs == []
    with pytest.raises(TypeError, match="expected Tensor arguments"):
        C.group(1)
    with pytest.raises(ValueError, match="Unknown keyword"):
        C.group(a, foo=1)
    ta, tb, tn = C.tuple([a, b, n], name="t")
    gate = graph.get_operation_by_name("t/group_deps")
    assert gate.control_inputs == [a.op, b.op, n]
    assert ta.op.type == "Identity" and ta.op.inputs == [a] and ta.op.control_inputs == [gate]
    assert tb.dtype == dtypes.int32 and tn.type == "NoOp" and tn.control_inputs == [gate, n]
    assert C.tuple([a, None])[1] is None
    with pytest.raises(ValueError, match="at least one Tensor"):
        C.tuple([None])
    with pytest.raises(TypeError, match="Control input must be"):
        C.tuple([a], control_inputs=[1])


def test_shape_size_rank():
    x = C.constant(np.zeros((2, 3), np.float32))
    s, n, r = C.shape(x), C.size(x), C.rank(x)
    assert [t.op.type for t in (s, n, r)] == ["Const"] * 3       # TF1 folds known shapes
    assert (s.op.name, n.op.name, r.op.name) == ("Shape", "Size", "Rank")
    assert cv(s).tolist() == [2, 3] and cv(n) == 6 and cv(r) == 2
    assert C.shape(x, out_type=dtypes.int64).dtype == dtypes.int64
    p = C.placeholder(dtypes.float32, [None, 4])
    s, n, r = C.shape(p), C.size(p), C.rank(p)
    assert (s.op.type, s.shape.as_list(), cv(s)) == ("Shape", [2], None)
    assert (n.op.type, n.shape.as_list(), cv(n)) == ("Size", [], None)
    assert r.op.type == "Const" and cv(r) == 2
    u = C.placeholder(dtypes.float32)
    assert C.shape(u).shape.as_list() == [None] and C.rank(u).op.type == "Rank"
    assert cv(C.rank(u)) is None
    z = C.placeholder(dtypes.float32, [None, 0])
    assert cv(C.size(z)) == 0
    with pytest.raises(TypeError):
        C.shape(p, out_type=dtypes.float32)


def test_shape_host_at_plan_time():
    p = C.placeholder(dtypes.float32, [None, 4])
    s = C.shape(p)
    from pysession.framework import registry
    from pysession.framework.tensor_shape import TensorShape
    ic = registry.InferContext(s.op.name, "Shape", s.op.attrs, [dtypes.float32],
                               [TensorShape([5, 4])])
    assert s.op.op_def.host(ic, None)[0].tolist() == [5, 4]
    assert s.op.op_def.host(ic, np.zeros((7, 4)))[0].tolist() == [7, 4]
