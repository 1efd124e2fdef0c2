import sys
import threading
import types

import numpy as np
import pytest

from pysession.framework import dtypes, ops, registry
from pysession.framework.tensor_shape import TensorShape
from pysession.ops import core_ops as C


def c(name=None, v=1.0):
    return C.constant(v, name=name or "Const")


# ---------------------------------------------------------------- naming
def test_unique_names(graph):
    assert [c("c").op.name for _ in range(3)] == ["c", "c_1", "c_2"]
    assert c("C").op.name == "C_3"                     # keys are case-insensitive
    assert c().op.name == "Const" and c().op.name == "Const_1"


def test_user_name_colliding_with_generated(graph):
    assert c("a").op.name == "a"
    assert c("a_1").op.name == "a_1"
    assert c("a").op.name == "a_2"                     # skips the explicit a_1
    assert c("a_1").op.name == "a_1_1"


def test_unique_name_mark_as_used(graph):
    assert graph.unique_name("x", mark_as_used=False) == "x"
    assert graph.unique_name("x") == "x" and graph.unique_name("x") == "x_1"
    with graph.name_scope("s"):
        assert graph.unique_name("y") == "s/y"


def test_invalid_names(graph):
    with pytest.raises(ValueError, match="not a valid"):
        c("bad name")
    with pytest.raises(ValueError, match="not a valid scope name"):
        with graph.name_scope("_x"):
            pass
    with graph.name_scope("ok"):
        with graph.name_scope("_x") as s:     # nested scopes may start with _
            assert s == "ok/_x/"


def test_name_scopes(graph):
    with graph.name_scope("a") as s:
        assert s == "a/"
        with graph.name_scope("b") as s2:
            assert s2 == "a/b/" and c("x").name == "a/b/x:0"
        assert graph.get_name_scope() == "a"
    with graph.name_scope("a") as s:
        assert s == "a_1/"
    with graph.name_scope("a/") as s:                  # re-enter absolutely
        assert s == "a/" and c("y").op.name == "a/y"
        with graph.name_scope(None) as s:              # reset to the root
            assert s == "" and c("z").op.name == "z"
        with graph.name_scope("") as s:
            assert s == ""
    assert graph.get_name_scope() == ""


def test_scope_and_op_share_namespace(graph):
    assert c("foo").op.name == "foo"
    with graph.name_scope("foo") as s:
        assert s == "foo_1/"


def test_module_name_scope(graph):
    x = c("x")
    with ops.name_scope(None, "default", [x]) as s:
        assert s == "default/"
    with ops.name_scope("given", "default") as s:
        assert s == "given/"
    with pytest.raises(ValueError, match="At least one of name"):
        with ops.name_scope(None, None, [x]):
            pass
    g2 = ops.Graph()
    with g2.as_default():
        y = c("y")
    with ops.name_scope("scope", values=[y]) as s:     # enters y's graph
        assert ops.get_default_graph() is g2 and s == "scope/"
    assert ops.get_default_graph() is graph
    with pytest.raises(ValueError, match="must be from the same graph"):
        with ops.name_scope("bad", values=[x, y]):
            pass


def test_name_ending_in_slash_is_exact(graph):
    with graph.name_scope("s") as scope:
        t = C.constant(1, name=scope)
    assert t.op.name == "s"
    with pytest.raises(ValueError, match="Duplicate node name"):
        C.constant(1, name="s/")


# ---------------------------------------------------------------- control dependencies
def test_control_dependencies(graph):
    a, b = c("a"), c("b")
    with graph.control_dependencies([a]):
        x = c("x")
        with ops.control_dependencies([b.op]):
            y = c("y")
            with graph.control_dependencies(None):
                z = c("z")
                with graph.control_dependencies([x]):
                    w = c("w")
        v = C.identity(y)          # y was built in the a-block: dominated, no extra edge
    assert x.op.control_inputs == [a.op]
    assert y.op.control_inputs == [a.op, b.op]
    assert z.op.control_inputs == [] and w.op.control_inputs == [x.op]
    assert v.op.control_inputs == []
    assert c("after").op.control_inputs == []


