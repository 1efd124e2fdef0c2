"""Elementwise math ops, Cast and AddN on every device, against numpy."""
import numpy as np
import pytest

from pysession.framework import dtypes, errors
from pysession.ops import core_ops, math_ops as m



def _load_run_on():
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conftest.py")
    spec = importlib.util.spec_from_file_location("_ops_conftest_for_math", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.run_on


run_on = _load_run_on()

SIZES = [1, 7, 1023]
RNG = np.random.default_rng(1234)


def _ph(dt, shape):
    return core_ops.placeholder(dtypes.as_dtype(dt), shape)


def _close(got, want, rtol=1e-5, atol=0.0):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)


# ------------------------------------------------------------------------------- unary floats
def _domain(name, n, dt):
    if name in ("sqrt", "rsqrt", "log", "reciprocal"):
        x = RNG.uniform(0.05, 50.0, n)
    elif name in ("log1p",):
        x = RNG.uniform(-0.9, 10.0, n)
    elif name in ("exp", "expm1"):
        x = RNG.uniform(-20.0, 20.0, n)
    elif name in ("sin", "cos"):
        x = RNG.uniform(-10.0, 10.0, n)
    elif name in ("round",):
        x = np.round(RNG.uniform(-10.0, 10.0, n) * 2) / 2     # exact halves: half to even
    else:
        x = RNG.uniform(-8.0, 8.0, n)
    return x.astype(dt)


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


UNARY = {
    "negative": np.negative, "abs": np.abs, "sign": np.sign, "square": np.square,
    "sqrt": np.sqrt, "rsqrt": lambda x: 1 / np.sqrt(x), "exp": np.exp, "log": np.log,
    "log1p": np.log1p, "expm1": np.expm1, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
    "sigmoid": _np_sigmoid, "floor": np.floor, "ceil": np.ceil, "round": np.round,
    "reciprocal": lambda x: 1 / x,
}


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_float(device, name, dt, n):
    x = _domain(name, n, dt)
    p = _ph(dt, [None])
    got = run_on(device, getattr(m, name)(p), {p: x})
    want = UNARY[name](x.astype(np.float64)).astype(dt)
    _close(got, want, rtol=2e-6 if dt == "float32" else 1e-12, atol=1e-30)


@pytest.mark.parametrize("dt", ["int32", "int64", "int8"])
@pytest.mark.parametrize("name", ["negative", "abs", "sign", "square"])
def test_unary_int(device, name, dt):
    info = np.iinfo(dt)
    x = RNG.integers(max(info.min, -1000), min(info.max, 1000), 1023).astype(dt)
    x[:4] = [0, 1, -1, info.min]          # -INT_MIN wraps, as numpy
    p = _ph(dt, [None])
    got = run_on(device, getattr(m, name)(p), {p: x})
    with np.errstate(over="ignore"):
        _close(got, UNARY[name](x))


def test_unary_rejects_int(device):
    with pytest.raises(TypeError):
        m.sqrt(_ph("int32", [3]))
    with pytest.raises(TypeError):
        m.exp(core_ops.constant([1, 2]))


# ------------------------------------------------------------------------------- binary
BINARY = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply,
    "maximum": np.maximum, "minimum": np.minimum,
    "squared_difference": lambda a, b: np.square(a - b),
    "floordiv": np.floor_divide, "floormod": np.mod,
    "equal": np.equal, "not_equal": np.not_equal, "less": np.less,
    "less_equal": np.less_equal, "greater": np.greater, "greater_equal": np.greater_equal,
}
SHAPES = {   # broadcast classes: (x shape, y shape)
    "n1": ((1,), (1,)), "n7": ((7,), (7,)), "n1023": ((1023,), (1023,)),
    "scalar": ((5, 7), ()), "row": ((6, 7), (1, 7)), "col": ((6, 7), (6, 1)),
    "rank4": ((2, 1, 4, 5), (3, 1, 5)),
}


