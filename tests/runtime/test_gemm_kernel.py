"""clkernels/matmul.cl through pysession.runtime.gemm.gemm_recipe, against numpy (float64)."""
import functools
import os

import numpy as np
import pytest

cl = pytest.importorskip("pyopencl")

from pysession.runtime import gemm  # noqa: E402

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "clkernels", "matmul.cl")


@functools.lru_cache(maxsize=None)
def _context():
    from pysession.runtime import config
    prepare = getattr(config, "prepare_environment", None)
    if prepare is not None:  # makes the bundled PoCL usable on CPUs its LLVM cannot name
        prepare()
    ctx = cl.create_some_context(interactive=False)
    try:  # an OpenCL that cannot compile anything here is not matmul.cl's fault
        cl.Program(ctx, "__kernel void k(__global float* x) { x[0] = 1.0f; }").build()
    except cl.RuntimeError as e:
        pytest.skip("this OpenCL device cannot build kernels: %s" % str(e).strip()[-200:])
    return ctx, cl.CommandQueue(ctx)


@functools.lru_cache(maxsize=None)
def _program(defines):
    ctx, _ = _context()
    with open(SRC) as f:
        src = f.read()
    return cl.Program(ctx, src).build(options=["-D%s=%s" % kv for kv in defines])


@functools.lru_cache(maxsize=None)
def _kernel(defines, name):
    return cl.Kernel(_program(defines), name)