def test_control_dependencies_skip_data_inputs_and_names(graph):
    a = c("a")
    with graph.control_dependencies(["a"]):
        i = C.identity(a)
        j = c("j")
    assert i.op.control_inputs == [] and j.op.control_inputs == [a.op]
    with pytest.raises(TypeError):
        graph.control_dependencies([1])
    with pytest.raises(ValueError, match="not an element of this graph"):
        with ops.Graph().as_default():
            other = c()
        graph.control_dependencies([other])


# ---------------------------------------------------------------- devices
@pytest.mark.parametrize("spec,canon", [
    ("/cpu:0", "/device:CPU:0"), ("/gpu:1", "/device:GPU:1"), ("/device:GPU:0", "/device:GPU:0"),
    ("/job:localhost/replica:0/task:0/device:CPU:0", "/job:localhost/replica:0/task:0/device:CPU:0"),
    ("/CPU:*", "/device:CPU:*"), ("", ""), ("/job:w", "/job:w"),
    ("/device:ACCELERATOR:2", "/device:ACCELERATOR:2")])
def test_canonical_device(spec, canon):
    assert ops.canonical_device(spec) == canon


def test_bad_device_spec(graph):
    with pytest.raises(ValueError, match="Unknown attribute"):
        ops.canonical_device("/foo:1")
    with pytest.raises(ValueError, match="multiple device types"):
        ops.canonical_device("/cpu:0/gpu:0")


def test_device_scopes(graph):
    assert c().device == ""
    with ops.device("/job:localhost/task:0"):
        with graph.device("/gpu:1"):
            a = c("a")
            with graph.device("/cpu:0"):
                b = c("b")
            with graph.device(None):
                n = c("n")
        t = c("t")
    assert a.op.device == "/job:localhost/task:0/device:GPU:1" and a.device == a.op.device
    assert b.device == "/job:localhost/task:0/device:CPU:0"
    assert n.device == "" and t.device == "/job:localhost/task:0"
    with graph.device(lambda op: "/gpu:0" if op.type == "Const" else "/cpu:0"):
        k = c("k")
        i = C.identity(k)
    assert (k.device, i.device) == ("/device:GPU:0", "/device:CPU:0")


# ---------------------------------------------------------------- collections
def test_collections(graph):
    a, b = c("scope1/a"), c("scope2/b")
    graph.add_to_collection("mine", a)
    ops.add_to_collection("mine", b)
    ops.add_to_collections(["x", "y"], a)
    ops.add_to_collections("z", 5)
    assert graph.get_collection("mine") == [a, b]
    assert ops.get_collection("mine", scope="scope2") == [b]
    assert ops.get_collection("mine", scope="scope.") == [a, b]
    assert ops.get_collection("z", scope="s") == []          # items without .name skipped
    assert ops.get_collection("nothing") == []
    got = graph.get_collection("mine")
    got.append(1)
    assert len(graph.get_collection("mine")) == 2            # a copy
    ref = ops.get_collection_ref("new")
    ref.append(3)
    assert graph.get_collection("new") == [3]
    assert sorted(ops.get_all_collection_keys()) == ["mine", "new", "x", "y", "z"]
    graph.clear_collection("x")
    assert graph.get_collection("x") == []


def test_graph_keys():
    K = ops.GraphKeys
    assert (K.GLOBAL_VARIABLES, K.TRAINABLE_VARIABLES, K.LOCAL_VARIABLES) == (
        "variables", "trainable_variables", "local_variables")
    assert (K.UPDATE_OPS, K.LOSSES, K.GLOBAL_STEP, K.SUMMARIES, K.TRAIN_OP) == (
        "update_ops", "losses", "global_step", "summaries", "train_op")
    assert K.VARIABLES == K.GLOBAL_VARIABLES and K.TABLE_INITIALIZERS == "table_initializer"


# ---------------------------------------------------------------- default graph per thread
def test_default_graph_stack(graph):
    assert ops.get_default_graph() is graph
    g2 = ops.Graph()
    with g2.as_default() as g:
        assert g is g2 and ops.get_default_graph() is g2
    assert ops.get_default_graph() is graph


def test_default_graph_is_per_thread(graph):
    seen = {}

    def work():
        seen["default"] = ops.get_default_graph()
        with ops.Graph().as_default() as g:
            seen["inner"] = g
            done.wait()

    done = threading.Event()
    th = threading.Thread(target=work)
    th.start()
    while "inner" not in seen:
        pass
    assert ops.get_default_graph() is graph       # the other thread's as_default is its own
    done.set()
    th.join()
    assert seen["default"] is not graph