def _operands(dt, xs, ys, nonzero=False):
    if np.dtype(dt).kind == "f":
        x = RNG.uniform(-10, 10, xs).astype(dt)
        y = RNG.uniform(-10, 10, ys).astype(dt)
        if x.size > 2 and y.size > 2:
            y.flat[1] = x.flat[1] if x.shape == y.shape else y.flat[1]
    else:
        x = RNG.integers(-50, 50, xs).astype(dt)
        y = RNG.integers(-50, 50, ys).astype(dt)
    if nonzero:
        y = np.where(y == 0, np.array(3, dt), y).astype(dt)
    return x, y


@pytest.mark.parametrize("shapes", sorted(SHAPES))
@pytest.mark.parametrize("dt", ["float32", "int32"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(device, name, dt, shapes):
    xs, ys = SHAPES[shapes]
    x, y = _operands(dt, xs, ys, nonzero=name in ("floordiv", "floormod"))
    px, py = _ph(dt, xs), _ph(dt, ys)
    out = getattr(m, name)(px, py)
    want = BINARY[name](x, y)
    assert out.shape.as_list() == list(want.shape)
    got = run_on(device, out, {px: x, py: y})
    _close(got, want.astype(want.dtype), rtol=1e-6 if dt == "float32" else 0)


@pytest.mark.parametrize("dt", ["float64", "int64", "int8", "uint8", "int16"])
@pytest.mark.parametrize("name", ["add", "multiply", "maximum", "floordiv", "floormod"])
def test_binary_more_dtypes(device, name, dt):
    x, y = _operands(dt, (4, 33), (33,), nonzero=name in ("floordiv", "floormod"))
    if dt == "uint8":
        x, y = x.astype(np.uint8), np.where(y.astype(np.uint8) == 0, 1, y).astype(np.uint8)
    px, py = _ph(dt, None), _ph(dt, None)
    got = run_on(device, getattr(m, name)(px, py), {px: x, py: y})
    with np.errstate(over="ignore"):
        _close(got, BINARY[name](x, y))


def test_floordiv_floormod_signs(device):
    x = np.array([7, -7, 7, -7, 0, 5, -5], np.int32)
    y = np.array([2, 2, -2, -2, 3, -5, 5], np.int32)
    xf, yf = x.astype(np.float32) + 0.5, y.astype(np.float32)
    px, py, fx, fy = _ph("int32", [7]), _ph("int32", [7]), _ph("float32", [7]), \
        _ph("float32", [7])
    got = run_on(device, [px // py, px % py, fx // fy, fx % fy, m.mod(fx, fy)],
                 {px: x, py: y, fx: xf, fy: yf})
    _close(got[0], x // y)
    _close(got[1], x % y)
    _close(got[2], xf // yf)
    _close(got[3], np.mod(xf, yf), rtol=1e-6)
    _close(got[4], np.mod(xf, yf), rtol=1e-6)


@pytest.mark.parametrize("op", ["floordiv", "floormod"])
@pytest.mark.parametrize("dt", ["int32", "int64"])
def test_integer_division_by_zero_raises(device, op, dt):
    px, py = _ph(dt, [3]), _ph(dt, [3])
    out = px // py if op == "floordiv" else px % py
    with pytest.raises(errors.InvalidArgumentError):
        run_on(device, out, {px: np.array([1, 2, 3], dt), py: np.array([1, 0, 2], dt)})
    # the same plan shape with a valid divisor still runs
    got = run_on(device, out, {px: np.array([1, 2, 3], dt), py: np.array([1, 1, 2], dt)})
    _close(got, np.array([1, 2, 1], dt) if op == "floordiv" else np.array([0, 0, 1], dt))


def test_pow(device):
    x = RNG.uniform(0.1, 4.0, 33).astype(np.float32)
    y = RNG.uniform(-3, 3, 33).astype(np.float32)
    i = np.arange(-5, 6, dtype=np.int32)
    e = np.array([0, 1, 2, 3, 0, 5, 2, 1, 3, 2, 4], np.int32)
    px, py, pi, pe = _ph("float32", [33]), _ph("float32", [33]), _ph("int32", [11]), \
        _ph("int32", [11])
    got = run_on(device, [m.pow(px, py), px ** 2.0, pi ** pe], {px: x, py: y, pi: i, pe: e})
    _close(got[0], np.power(x.astype(np.float64), y).astype(np.float32), rtol=1e-5)
    _close(got[1], np.square(x), rtol=1e-6)
    _close(got[2], np.power(i, e))


# ------------------------------------------------------------------------------- division
@pytest.mark.parametrize("dt,out", [("int32", "float64"), ("int64", "float64"),
                                    ("int8", "float32"), ("int16", "float32"),
                                    ("uint8", "float32"), ("float32", "float32"),
                                    ("float64", "float64")])
def test_truediv_dtypes(device, dt, out):
    x = np.array([7, -7, 9, 1], dt) if dt != "uint8" else np.array([7, 8, 9, 1], dt)
    y = np.array([2, 2, -4, 3], dt) if dt != "uint8" else np.array([2, 2, 4, 3], dt)
    px, py = _ph(dt, [4]), _ph(dt, [4])
    for t in (px / py, m.truediv(px, py), m.divide(px, py)):
        assert t.dtype.name == out
    got = run_on(device, [px / py, m.divide(px, py)], {px: x, py: y})
    want = (x.astype(np.float64) / y.astype(np.float64)).astype(out)
    _close(got[0], want, rtol=1e-7)
    _close(got[1], want, rtol=1e-7)


def test_truediv_ops_and_errors():
    px = _ph("int32", [2])
    t = px / 2
    assert t.op.type == "RealDiv"
    assert [i.op.type for i in t.op.inputs] == ["Cast", "Cast"]
    assert (m.div(px, px)).op.type == "FloorDiv"
    f = _ph("float32", [2])
    assert m.div(f, f).op.type == "RealDiv"
    with pytest.raises(TypeError):
        m.truediv(_ph("bool", [2]), _ph("bool", [2]))
    with pytest.raises(TypeError):
        m.truediv(px, f)


def test_div_legacy(device):
    x, y = np.array([7, -7], np.int32), np.array([2, 2], np.int32)
    px, py = _ph("int32", [2]), _ph("int32", [2])
    _close(run_on(device, m.div(px, py), {px: x, py: y}), np.array([3, -4], np.int32))


# ------------------------------------------------------------------------------- operators
def test_tensor_operators(device):
    x = RNG.uniform(-5, 5, (3, 4)).astype(np.float32)
    y = RNG.uniform(1, 5, (4,)).astype(np.float32)
    px, py = _ph("float32", [3, 4]), _ph("float32", [4])
    outs = [px + py, px - py, px * py, px / py, 2.0 - px, 1.0 / py, -px, abs(px), px < py,
            px <= 0.5, px > py, px >= py, px ** 2]
    want = [x + y, x - y, x * y, x / y, 2 - x, 1 / y, -x, np.abs(x), x < y, x <= 0.5, x > y,
            x >= y, x ** 2]
    got = run_on(device, outs, {px: x, py: y})
    for g, w in zip(got, want):
        _close(g, w.astype(w.dtype), rtol=1e-6)


def test_logical_ops(device):
    a = np.array([True, True, False, False])
    b = np.array([True, False, True, False])
    pa, pb = _ph("bool", [4]), _ph("bool", [4])
    outs = [m.logical_and(pa, pb), m.logical_or(pa, pb), m.logical_not(pa),
            m.logical_xor(pa, pb), pa & pb, pa | pb, pa ^ pb, ~pa, m.equal(pa, pb)]
    want = [a & b, a | b, ~a, a ^ b, a & b, a | b, a ^ b, ~a, a == b]
    for g, w in zip(run_on(device, outs, {pa: a, pb: b}), want):
        _close(g, w)
    with pytest.raises(TypeError):
        m.logical_and(_ph("int32", [2]), _ph("int32", [2]))


# ------------------------------------------------------------------------------- NaN
def test_nan_propagation(device):
    x = np.array([np.nan, 1.0, np.nan, -2.0, 0.0], np.float32)
    y = np.array([1.0, np.nan, np.nan, 3.0, -0.0], np.float32)
    px, py = _ph("float32", [5]), _ph("float32", [5])
    got = run_on(device, [m.maximum(px, py), m.minimum(px, py), m.sign(px), px + py,
                          m.equal(px, px)], {px: x, py: y})
    _close(got[0], np.maximum(x, y))
    _close(got[1], np.minimum(x, y))
    _close(got[2], np.sign(x))
    _close(got[3], x + y)
    _close(got[4], x == x)


# ------------------------------------------------------------------------------- cast
@pytest.mark.parametrize("src,dst", [("float32", "int32"), ("int32", "float32"),
                                     ("float32", "bool"), ("bool", "float32"),
                                     ("int32", "bool"), ("bool", "int32"),
                                     ("float64", "float32"), ("int64", "int8"),
                                     ("float32", "float16"), ("float16", "float32"),
                                     ("uint8", "float64")])
def test_cast(device, src, dst):
    base = np.array([0, 1.5, -2.7, 3, 0.25, -0.0, 100.9, 7], np.float64)
    if np.dtype(src).kind in "iub":
        base = np.trunc(base)
    if src == "uint8":
        base = np.abs(base)
    x = base.astype(src)
    p = _ph(src, [8])
    t = m.cast(p, dst)
    assert t.op.type == "Cast" and t.op.get_attr("DstT").name == dst
    with np.errstate(invalid="ignore"):
        _close(run_on(device, t, {p: x}), x.astype(dst))


def test_cast_same_dtype_is_identity():
    p = _ph("float32", [2])
    assert m.cast(p, dtypes.float32) is p
    assert m.cast(p, "float32") is p


# ------------------------------------------------------------------------------- add_n
@pytest.mark.parametrize("n", [2, 3, 6])
def test_add_n(device, n):
    xs = [RNG.standard_normal((7, 33)).astype(np.float32) for _ in range(n)]
    ps = [_ph("float32", [7, 33]) for _ in range(n)]
    t = m.add_n(ps)
    assert t.op.type == "AddN"
    _close(run_on(device, t, dict(zip(ps, xs))), np.sum(xs, axis=0, dtype=np.float32),
           rtol=1e-5, atol=1e-6)


def test_add_n_single_and_errors(device):
    p = _ph("int32", [3])
    assert m.add_n([p]) is p
    with pytest.raises(ValueError):
        m.add_n([])
    with pytest.raises(ValueError):
        m.add_n([p, _ph("int32", [4])])
    with pytest.raises(TypeError):
        m.add_n([p, _ph("float32", [3])])
    q = _ph("int32", [3])
    _close(run_on(device, m.add_n([p, q, p]), {p: np.array([1, 2, 3], np.int32),
                                               q: np.array([10, 20, 30], np.int32)}),
           np.array([12, 24, 36], np.int32))


# ------------------------------------------------------------------------------- shapes, errors
def test_static_shapes_and_errors():
    a, b = _ph("float32", [None, 3]), _ph("float32", [4, 1])
    assert (a + b).shape.as_list() == [4, 3]
    with pytest.raises(ValueError):
        _ph("float32", [2, 3]) + _ph("float32", [4])
    with pytest.raises(TypeError):
        m.add(_ph("float32", [2]), _ph("int32", [2]))
    assert m.less(a, 1.0).dtype == dtypes.bool
    assert m.add(a, b).op.type == "AddV2"
    assert m.subtract(a, b).op.type == "Sub"
    assert m.floormod(a, b).op.type == "FloorMod"


def test_empty_tensors(device):
    px, py = _ph("float32", [None, 3]), _ph("float32", [3])
    x = np.zeros((0, 3), np.float32)
    got = run_on(device, [px + py, m.exp(px), m.add_n([px, px])],
                 {px: x, py: np.ones(3, np.float32)})
    for g in got:
        assert g.shape == (0, 3) and g.dtype == np.float32


def test_constant_folding_host():
    from pysession.framework import ops
    c = core_ops.constant([6, 7], dtype=dtypes.int32)
    assert ops.constant_value(c * 2 + 1).tolist() == [13, 15]
    assert ops.constant_value(c // 4).tolist() == [1, 1]
    assert ops.constant_value(c // core_ops.constant([0, 1])) is None   # would raise at run


def test_large_elementwise(device):
    n = 1 << 26
    x = np.frombuffer(RNG.bytes(n), np.uint8)
    p = _ph("uint8", [n])
    got = run_on(device, p * 3 + 7, {p: x})
    assert got.shape == (n,)
    np.testing.assert_array_equal(got, x * np.uint8(3) + np.uint8(7))
