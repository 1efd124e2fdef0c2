import copy
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pysession.framework import dtypes, graph_def as gdm, ops, registry
from pysession.framework.graph_def import GraphDef, import_graph_def
from pysession.framework.tensor_shape import TensorShape
from pysession.ops import core_ops as C

registry.register("_TestAttrs", lambda ic: [])
registry.register("_TestSplit2", lambda ic: [(ic.in_dtypes[0], ic.in_shapes[0])] * 2)

ATTRS = {
    "t": dtypes.float16, "s_known": TensorShape([2, 3]), "s_part": TensorShape([None, 4]),
    "s_unknown": TensorShape(None), "s_scalar": TensorShape([]), "i": 3, "neg": -(2 ** 40),
    "f": 1.5, "nan": float("nan"), "inf": float("-inf"), "b": True, "str": "SAME",
    "raw": b"\xff\x00", "none": None, "li": [1, 2, 3], "lf": [0.5, 2.0], "lb": [True, False],
    "ls": ["a", "b"], "lt": [dtypes.int32, dtypes.bool], "lsh": [TensorShape([1]),
                                                                  TensorShape(None)],
    "empty": [],
}
ARRAYS = [np.array([1.5, -2], np.float16), np.arange(6, dtype=np.float32).reshape(2, 3),
          np.array(np.pi), np.array([-1, 2], np.int8), np.array([300], np.int16),
          np.array([-7, 2 ** 31 - 1], np.int32), np.array([2 ** 60], np.int64),
          np.array([0, 255], np.uint8), np.array([[True], [False]]),
          np.array([b"x", b"\xff", b""], dtype=object), np.zeros((0, 3), np.float32),
          np.array(b"scalar", dtype=object)]


def _same(a, b):
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and \
            np.array_equal(a, b)
    if isinstance(a, TensorShape):
        return isinstance(b, TensorShape) and a.dims is None and b.dims is None or \
            a.dims is not None and b.dims is not None and a.as_list() == b.as_list()
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


def _build(graph):
    a = C.constant([1.0, 2.0], name="a")
    p = C.placeholder(dtypes.float32, [None, 2], name="p")
    s = graph._create_op("_TestSplit2", [p], name="split")
    with graph.control_dependencies([a]), graph.device("/gpu:0"):
        i = C.identity(s.outputs[1], name="i")
    graph._create_op("_TestAttrs", [], dict(ATTRS), name="attrs")
    for k, arr in enumerate(ARRAYS):
        graph._create_op("_TestAttrs", [], {"v": arr}, name="arr%d" % k)
    return i


def test_graph_def_shape_and_attribute_access(graph):
    _build(graph)
    gd = graph.as_graph_def()
    assert isinstance(gd, dict) and set(gd) == {"node", "versions", "library"}
    assert gd.versions.producer == graph.graph_def_versions["producer"] > 0
    names = [n.name for n in gd.node]
    assert names[:4] == ["a", "p", "split", "i"]
    n = gd.node[3]
    assert (n.op, n.input, n.device) == ("Identity", ["split:1", "^a"], "/device:GPU:0")
    p = gd.node[1]
    assert p.attr["dtype"].type == "DT_FLOAT" and p.attr.dtype == {"type": "DT_FLOAT"}
    assert p.attr["shape"].shape == {"dim": [{"size": "-1"}, {"size": "2"}]}
    at = gd.node[4].attr
    assert at["s_unknown"] == {"shape": {"unknownRank": True}} and at["s_scalar"] == {"shape": {}}
    assert at["i"] == {"i": "3"} and at["f"] == {"f": 1.5} and at["b"] == {"b": True}
    assert at["nan"] == {"f": "NaN"} and at["inf"] == {"f": "-Infinity"}
    assert at["str"] == {"s": "U0FNRQ=="} and at["none"] == {} and at["empty"] == {"list": {}}
    assert at["li"] == {"list": {"i": ["1", "2", "3"]}}
    assert at["lt"] == {"list": {"type": ["DT_INT32", "DT_BOOL"]}}
    v = gd.node[0].attr["value"].tensor
    assert v.dtype == "DT_FLOAT" and v.tensorShape.dim[0].size == "2"
    assert gd.node[0].attr["value"].tensor.tensorContent == "AACAPwAAAEA="
    with pytest.raises(AttributeError):
        gd.node[0].nosuchfield
    gd.node[0].device = "/cpu:0"
    assert gd["node"][0]["device"] == "/cpu:0"
    assert graph.get_operation_by_name("i").node_def == gd.node[3]