def test_reset_default_graph():
    with pytest.raises(AssertionError, match="nested graphs"):
        ops.reset_default_graph()                  # autouse fixture holds an as_default


def test_reset_default_graph_outside_nesting():
    out = {}

    def work():
        g1 = ops.get_default_graph()
        c("x")
        ops.reset_default_graph()
        g2 = ops.get_default_graph()
        out["r"] = (g1 is not g2, g2.get_operations())

    th = threading.Thread(target=work)
    th.start()
    th.join()
    assert out["r"] == (True, [])


def test_concurrent_op_creation(graph):
    def work():
        with graph.as_default():
            for _ in range(200):
                c("t")
    ths = [threading.Thread(target=work) for _ in range(4)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    names = [op.name for op in graph.get_operations()]
    assert len(names) == 800 and len(set(names)) == 800
    assert [op._id for op in graph.get_operations()] == list(range(1, 801))


def test_scopes_are_per_thread(graph):
    res = {}
    with graph.name_scope("main"), graph.control_dependencies([c("dep")]), graph.device("/gpu:0"):
        th = threading.Thread(target=lambda: res.setdefault("op", c("t").op))
        th.start()
        th.join()
    op = res["op"]
    assert (op.name, op.control_inputs, op.device) == ("t", [], "")


# ---------------------------------------------------------------- lookup
def test_get_by_name(graph):
    x = c("x")
    assert graph.get_tensor_by_name("x:0") is x
    assert graph.get_operation_by_name("x") is x.op
    assert graph.as_graph_element("x:0") is x and graph.as_graph_element(x.op) is x.op
    assert graph.as_graph_element(b"x") is x.op


@pytest.mark.parametrize("call,exc,msg", [
    (lambda g: g.get_tensor_by_name("foo:0"), (KeyError, ValueError),
     "The name 'foo:0' refers to a Tensor which does not exist. The operation, 'foo', does not "
     "exist in the graph."),
    (lambda g: g.get_tensor_by_name("x:1"), (KeyError, ValueError),
     "The name 'x:1' refers to a Tensor which does not exist. The operation, 'x', exists but "
     "only has 1 outputs."),
    (lambda g: g.get_tensor_by_name("x"), ValueError,
     "The name 'x' refers to an Operation, not a Tensor. Tensor names must be of the form "
     "\"<op_name>:<output_index>\"."),
    (lambda g: g.get_tensor_by_name("nope"), ValueError,
     "The name 'nope' looks like an (invalid) Operation name, not a Tensor."),
    (lambda g: g.get_tensor_by_name("x:y"), ValueError, "looks a like a Tensor name"),
    (lambda g: g.get_operation_by_name("x:0"), ValueError,
     "Name 'x:0' appears to refer to a Tensor, not a Operation."),
    (lambda g: g.get_operation_by_name("zz"), (KeyError, ValueError),
     "The name 'zz' refers to an Operation not in the graph."),
    (lambda g: g.get_tensor_by_name(3), TypeError,
     "Tensor names are strings (or similar), not int."),
    (lambda g: g.get_operation_by_name(None), TypeError,
     "Operation names are strings (or similar), not NoneType."),
    (lambda g: g.as_graph_element(1.5), TypeError,
     "Can not convert a float into a Tensor or Operation."),
    (lambda g: g.as_graph_element(g.get_tensor_by_name("x:0"), allow_tensor=False), TypeError,
     "Can not convert a Tensor into a Operation."),
    (lambda g: g.as_graph_element("x", False, False), ValueError, "can't both be False"),
])
def test_lookup_errors(graph, call, exc, msg):
    c("x")
    excs = exc if isinstance(exc, tuple) else (exc,)
    for e in excs:
        with pytest.raises(e) as info:
            call(graph)
        assert msg in str(info.value)


def test_element_of_other_graph(graph):
    with ops.Graph().as_default():
        y = c("y")
    with pytest.raises(ValueError, match="is not an element of this graph"):
        graph.as_graph_element(y)
    with pytest.raises(ValueError, match="is not an element of this graph"):
        graph.as_graph_element(y.op)


# ---------------------------------------------------------------- finalize, seeds, versions
def test_finalize(graph):
    c()
    graph.finalize()
    assert graph.finalized
    with pytest.raises(RuntimeError, match="Graph is finalized"):
        c()
    with pytest.raises(RuntimeError, match="Graph is finalized"):
        graph.add_to_collection("k", 1)
    assert len(graph.get_operations()) == 1


def test_seed_version_last_id(graph):
    assert graph.seed is None and graph.version == 0 and graph._last_id == 0
    ops.set_random_seed(42)
    assert graph.seed == 42
    c(), c()
    assert graph.version == 2 and graph._last_id == 2 and graph.building_function is False
    assert ops.get_seed(None) == (42, 2) and ops.get_seed(7) == (42, 7)
    graph.seed = None
    assert ops.get_seed(None) == (None, None) and ops.get_seed(5) == (87654321, 5)
    graph.seed = 0
    assert ops.get_seed(0) == (0, 2 ** 31 - 1)


# ---------------------------------------------------------------- Operation and Tensor
def test_operation_properties(graph):
    a = c("a", 2.0)
    b = C.placeholder(dtypes.float32, [None, 2], name="p")
    with graph.control_dependencies([a]):
        i = C.identity(b, name="i")
    op = i.op
    assert (op.name, op.type, op.graph, op.inputs, op.outputs) == ("i", "Identity", graph, [b], [i])
    assert op.control_inputs == [a.op] and op.values() == (i,)
    assert op.op_def is registry.get("Identity") and op._id == 3
    assert op.traceback.startswith(__file__) and ":" in op.traceback
    assert b.op.get_attr("dtype") == dtypes.float32
    assert b.op.get_attr("shape").as_list() == [None, 2]
    assert b.op.attrs["dtype"] is dtypes.float32
    with pytest.raises(ValueError, match="no attr named 'nope'"):
        op.get_attr("nope")
    nd = op.node_def
    assert nd == {"name": "i", "op": "Identity", "input": ["p", "^a"], "device": "", "attr": {}}
    assert nd.name == "i"
    assert repr(op) == "<tf.Operation 'i' type=Identity>"


def test_tensor_properties(graph):
    p = C.placeholder(dtypes.int32, [None, 3], name="p")
    i1, i2 = C.identity(p), C.identity(p)
    assert (p.name, p.value_index, p.dtype, p.graph, p.op.type) == ("p:0", 0, dtypes.int32,
                                                                   graph, "Placeholder")
    assert p.shape.as_list() == [None, 3] and p.get_shape() is p.shape
    assert p.consumers() == [i1.op, i2.op]
    assert repr(p) == "<tf.Tensor 'p:0' shape=(?, 3) dtype=int32>"
    assert str(p) == 'Tensor("p:0", shape=(?, 3), dtype=int32)'
    p.set_shape([4, None])
    assert p.shape.as_list() == [4, 3]
    with pytest.raises(ValueError, match="not compatible"):
        p.set_shape([5, 3])
    with graph.device("/cpu:0"):
        d = c()
    assert str(d).endswith("device=/device:CPU:0)")


def test_tensor_identity_semantics(graph):
    a, b = c(), c()
    assert a == a and not (a == b) and a != b and len({a, b, a}) == 2
    assert {a: 1}[a] == 1
    with pytest.raises(TypeError, match="as a Python `bool` is not allowed"):
        bool(a)
    with pytest.raises(TypeError, match="only iterable when eager"):
        iter(a)
    with pytest.raises(NotImplementedError):
        np.asarray(a)


class FakeSession:
    def __init__(self, graph):
        self.graph = graph
        self.calls = []

    def run(self, fetches, feed_dict=None):
        self.calls.append((fetches, feed_dict))
        return "ran"


def test_eval_and_run_use_default_session(graph):
    a = c()
    with pytest.raises(ValueError, match="Cannot evaluate tensor using `eval\\(\\)`: No default"):
        a.eval()
    with pytest.raises(ValueError, match="Cannot execute operation using `run\\(\\)`"):
        a.op.run()
    s = FakeSession(graph)
    with ops.default_session(s):
        assert ops.get_default_session() is s
        assert a.eval(feed_dict={"x": 1}) == "ran"
        assert a.op.run() is None
    assert s.calls == [(a, {"x": 1}), (a.op, None)]
    assert ops.get_default_session() is None
    other = FakeSession(ops.Graph())
    with ops.default_session(other):
        with pytest.raises(ValueError, match="the tensor's graph is different"):
            a.eval()
    with pytest.raises(ValueError, match="Cannot use the given session"):
        a.eval(session=other)
    with pytest.raises(ValueError, match="operation's graph is different"):
        a.op.run(session=other)
    assert a.eval(session=s) == "ran"


def test_default_session_push_pop_per_thread(graph):
    s1, s2 = FakeSession(graph), FakeSession(graph)
    ops._push_default_session(s1)
    ops._push_default_session(s2)
    seen = []
    th = threading.Thread(target=lambda: seen.append(ops.get_default_session()))
    th.start()
    th.join()
    assert seen == [None] and ops.get_default_session() is s2
    ops._pop_default_session(s1)                 # out of order removal (InteractiveSession)
    assert ops.get_default_session() is s2
    ops._pop_default_session(s2)
    ops._pop_default_session(s2)                 # absent: no error
    assert ops.get_default_session() is None


# ---------------------------------------------------------------- create_op
def test_create_op_graph_selection_and_errors(graph):
    g2 = ops.Graph()
    with g2.as_default():
        y = c("y")
    op = ops.create_op("Identity", [y])
    assert op.graph is g2 and op.name == "Identity"
    x = c("x")
    with pytest.raises(ValueError, match="must be from the same graph"):
        ops.create_op("AddV2", [x, y])
    with pytest.raises(ValueError, match="Op type not registered 'NoSuchOp'"):
        ops.create_op("NoSuchOp", [])
    with pytest.raises(ValueError, match="must be from the same graph"):
        graph._create_op("Identity", [y])
    assert graph.create_op("Identity", [x], name="pub").name == "pub"


def test_create_op_explicit_control_inputs_and_attrs(graph):
    a = c("a")
    op = graph._create_op("NoOp", [], name="n", control_inputs=[a, "a"])
    assert op.control_inputs == [a.op]
    with pytest.raises(TypeError, match="unsupported value"):
        graph._create_op("NoOp", [], {"bad": object()})
    with pytest.raises(TypeError, match="list attr"):
        graph._create_op("NoOp", [], {"bad": [[1, 2], [3, 4]]})
    op = graph._create_op("NoOp", [], {"l": (1, 2.5), "s": b"txt", "n": np.int64(3),
                                       "_private": object()})
    assert op.get_attr("l") == [1.0, 2.5] and op.get_attr("s") == "txt"
    assert type(op.get_attr("n")) is int
    op = graph._create_op("NoOp", [], {"T": np.float32, "U": np.dtype("int64")})
    assert (op.get_attr("T"), op.get_attr("U")) == (dtypes.float32, dtypes.int64)


def test_infer_error_raises_on_build_line(graph):
    p = C.placeholder(dtypes.float32, [2])
    with pytest.raises(ValueError, match="not compatible"):
        C.placeholder_with_default(p, [3])


# ---------------------------------------------------------------- convert_to_tensor
def test_convert_to_tensor_basics(graph):
    t = c()
    assert ops.convert_to_tensor(t) is t and ops.convert_to_tensor(t, dtypes.float32) is t
    with pytest.raises(ValueError, match="requested dtype int32 for Tensor with dtype float32"):
        ops.convert_to_tensor(t, dtype=dtypes.int32)
    with pytest.raises(TypeError, match="Can't convert Operation"):
        ops.convert_to_tensor(t.op)
    x = ops.convert_to_tensor([1, 2], name="v")
    assert (x.op.type, x.op.name, x.dtype) == ("Const", "v", dtypes.int32)
    assert ops.convert_to_tensor(3.0).dtype == dtypes.float32
    assert ops.convert_to_tensor(3, preferred_dtype=dtypes.int64).dtype == dtypes.int64
    assert ops.convert_to_tensor(3.5, preferred_dtype=dtypes.int64).dtype == dtypes.float32
    assert ops.convert_to_tensor(np.float64(1)).dtype == dtypes.float64
    with pytest.raises(TypeError, match="Expected int32"):
        ops.convert_to_tensor(1.5, dtype=dtypes.int32)


def test_convert_shapes_and_dimensions(graph):
    s = ops.convert_to_tensor(TensorShape([2, 3]))
    assert (s.op.name, s.dtype, ops.constant_value(s).tolist()) == ("shape_as_tensor",
                                                                   dtypes.int32, [2, 3])
    assert ops.convert_to_tensor(TensorShape([2]), dtype=dtypes.int64).dtype == dtypes.int64
    assert ops.constant_value(ops.convert_to_tensor(TensorShape([4])[0])).tolist() == [4]
    with pytest.raises(ValueError, match="partially known TensorShape"):
        ops.convert_to_tensor(TensorShape([None]))
    with pytest.raises(TypeError):
        ops.convert_to_tensor(TensorShape([1]), dtype=dtypes.float32)
    with pytest.raises(ValueError):
        ops.convert_to_tensor(TensorShape([None])[0])


def test_conversion_hooks(graph):
    inner = c("inner")

    class AsTensor:
        def _as_tensor(self, dtype=None, name=None):
            return inner

    class AsElement:
        def _as_graph_element(self):
            return inner

    class Registered:
        pass

    assert ops.convert_to_tensor(AsTensor()) is inner
    assert ops.convert_to_tensor(AsElement()) is inner
    assert graph.as_graph_element(AsElement()) is inner
    with pytest.raises(ValueError, match="requested dtype int32"):
        ops.convert_to_tensor(AsTensor(), dtype=dtypes.int32)
    ops.register_tensor_conversion_function(
        Registered, lambda v, dtype=None, name=None, as_ref=False: inner)
    assert ops.convert_to_tensor(Registered()) is inner
    with pytest.raises(TypeError):
        ops.register_tensor_conversion_function(float, lambda *a, **k: inner)
    with graph.control_dependencies([AsElement()]):
        assert c().op.control_inputs == [inner.op]


# ---------------------------------------------------------------- constant_value
def test_constant_value(graph):
    a = C.constant([[1, 2], [3, 4]])
    assert ops.constant_value(a).tolist() == [[1, 2], [3, 4]]
    i = C.identity(C.identity(a))
    assert ops.constant_value(i).tolist() == [[1, 2], [3, 4]]
    assert i.op._const_cache is not None                     # cached on the op
    p = C.placeholder(dtypes.float32, [None, 3])
    assert ops.constant_value(p) is None and ops.constant_value(C.identity(p)) is None
    s = C.shape(p)
    assert s.op.type == "Shape" and ops.constant_value(s) is None
    p.set_shape([5, 3])
    assert ops.constant_value(s).tolist() == [5, 3]           # learns from set_shape
    assert ops.constant_value(np.array([1])).tolist() == [1]  # non-Tensors pass through


def test_constant_value_uses_host_and_skips_stateful(graph):
    calls = []

    def host(ic, x):
        calls.append(1)
        return [x * 2]

    registry.register("_TestDouble", lambda ic: [(ic.in_dtypes[0], ic.in_shapes[0])],
                      host=host)
    registry.register("_TestStateful", lambda ic: [(ic.in_dtypes[0], ic.in_shapes[0])],
                      host=host, stateful=True)
    x = C.constant([1, 2])
    d = graph._create_op("_TestDouble", [x], name="d").outputs[0]
    assert ops.constant_value(d).tolist() == [2, 4] and ops.constant_value(d) is not None
    assert calls == [1]
    s = graph._create_op("_TestStateful", [x], name="s").outputs[0]
    assert ops.constant_value(s) is None


def test_infer_context_const_at_build_time(graph):
    seen = []

    def infer(ic):
        seen.append(ic.const(0))
        return [(ic.in_dtypes[0], ic.in_shapes[0])]

    registry.register("_TestSeeConst", infer)
    graph._create_op("_TestSeeConst", [C.constant([7, 8])], name="sc")
    graph._create_op("_TestSeeConst", [C.placeholder(dtypes.int32)], name="sc")
    assert seen[0].tolist() == [7, 8] and seen[1] is None


# ---------------------------------------------------------------- operators
def _binary_infer(ic):
    if ic.in_dtypes[0] != ic.in_dtypes[1]:
        raise TypeError("dtype mismatch")
    return [(ic.in_dtypes[0], ic.in_shapes[0])]


registry.register("_TestBinary", _binary_infer)
registry.register("_TestUnary", lambda ic: [(ic.in_dtypes[0], ic.in_shapes[0])])

BINARY = ["add", "subtract", "multiply", "truediv", "floordiv", "floormod", "pow", "matmul",
          "logical_and", "logical_or", "logical_xor", "less", "less_equal", "greater",
          "greater_equal"]
UNARY = ["negative", "abs", "logical_not"]


@pytest.fixture
def fake_math(monkeypatch):
    mod = types.ModuleType("pysession.ops.math_ops")
    calls = []

    def make_bin(fn):
        def f(x, y, name=None):
            x, y = ops.convert_to_tensor(x), ops.convert_to_tensor(y)
            calls.append((fn, x, y))
            return ops.create_op("_TestBinary", [x, y], {"fn": fn}, name=name,
                                 default_name=fn).outputs[0]
        return f

    def make_un(fn):
        def f(x, name=None):
            calls.append((fn, x))
            return ops.create_op("_TestUnary", [x], {"fn": fn}, name=name,
                                 default_name=fn).outputs[0]
        return f

    for fn in BINARY:
        setattr(mod, fn, make_bin(fn))
    for fn in UNARY:
        setattr(mod, fn, make_un(fn))
    arr = types.ModuleType("pysession.ops.array_ops")
    arr._slice_helper = lambda t, key: calls.append(("slice", t, key)) or "sliced"
    monkeypatch.setitem(sys.modules, "pysession.ops.math_ops", mod)
    monkeypatch.setitem(sys.modules, "pysession.ops.array_ops", arr)
    return calls


def test_operators_dispatch(graph, fake_math):
    x = C.constant(2.0, name="x")
    y = C.constant(3.0, name="y")
    cases = [(x + y, "add", "add"), (x - y, "subtract", "sub"), (x * y, "multiply", "mul"),
             (x / y, "truediv", "truediv"), (x // y, "floordiv", "floordiv"),
             (x % y, "floormod", "mod"), (x ** y, "pow", "pow"), (x @ y, "matmul", "matmul"),
             (x & y, "logical_and", "and"), (x | y, "logical_or", "or"),
             (x ^ y, "logical_xor", "xor")]
    for t, fn, name in cases:
        assert t.op.get_attr("fn") == fn and t.op.name == name and t.op.inputs == [x, y]
    for t, fn in [(x < y, "less"), (x <= y, "less_equal"), (x > y, "greater"),
                  (x >= y, "greater_equal")]:
        assert t.op.get_attr("fn") == fn and t.op.inputs == [x, y]
    for t, fn in [(-x, "negative"), (abs(x), "abs"), (~x, "logical_not")]:
        assert t.op.get_attr("fn") == fn and t.op.inputs == [x]
    assert x[1:2] == "sliced" and fake_math[-1] == ("slice", x, slice(1, 2))


def test_operators_convert_python_operands(graph, fake_math):
    x = C.constant(2.0, name="x")
    s = x + 1
    assert s.op.name == "add" and s.op.inputs[1].op.name == "add/y"
    assert s.op.inputs[1].dtype == dtypes.float32        # converted to x's dtype
    r = 10 - x
    assert r.op.inputs[1] is x and r.op.inputs[0].op.name == "sub/x"
    assert r.op.inputs[0].dtype == dtypes.float32
    n = np.float64(3.0) * x                               # numpy defers to __rmul__
    assert n.op.inputs[1] is x and n.op.get_attr("fn") == "multiply"
    a = np.array([1.0, 2.0]) + x
    assert isinstance(a, ops.Tensor) and a.op.inputs[1] is x
    i = C.constant(1, name="i")
    with pytest.raises(TypeError):           # TF1: float has __radd__, so NotImplemented
        i + 1.5
    with pytest.raises(TypeError, match="Expected int32, got 1.5"):
        i & 1.5                              # float has no __rand__: the conversion error
    with ops.Graph().as_default():
        other = C.constant(1.0)
    with pytest.raises(ValueError):
        x + other