def run_recipe(a, b, batch, M, N, K, trans_a, trans_b, a_bs, b_bs, cpu):
    """Run gemm_recipe's launches on flat arrays a, b; returns C as (batch, M, N)."""
    ctx, q = _context()
    dtype = a.dtype
    launches, scratch = gemm.gemm_recipe(dtype.name, batch, M, N, K, trans_a, trans_b,
                                         a_bs, b_bs, cpu)
    mf = cl.mem_flags
    bufs = {"A": cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=a),
            "B": cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=b)}
    # C starts as NaN so an element no kernel writes is caught
    c = np.full(batch * M * N, np.nan, dtype)
    bufs["C"] = cl.Buffer(ctx, mf.READ_WRITE | mf.COPY_HOST_PTR, hostbuf=c)
    for k, size in enumerate(scratch):
        # NaN-filled too, so a read of scratch that was never packed shows
        bufs[("tmp", k)] = cl.Buffer(ctx, mf.READ_WRITE | mf.COPY_HOST_PTR,
                                     hostbuf=np.full(size // dtype.itemsize, np.nan, dtype))
    for ln in launches:
        assert ln["file"] == "matmul.cl" and ln["lws"] is not None
        assert all(g % l == 0 for g, l in zip(ln["gws"], ln["lws"]))
        kern = _kernel(tuple(sorted(ln["defines"].items())), ln["kernel"])
        args = [bufs[x] if isinstance(x, (str, tuple)) else x for x in ln["args"]]
        kern.set_args(*args)
        cl.enqueue_nd_range_kernel(q, kern, ln["gws"], ln["lws"])
    cl.enqueue_copy(q, c, bufs["C"])
    q.finish()
    return c.reshape(batch, M, N)


def check(M, N, K, trans_a=False, trans_b=False, batch=1, bcast_a=False, bcast_b=False,
          dtype=np.float32, cpu=True, seed=0):
    rng = np.random.default_rng(seed + M * 7919 + N * 31 + K)
    ashape = (K, M) if trans_a else (M, K)
    bshape = (N, K) if trans_b else (K, N)
    a = rng.standard_normal(((1 if bcast_a else batch),) + ashape).astype(dtype)
    b = rng.standard_normal(((1 if bcast_b else batch),) + bshape).astype(dtype)
    a_bs = 0 if bcast_a else M * K
    b_bs = 0 if bcast_b else K * N
    got = run_recipe(a.ravel(), b.ravel(), batch, M, N, K, trans_a, trans_b, a_bs, b_bs, cpu)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    if trans_a:
        a64 = a64.transpose(0, 2, 1)
    if trans_b:
        b64 = b64.transpose(0, 2, 1)
    want = np.matmul(a64, b64)
    want = np.broadcast_to(want, (batch, M, N))
    # error bound that grows with K: sum of |a||b| times a few ulps per term
    scale = np.matmul(np.abs(a64), np.abs(b64))
    eps = np.finfo(dtype).eps
    tol = 4 * eps * np.sqrt(K) * scale + 1e-30
    assert not np.isnan(got).any(), "unwritten or NaN elements in C"
    bad = np.abs(got - want) > tol
    assert not bad.any(), "max err %g (tol %g) at %s" % (
        np.abs(got - want).max(), tol.max(), np.argwhere(bad)[0])
    # the brief's yardstick: within 1e-5 relative of numpy (float32)
    if dtype == np.float32:
        rel = np.abs(got - want).max() / max(np.abs(want).max(), 1e-30)
        assert rel < 1e-5


SIZES = [1, 7, 17, 33, 255]


@pytest.mark.parametrize("M", SIZES)
@pytest.mark.parametrize("N", SIZES)
def test_cpu_shapes(M, N):
    check(M, N, 33)


@pytest.mark.parametrize("K", [1, 7, 63, 64, 65, 255, 256, 257, 600])
def test_cpu_k_edges(K):
    check(19, 45, K)


@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("shape", [(1, 1, 1), (7, 33, 17), (65, 31, 300), (128, 64, 256)])
def test_cpu_transposes(trans_a, trans_b, shape):
    check(*shape, trans_a=trans_a, trans_b=trans_b)


def test_cpu_large_odd():
    check(1023, 257, 1023)
    check(130, 1023, 513, trans_a=True, trans_b=True)


def test_cpu_square():
    check(512, 512, 512)


@pytest.mark.parametrize("bcast", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("trans", [(False, False), (True, True)])
def test_cpu_batch(bcast, trans):
    check(9, 40, 70, batch=3, bcast_a=bcast[0], bcast_b=bcast[1], trans_a=trans[0],
          trans_b=trans[1])
    check(33, 7, 300, batch=5, bcast_a=bcast[0], bcast_b=bcast[1])


def test_cpu_many_small_batches():
    check(4, 4, 4, batch=64)


@pytest.mark.parametrize("shape", [(1, 1, 1), (7, 17, 33), (33, 255, 7), (100, 70, 300)])
@pytest.mark.parametrize("trans", [(False, False), (True, False), (False, True)])
def test_cpu_float64(shape, trans):
    check(*shape, trans_a=trans[0], trans_b=trans[1], dtype=np.float64)


def test_cpu_float64_batch():
    check(20, 35, 40, batch=3, bcast_b=True, dtype=np.float64)


@pytest.mark.parametrize("shape", [(1, 1, 1), (7, 17, 33), (33, 1, 40), (70, 45, 100)])
@pytest.mark.parametrize("trans", [(False, False), (True, True), (True, False)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_portable_kernel(shape, trans, dtype):
    check(*shape, trans_a=trans[0], trans_b=trans[1], dtype=dtype, cpu=False)


def test_portable_kernel_batch():
    check(17, 20, 33, batch=3, bcast_a=True, cpu=False)
    check(17, 20, 33, batch=2, trans_b=True, cpu=False)


def test_recipe_shape():
    launches, scratch = gemm.gemm_recipe("float32", 4, 100, 200, 300, False, True, 0, 60000,
                                         True)
    assert [ln["kernel"] for ln in launches] == ["gemm_pack", "gemm_cpu"]
    assert all(s % 128 == 0 for s in scratch)
    assert scratch[0] == 104 * 300 * 4  # broadcast A packed once (100 rows padded to 104)
    assert all(isinstance(x, (str, tuple, np.int32, np.int64)) for ln in launches
               for x in ln["args"])
    n_items = np.prod(launches[1]["gws"])
    assert n_items >= 16
    with pytest.raises(ValueError):
        gemm.gemm_recipe("int32", 1, 1, 1, 1, False, False, 0, 0, True)
