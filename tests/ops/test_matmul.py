"""MatMul / BatchMatMulV2 (gemm_recipe + matmul.cl) and tensordot on every device."""
import numpy as np
import pytest

from pysession.framework import dtypes
from pysession.ops import core_ops, math_ops as m


def _load_run_on():
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conftest.py")
    spec = importlib.util.spec_from_file_location("_ops_conftest_for_matmul", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.run_on


run_on = _load_run_on()
RNG = np.random.default_rng(7)


def _ph(dt, shape):
    return core_ops.placeholder(dtypes.as_dtype(dt), shape)


def _close(got, want, dt):
    got = np.asarray(got)
    assert got.shape == want.shape and got.dtype == np.dtype(dt), (got.shape, want.shape)
    if np.dtype(dt).kind == "f":
        scale = max(1.0, float(np.abs(want).max(initial=0)))
        np.testing.assert_allclose(got, want.astype(dt), rtol=1e-5,
                                   atol=(1e-5 if dt == "float32" else 1e-12) * scale)
    else:
        np.testing.assert_array_equal(got, want.astype(dt))


MNK = [(1, 1, 1), (7, 7, 7), (33, 7, 1023), (1023, 33, 7), (7, 1023, 33)]


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("mnk", MNK, ids=["x".join(map(str, s)) for s in MNK])
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_matmul_2d(device, dt, mnk, ta, tb):
    M, N, K = mnk
    a = RNG.standard_normal((K, M) if ta else (M, K)).astype(dt)
    b = RNG.standard_normal((N, K) if tb else (K, N)).astype(dt)
    pa, pb = _ph(dt, a.shape), _ph(dt, b.shape)
    t = m.matmul(pa, pb, transpose_a=ta, transpose_b=tb)
    assert t.op.type == "MatMul" and t.shape.as_list() == [M, N]
    want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
    _close(run_on(device, t, {pa: a, pb: b}), want, dt)


def test_matmul_1023_square(device):
    a = RNG.standard_normal((1023, 1023)).astype(np.float32)
    b = RNG.standard_normal((1023, 1023)).astype(np.float32)
    pa, pb = _ph("float32", None), _ph("float32", None)
    got = run_on(device, pa @ pb, {pa: a, pb: b})
    _close(got, a.astype(np.float64) @ b, "float32")


@pytest.mark.parametrize("sa,sb", [
    ((3, 5, 4), (3, 4, 2)),            # same batch
    ((3, 5, 4), (4, 2)),               # rank-2 operand broadcast
    ((5, 4), (2, 3, 4, 6)),
    ((2, 1, 5, 3), (4, 3, 6)),         # both broadcast: materialised
    ((1, 7, 33), (6, 33, 7)),
])
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_batch_matmul_broadcast(device, dt, sa, sb):
    a = RNG.standard_normal(sa).astype(dt)
    b = RNG.standard_normal(sb).astype(dt)
    pa, pb = _ph(dt, sa), _ph(dt, sb)
    t = m.matmul(pa, pb)
    want = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert t.op.type == "BatchMatMulV2" and t.shape.as_list() == list(want.shape)
    _close(run_on(device, t, {pa: a, pb: b}), want, dt)


def test_batch_matmul_adjoint(device):
    a = RNG.standard_normal((2, 4, 5)).astype(np.float32)
    b = RNG.standard_normal((2, 6, 4)).astype(np.float32)
    pa, pb = _ph("float32", a.shape), _ph("float32", b.shape)
    t1 = m.matmul(pa, pb, adjoint_a=True, adjoint_b=True)
    t2 = m.matmul(pa, pb, transpose_a=True, transpose_b=True)
    assert t1.op.get_attr("adj_x") and t1.op.get_attr("adj_y")
    want = np.swapaxes(a, 1, 2).astype(np.float64) @ np.swapaxes(b, 1, 2)
    got = run_on(device, [t1, t2], {pa: a, pb: b})
    _close(got[0], want, "float32")
    _close(got[1], want, "float32")


@pytest.mark.parametrize("dt", ["int32", "int64"])
def test_matmul_int(device, dt):
    a = RNG.integers(-20, 20, (2, 7, 33)).astype(dt)
    b = RNG.integers(-20, 20, (33, 5)).astype(dt)
    pa, pb = _ph(dt, a.shape), _ph(dt, b.shape)
    t = m.matmul(pa, pb)
    assert t.op.type == "BatchMatMulV2"
    _close(run_on(device, t, {pa: a, pb: b}), a @ b, dt)
    a2 = RNG.integers(-20, 20, (5, 3)).astype(dt)
    p2 = _ph(dt, a2.shape)
    _close(run_on(device, m.matmul(p2, p2, transpose_a=True), {p2: a2}), a2.T @ a2, dt)


def test_matmul_empty(device):
    pa, pb = _ph("float32", [4, None]), _ph("float32", [None, 3])
    got = run_on(device, m.matmul(pa, pb), {pa: np.zeros((4, 0), np.float32),
                                            pb: np.zeros((0, 3), np.float32)})
    _close(got, np.zeros((4, 3)), "float32")
    qa, qb = _ph("float32", [None, 5]), _ph("float32", [5, 3])
    got = run_on(device, m.matmul(qa, qb), {qa: np.zeros((0, 5), np.float32),
                                            qb: np.ones((5, 3), np.float32)})
    assert got.shape == (0, 3)
    ra, rb = _ph("float64", [2, 3, 0]), _ph("float64", [2, 0, 4])
    got = run_on(device, m.matmul(ra, rb), {ra: np.zeros((2, 3, 0)), rb: np.zeros((2, 0, 4))})
    _close(got, np.zeros((2, 3, 4)), "float64")


def test_matmul_errors():
    a = _ph("float32", [2, 3])
    with pytest.raises(ValueError):
        m.matmul(a, _ph("float32", [4, 5]))
    with pytest.raises(ValueError):
        m.matmul(a, _ph("float32", [3]))
    with pytest.raises(TypeError):
        m.matmul(a, _ph("float64", [3, 2]))
    with pytest.raises(TypeError):
        m.matmul(_ph("bool", [2, 2]), _ph("bool", [2, 2]))
    with pytest.raises(ValueError):
        m.matmul(a, a, transpose_a=True, adjoint_a=True)
    with pytest.raises(ValueError):
        m.matmul(_ph("float32", [2, 2, 3]), _ph("float32", [3, 2, 2]))
    assert m.matmul(a, a, transpose_b=True).shape.as_list() == [2, 2]
    assert m.matmul(a, [[1.0], [2.0], [3.0]]).shape.as_list() == [2, 1]


def test_tensordot(device):
    try:
        from pysession.ops import array_ops
        array_ops.transpose, array_ops.reshape
    except (ImportError, AttributeError):
        pytest.skip("array_ops.transpose / reshape are not available yet")
    a = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    b = RNG.standard_normal((5, 4, 6)).astype(np.float32)
    pa, pb = _ph("float32", a.shape), _ph("float32", b.shape)
    outs = [m.tensordot(pa, pb, [[1, 2], [1, 0]]), m.tensordot(pa, pb, 1),
            m.tensordot(pa, pa, [[0, 1], [0, 1]])]
    got = run_on(device, outs, {pa: a, pb: b})
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    _close(got[0], np.tensordot(a64, b64, [[1, 2], [1, 0]]), "float32")
    _close(got[1], np.tensordot(a64, b64, 1), "float32")
    _close(got[2], np.tensordot(a64, a64, [[0, 1], [0, 1]]), "float32")
    assert outs[0].shape.as_list() == [3, 6]