def test_json_and_serialisation_round_trip(graph):
    _build(graph)
    gd = graph.as_graph_def()
    text = json.dumps(gd)
    assert json.loads(text) == gd
    b = gd.SerializeToString()
    assert isinstance(b, bytes) and b == graph.as_graph_def().SerializeToString()
    gd2 = GraphDef()
    gd2.node.append({"name": "junk"})
    assert gd2.ParseFromString(b) == len(b)
    assert gd2 == gd and gd2.node[2].name == "split"
    gd3 = GraphDef()
    gd3.CopyFrom(gd)
    assert gd3 == gd and gd3.node is not gd.node
    gd3.MergeFromString(b)
    assert len(gd3.node) == 2 * len(gd.node)
    with pytest.raises(ValueError):
        GraphDef().ParseFromString(b"not json")
    assert copy.deepcopy(gd) == gd


def test_every_attr_type_decodes_losslessly(graph):
    _build(graph)
    gd = json.loads(json.dumps(graph.as_graph_def()))       # a plain JSON-loaded dict
    g2 = ops.Graph()
    with g2.as_default():
        import_graph_def(gd, name="")
    for op in graph.get_operations():
        op2 = g2.get_operation_by_name(op.name)
        assert op2.type == op.type and op2.device == op.device
        assert set(op2.attrs) == set(op.attrs)
        for k in op.attrs:
            assert _same(op.attrs[k], op2.attrs[k]), (op.name, k, op.attrs[k], op2.attrs[k])
        assert [t.name for t in op2.inputs] == [t.name for t in op.inputs]
        assert [c.name for c in op2.control_inputs] == [c.name for c in op.control_inputs]
        assert [(t.dtype, t.shape.as_list() if t.shape.ndims is not None else None)
                for t in op2.outputs] == [(t.dtype, t.shape.as_list() if t.shape.ndims
                                           is not None else None) for t in op.outputs]
    assert g2.as_graph_def() == graph.as_graph_def()


def test_encode_decode_helpers():
    for v in list(ATTRS.values()) + ARRAYS:
        assert _same(gdm.decode_attr(json.loads(json.dumps(gdm.encode_attr(v)))), v)
    # TF's typed-value form, padded with the last value, and halfVal bit patterns
    t = {"tensor": {"dtype": "DT_INT32", "tensorShape": {"dim": [{"size": "3"}]},
                    "intVal": [4, 5]}}
    assert gdm.decode_attr(t).tolist() == [4, 5, 5]
    t = {"tensor": {"dtype": "DT_HALF", "tensorShape": {}, "halfVal": [15360]}}
    assert gdm.decode_attr(t).item() == 1.0
    t = {"tensor": {"dtype": 1, "tensorShape": {"dim": [{"size": 2}]}}}
    assert gdm.decode_attr(t).tolist() == [0.0, 0.0]
    assert gdm.decode_attr({"f": "Infinity"}) == float("inf") and gdm.decode_attr({"i": 7}) == 7


def test_as_graph_def_from_version_and_shapes(graph):
    C.constant(1, name="a")
    v = graph.version
    C.placeholder(dtypes.float32, [None, 2], name="b")
    gd = graph.as_graph_def(from_version=v, add_shapes=True)
    assert [n.name for n in gd.node] == ["b"]
    assert gd.node[0].attr["_output_shapes"] == {
        "list": {"shape": [{"dim": [{"size": "-1"}, {"size": "2"}]}]}}


# ---------------------------------------------------------------- import_graph_def
def _small():
    g = ops.Graph()
    with g.as_default():
        x = C.placeholder(dtypes.float32, [2], name="x")
        a = C.constant([1.0, 2.0], name="a")
        with g.control_dependencies([a]):
            C.identity(x, name="y")
        g._create_op("_TestSplit2", [x], name="s")
    return g.as_graph_def()


def test_import_prefixes(graph):
    gd = _small()
    assert import_graph_def(gd) is None
    import_graph_def(gd)
    with graph.name_scope("outer"):
        import_graph_def(gd)
    import_graph_def(gd, name="pre")
    import_graph_def(gd, name="")
    names = [op.name for op in graph.get_operations()]
    assert names == [p + n for p in ("import/", "import_1/", "outer/import/", "pre/", "")
                     for n in ("x", "a", "y", "s")]
    y = graph.get_operation_by_name("pre/y")
    assert [t.name for t in y.inputs] == ["pre/x:0"] and y.control_inputs[0].name == "pre/a"
    with pytest.raises(ValueError, match="Duplicate node name"):
        import_graph_def(gd, name="")


