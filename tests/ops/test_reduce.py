"""Reductions and ArgMax / ArgMin (clkernels/reduce.cl) on every device, against numpy."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pysession.framework import dtypes, errors, ops
from pysession.ops import core_ops, math_ops as m


def _load_run_on():
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conftest.py")
    spec = importlib.util.spec_from_file_location("_ops_conftest_for_reduce", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.run_on


run_on = _load_run_on()
RNG = np.random.default_rng(99)


def _ph(dt, shape):
    return core_ops.placeholder(dtypes.as_dtype(dt), shape)


def _np_reduce(op, x, axis, keep):
    ax = tuple(axis) if isinstance(axis, list) else axis
    if op == "sum":
        return np.sum(x, axis=ax, keepdims=keep, dtype=x.dtype)
    if op == "prod":
        return np.prod(x, axis=ax, keepdims=keep, dtype=x.dtype)
    if op == "max":
        return np.max(x, axis=ax, keepdims=keep)
    if op == "min":
        return np.min(x, axis=ax, keepdims=keep)
    if op == "any":
        return np.any(x, axis=ax, keepdims=keep)
    if op == "all":
        return np.all(x, axis=ax, keepdims=keep)
    if op == "mean":
        if x.dtype.kind in "iu":     # TF: integer sum (wrapping) then truncating division
            s = np.sum(x, axis=ax, keepdims=keep, dtype=x.dtype).astype(np.int64)
            cnt = x.size // max(1, np.asarray(s).size)
            return (np.sign(s) * (np.abs(s) // cnt)).astype(x.dtype)
        return np.mean(x.astype(np.float64), axis=ax, keepdims=keep).astype(x.dtype)
    raise ValueError(op)


def _data(dt, shape, op="sum"):
    if dt == "bool":
        return RNG.random(shape) < 0.5
    if np.dtype(dt).kind == "f":
        lo, hi = (0.5, 1.5) if op == "prod" else (-10, 10)
        return RNG.uniform(lo, hi, shape).astype(dt)
    if op == "prod":
        return RNG.integers(-3, 4, shape).astype(dt)
    info = np.iinfo(dt)
    return RNG.integers(max(info.min, -100), min(info.max, 100), shape).astype(dt)


def _check(got, want, dt):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape,
                                                                 got.dtype, want.dtype)
    if np.dtype(dt).kind == "f":
        np.testing.assert_allclose(got, want, rtol=1e-5 if dt == "float32" else 1e-12,
                                   atol=1e-5 if dt == "float32" else 1e-12, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want)


SHAPES = {"n1": ((1,), None), "n7": ((7,), 0), "n1023": ((1023,), -1),
          "rows": ((33, 65), 1), "cols": ((65, 33), 0), "mid": ((5, 300, 3), 1),
          "wide_cols": ((70, 40), [0]), "split": ((3, 4, 5, 6), [0, 2]),
          "all4": ((2, 3, 4, 5), None), "lead": ((6, 5, 40), [0, 1])}
OPS_DT = [("sum", "float32"), ("sum", "float64"), ("sum", "int32"), ("sum", "int8"),
          ("mean", "float32"), ("mean", "int32"), ("max", "float32"), ("max", "int64"),
          ("min", "float32"), ("min", "uint8"), ("prod", "float32"), ("prod", "int32"),
          ("any", "bool"), ("all", "bool")]


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("op,dt", OPS_DT, ids=["%s-%s" % p for p in OPS_DT])
def test_reduce(device, op, dt, shape):
    shp, axis = SHAPES[shape]
    x = _data(dt, shp, op)
    keep = shape in ("rows", "split")
    p = _ph(dt, shp)
    t = getattr(m, "reduce_" + op)(p, axis=axis, keepdims=keep)
    want = _np_reduce(op, x, axis, keep)
    assert t.shape.as_list() == list(np.shape(want))
    assert t.op.type == op.capitalize()
    _check(run_on(device, t, {p: x}), want, dt)


@pytest.mark.parametrize("dt", ["float32", "int32"])
@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "prod"])
def test_reduce_empty(device, op, dt):
    p = _ph(dt, [None, 3])
    x = np.zeros((0, 3), dt)
    got = run_on(device, [getattr(m, "reduce_" + op)(p, 0), getattr(m, "reduce_" + op)(p, 1)],
                 {p: x})
    assert got[1].shape == (0,)
    if op == "mean":
        want = np.full(3, np.nan if dt == "float32" else 0, dt)
    else:
        with np.errstate(all="ignore"):
            want = {"sum": np.sum, "prod": np.prod,
                    "max": lambda a, axis: np.max(a, axis, initial=-np.inf if dt[0] == "f"
                                                  else np.iinfo(dt).min),
                    "min": lambda a, axis: np.min(a, axis, initial=np.inf if dt[0] == "f"
                                                  else np.iinfo(dt).max)}[op](x, axis=0)
        want = want.astype(dt)
    _check(got[0], want, dt)


def test_reduce_any_all_empty(device):
    p = _ph("bool", [0, 2])
    got = run_on(device, [m.reduce_any(p, 0), m.reduce_all(p, 0)], {p: np.zeros((0, 2), bool)})
    _check(got[0], np.array([False, False]), "bool")
    _check(got[1], np.array([True, True]), "bool")


def test_nan_propagates(device):
    x = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0], [np.nan, -1.0, 2.0]], np.float32)
    p = _ph("float32", [3, 3])
    outs = [m.reduce_max(p, 1), m.reduce_min(p, 0), m.reduce_sum(p, 1), m.reduce_max(p)]
    got = run_on(device, outs, {p: x})
    _check(got[0], np.max(x, 1), "float32")
    _check(got[1], np.min(x, 0), "float32")
    _check(got[2], np.sum(x, 1), "float32")
    assert np.isnan(got[3])


def test_int_mean_truncates_and_int_sum_wraps(device):
    p = _ph("int32", [4])
    q = _ph("int8", [3])
    got = run_on(device, [m.reduce_mean(p), m.reduce_sum(q)],
                 {p: np.array([-7, 1, 0, 1], np.int32), q: np.array([100, 100, 100], np.int8)})
    assert got[0] == -1                      # -5 / 4 truncates toward zero
    assert got[1] == np.int8(44)             # 300 wraps in int8


def test_float32_sum_accuracy(device):
    x = RNG.uniform(0, 1, 1_000_000).astype(np.float32)
    p = _ph("float32", [None])
    q = _ph("float32", [None, None])
    x2 = RNG.standard_normal((1 << 20, 3)).astype(np.float32)
    got = run_on(device, [m.reduce_sum(p), m.reduce_mean(p), m.reduce_sum(q, 0)],
                 {p: x, q: x2})
    np.testing.assert_allclose(got[0], x.astype(np.float64).sum(), rtol=1e-6)
    np.testing.assert_allclose(got[1], x.astype(np.float64).mean(), rtol=1e-6)
    ref = x2.astype(np.float64).sum(0)
    np.testing.assert_allclose(got[2], ref, rtol=0, atol=1e-5 * np.abs(x2).sum(0).max())


def test_large_reduction(device):
    n = 1 << 26
    x = np.ones(n, np.float32)
    x[::3] = 0.5
    p = _ph("float32", [n])
    got = run_on(device, [m.reduce_sum(p), m.reduce_max(p)], {p: x})
    np.testing.assert_allclose(got[0], x.astype(np.float64).sum(), rtol=1e-6)
    assert got[1] == 1.0


def test_static_shapes_aliases_and_errors():
    p = _ph("float32", [2, None, 4])
    assert m.reduce_sum(p).shape.as_list() == []
    assert m.reduce_sum(p, 1).shape.as_list() == [2, 4]
    assert m.reduce_sum(p, [0, -1], keepdims=True).shape.as_list() == [1, None, 1]
    assert m.reduce_sum(p, reduction_indices=[2], keep_dims=True).shape.as_list() == [2, None, 1]
    assert m.reduce_max(p, core_ops.constant([1])).shape.as_list() == [2, 4]
    t = m.reduce_sum(p, 0, keepdims=True)
    assert t.op.get_attr("keep_dims") is True and t.op.type == "Sum"
    with pytest.raises(ValueError):
        m.reduce_sum(p, 3)
    with pytest.raises(ValueError):
        m.reduce_sum(p, -4)
    with pytest.raises(ValueError):
        m.reduce_sum(p, axis=0, reduction_indices=0)
    with pytest.raises(ValueError):
        m.reduce_sum(p, keepdims=True, keep_dims=True)
    with pytest.raises(TypeError):
        m.reduce_any(p)
    with pytest.raises(TypeError):
        m.reduce_sum(_ph("bool", [2]))
    ax = _ph("int32", [1])
    assert m.reduce_sum(p, ax).shape.ndims is None
    assert m.reduce_sum(p, ax, keepdims=True).shape.as_list() == [None, None, None]


def test_axis_from_constant_folded_tensor(device):
    p = _ph("float32", [3, 4])
    ax = core_ops.constant(2) - 1
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    t = m.reduce_sum(p, ax)
    assert t.shape.as_list() == [3]
    _check(run_on(device, t, {p: x}), x.sum(1), "float32")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=4),
       data=st.data(), op=st.sampled_from(["sum", "max", "min", "mean", "prod"]),
       keep=st.booleans())
def test_reduce_random_axes(shape, data, op, keep):
    from pysession.runtime import devices
    rank = len(shape)
    axes = data.draw(st.lists(st.integers(-rank, rank - 1), unique_by=lambda a: a % rank,
                              max_size=rank))
    dt = "int32" if op == "prod" else "float32"
    x = _data(dt, shape, op)
    with ops.Graph().as_default():
        p = _ph(dt, shape)
        t = getattr(m, "reduce_" + op)(p, axis=axes, keepdims=keep)
        want = _np_reduce(op, x, [a % rank for a in axes], keep)
        assert t.shape.as_list() == list(np.shape(want))
        _check(run_on(devices.devices()[0], t, {p: x}), want, dt)


# ------------------------------------------------------------------------------- argmax / argmin
@pytest.mark.parametrize("dt", ["float32", "int32", "float64", "uint8"])
@pytest.mark.parametrize("shape,axis", [((1,), 0), ((7,), 0), ((1023,), -1), ((6, 33), 0),
                                        ((6, 33), 1), ((3, 4, 5), 1)])
def test_argmax_argmin(device, dt, shape, axis):
    x = (_data(dt, shape) % 7).astype(dt)     # many ties: the first index wins
    p = _ph(dt, shape)
    a, b = m.argmax(p, axis), m.argmin(p, axis=axis, output_type=dtypes.int32)
    assert a.dtype == dtypes.int64 and b.dtype == dtypes.int32
    got = run_on(device, [a, b], {p: x})
    _check(got[0], np.argmax(x, axis), "int64")
    _check(got[1], np.argmin(x, axis).astype(np.int32), "int32")


def test_argmax_nan_and_errors(device):
    x = np.array([[1.0, np.nan, 5.0, np.nan], [3.0, 2.0, 3.0, 1.0]], np.float32)
    p = _ph("float32", [2, 4])
    got = run_on(device, [m.argmax(p, 1), m.argmin(p, 1), m.argmax(p, dimension=0)], {p: x})
    _check(got[0], np.argmax(x, 1), "int64")
    _check(got[1], np.argmin(x, 1), "int64")
    _check(got[2], np.argmax(x, 0), "int64")
    with pytest.raises(ValueError):
        m.argmax(p, 2)
    with pytest.raises(ValueError):
        m.argmax(p, axis=0, dimension=0)
    q = _ph("float32", [0, 3])
    with pytest.raises(errors.InvalidArgumentError):
        run_on(device, m.argmax(q, 0), {q: np.zeros((0, 3), np.float32)})