def test_import_input_map_and_return_elements(graph):
    gd = _small()
    z = C.constant([5.0, 6.0], name="z")
    y, x_op, s1, mapped = import_graph_def(gd, input_map={"x:0": z},
                                           return_elements=["y:0", "x", "s:1", "x:0"])
    assert y.op.inputs == [z] and x_op.name == "import/x" and x_op.type == "Placeholder"
    assert s1.name == "import/s:1" and s1.op.inputs == [z] and mapped is z
    y2, = import_graph_def(gd, input_map={"x": [7.0, 8.0]}, return_elements=["y:0"],
                           name="conv")
    assert y2.op.inputs[0].op.type == "Const" and y2.op.inputs[0].op.name.startswith("conv/")
    with pytest.raises(ValueError, match="not found in graph_def: \\[q:0\\]"):
        import_graph_def(gd, input_map={"q:0": z})
    with pytest.raises(ValueError, match="dtype int32"):
        import_graph_def(gd, input_map={"x:0": C.constant([1, 2])})
    with pytest.raises(ValueError, match="Requested return_element 'nope:0' not found"):
        import_graph_def(gd, return_elements=["nope:0"])
    with pytest.raises(ValueError, match="not found"):
        import_graph_def(gd, return_elements=["y:3"])
    with pytest.raises(TypeError):
        import_graph_def(gd, input_map=[("x:0", z)])
    with pytest.raises(TypeError):
        import_graph_def(gd, input_map={1: z})
    with pytest.raises(TypeError):
        import_graph_def(gd, return_elements="y:0")


def test_import_into_graph_of_input_map(graph):
    gd = _small()
    g2 = ops.Graph()
    with g2.as_default():
        z = C.constant([5.0, 6.0], name="z")
    y, = import_graph_def(gd, input_map={"x:0": z}, return_elements=["y:0"])
    assert y.graph is g2 and graph.get_operations() == []


def test_import_device_scope_and_control_context(graph):
    gd = _small()
    gd.node[0].device = "/gpu:1"
    d = C.constant(0.0, name="d")
    with graph.device("/cpu:0"), graph.control_dependencies([d]):
        import_graph_def(gd)
    x, a = graph.get_operation_by_name("import/x"), graph.get_operation_by_name("import/a")
    assert x.device == "/device:GPU:1" and a.device == "/device:CPU:0"
    assert x.control_inputs == [d.op] and a.control_inputs == [d.op]
    assert graph.get_operation_by_name("import/y").control_inputs == [a]


def _node(name, op="Const", inputs=(), attr=None, **kw):
    n = {"name": name, "op": op, "input": list(inputs), "device": "",
         "attr": attr if attr is not None else {
             "value": {"tensor": {"dtype": "DT_FLOAT", "tensorShape": {}}},
             "dtype": {"type": "DT_FLOAT"}}}
    n.update(kw)
    return n


def _gd(*nodes):
    return {"node": list(nodes), "versions": {"producer": 1}, "library": {}}


PH = {"dtype": {"type": "DT_FLOAT"}, "shape": {"unknownRank": True}}
MALFORMED = [
    ("not a dict", [1, 2], "must be a GraphDef"),
    ("string", "{}", "must be a GraphDef"),
    ("none", None, "must be a GraphDef"),
    ("node not list", {"node": {}}, "must be a list"),
    ("node not dict", _gd("abc"), "not a dict"),
    ("no name", _gd({"op": "NoOp"}), "invalid name"),
    ("bad name", _gd(_node("a b")), "invalid name"),
    ("unknown op", _gd(_node("n1", op="Bogus")), "Node 'n1': Op type not registered 'Bogus'"),
    ("duplicate", _gd(_node("a"), _node("a")), "Duplicate node name in graph_def: 'a'"),
    ("dangling", _gd(_node("y", "Identity", ["nowhere"], {})), "Node 'y': Unknown input node "
                                                               "'nowhere'"),
    ("dangling control", _gd(_node("y", "NoOp", ["^gone"], {})), "Unknown input node 'gone'"),
    ("bad output index", _gd(_node("a"), _node("y", "Identity", ["a:3"], {})),
     "Node 'y': input 'a:3'"),
    ("bad input syntax", _gd(_node("a"), _node("y", "Identity", ["a:x"], {})), "Node 'y'"),
    ("input not list", _gd(_node("y", "Identity", attr={}, input="a")), "Node 'y'"),
    ("device not str", _gd(_node("a", device=3)), "Node 'a'"),
    ("bad device", _gd(_node("a", device="/foo:1")), "Node 'a'"),
    ("cycle", _gd(_node("p", "Identity", ["q"], {}), _node("q", "Identity", ["p"], {})),
     "cycle involving node"),
    ("self loop", _gd(_node("p", "Identity", ["^p"], {})), "cycle involving node 'p'"),
    ("attr not dict", _gd(_node("a", attr=[1])), "Node 'a'"),
    ("attr value not dict", _gd(_node("x", "Placeholder", attr={"dtype": "DT_FLOAT"})),
     "Node 'x': attr 'dtype'"),
    ("wrong attr type", _gd(_node("x", "Placeholder", attr={"dtype": {"i": "1"},
                                                            "shape": PH["shape"]})),
     "Node 'x'"),
    ("unknown dtype", _gd(_node("x", "Placeholder", attr={"dtype": {"type": "DT_BOGUS"}})),
     "Node 'x': attr 'dtype'"),
    ("unknown attr field", _gd(_node("x", "Placeholder", attr={"dtype": {"zz": 1}})),
     "Node 'x': attr 'dtype'"),
    ("two attr fields", _gd(_node("x", "Placeholder", attr={"dtype": {"i": "1", "b": True}})),
     "Node 'x'"),
    ("bad int", _gd(_node("x", "NoOp", attr={"k": {"i": "abc"}})), "Node 'x': attr 'k'"),
    ("bool as int", _gd(_node("x", "NoOp", attr={"k": {"i": True}})), "Node 'x': attr 'k'"),
    ("bad bool", _gd(_node("x", "NoOp", attr={"k": {"b": "yes"}})), "Node 'x': attr 'k'"),
    ("bad base64", _gd(_node("x", "NoOp", attr={"k": {"s": "!!!"}})), "Node 'x': attr 'k'"),
    ("bad shape", _gd(_node("x", "NoOp", attr={"k": {"shape": {"dim": 3}}})), "attr 'k'"),
    ("bad list", _gd(_node("x", "NoOp", attr={"k": {"list": {"i": "1"}}})), "attr 'k'"),
    ("short content", _gd(_node("c", attr={"dtype": {"type": "DT_FLOAT"}, "value": {"tensor": {
        "dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "3"}]},
        "tensorContent": "AAAAAA=="}}})), "Node 'c': attr 'value'"),
    ("value dtype mismatch", _gd(_node("c", attr={"dtype": {"type": "DT_INT32"}, "value": {
        "tensor": {"dtype": "DT_FLOAT", "tensorShape": {}}}})), "Node 'c'"),
    ("missing const value", _gd(_node("c", attr={"dtype": {"type": "DT_FLOAT"}})), "Node 'c'"),
    ("identity arity", _gd(_node("i", "Identity", [], {})), "Node 'i'"),
    ("noop with input", _gd(_node("a"), _node("n", "NoOp", ["a"], {})), "Node 'n'"),
    ("versions not dict", {"node": [], "versions": 3}, "versions"),
]


@pytest.mark.parametrize("case,gd,msg", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_graph_defs_raise_value_error(graph, case, gd, msg):
    before = graph.as_graph_def()
    with pytest.raises(ValueError) as e:
        import_graph_def(gd)
    assert msg in str(e.value)
    assert graph.as_graph_def() == before            # nothing was added


def test_failure_late_in_import_rolls_back(graph):
    gd = _small()
    gd["node"].append(_node("bad", "Identity", ["a", "a"], {}))
    with pytest.raises(ValueError, match="Node 'bad'"):
        import_graph_def(gd)
    assert graph.get_operations() == []
    import_graph_def(_small())                       # the graph is still usable
    assert len(graph.get_operations()) == 4


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) |
                     st.text(max_size=6),
                     lambda kids: st.lists(kids, max_size=3) |
                     st.dictionaries(st.text(max_size=6), kids, max_size=3), max_leaves=8)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_graph_defs_only_raise_value_error(graph, data):
    """Replace one random spot of a valid GraphDef with random JSON: import succeeds or
    raises ValueError, never anything else."""
    gd = json.loads(json.dumps(_small()))
    paths = []

    def walk(x, path):
        paths.append(path)
        if isinstance(x, dict):
            for k, v in x.items():
                walk(v, path + [k])
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, path + [i])

    walk(gd, [])
    path = data.draw(st.sampled_from(paths))
    new = data.draw(_json)
    if not path:
        gd = new
    else:
        target = gd
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = new
    with ops.Graph().as_default():
        try:
            import_graph_def(gd)
        except ValueError:
            pass
