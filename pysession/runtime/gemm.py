"""Launch plans for GEMM (``clkernels/matmul.cl``).

``gemm_recipe`` turns one (batched) matrix product into a short list of kernel launches that the
planner enqueues in order.  On a CPU device (PoCL) that is two launches: pack op(A) and op(B)
into zero-padded, cache-blocked panels (one kernel), then the register-blocked ``gemm_cpu`` kernel (see the
comment at the top of matmul.cl for the scheme).  On any other device it is one launch of the
portable local-memory kernel ``gemm_tiled``.
"""
import numpy as np

FILE = "matmul.cl"

# CPU register block and cache blocking, per dtype: MR rows x 16*NV columns per work-item tile,
# K chunks of KC, packing pieces of KP (must divide KC).  MB x NB panels of C per work-item.
_CPU_PARAMS = {
    "float32": dict(T="float", MR=8, NV=2, KC=256, KP=64),
    "float64": dict(T="double", MR=8, NV=1, KC=256, KP=64),
}
_CPU_MB, _CPU_NB = 16, 8
# Enough work-items that the device's threads (2 cores here, a few more elsewhere) stay busy
# and share the tail evenly.
_MIN_ITEMS = 16
_TS = 16  # tile of the portable kernel
_ALIGN = 128  # scratch sizes are rounded to this; buffers must start 128-byte aligned


def _cdiv(a, b):
    return -(-a // b)


def _strides(M, N, K, trans_a, trans_b):
    """(sai, sak, sbk, sbj): element strides of op(A) (M x K) and op(B) (K x N)."""
    sai, sak = (1, M) if trans_a else (K, 1)
    sbk, sbj = (1, K) if trans_b else (N, 1)
    return sai, sak, sbk, sbj


def _cpu_blocks(batch, npa, npb):
    """MB, NB (panels per work-item block) leaving at least _MIN_ITEMS work-items in all."""
    mb, nb = min(_CPU_MB, npa), min(_CPU_NB, npb)
    while batch * _cdiv(npa, mb) * _cdiv(npb, nb) < _MIN_ITEMS and (mb > 1 or nb > 1):
        if nb >= mb and nb > 1:
            nb = _cdiv(nb, 2)
        else:
            mb = _cdiv(mb, 2)
    return mb, nb


def gemm_recipe(dtype, batch, M, N, K, trans_a, trans_b, a_batch_stride, b_batch_stride,
                device_is_cpu):
    """Kernel launches that compute C[b] = op(A[b]) @ op(B[b]) for b < batch, row-major,
    C contiguous (batch, M, N).  A is (M,K) or (K,M) if trans_a (row-major), per batch at
    element offset b*a_batch_stride (0 = broadcast), likewise B.
    Returns a list of launches, run in order, each a dict:
      file: "matmul.cl", defines: dict of -D defines (must include what selects dtype, e.g. {"T": "float"}),
      kernel: kernel name, gws: tuple, lws: tuple (pinned; never None),
      args: list whose items are "A", "B", "C", ("tmp", k) for a scratch buffer, or numpy scalars (np.int32/np.int64),
    and a list `scratch` of byte sizes for ("tmp", k) buffers.

    Scratch buffers must start 128-byte aligned (any cl.Buffer does; a sub-buffer does when its
    origin is a multiple of CL_DEVICE_MEM_BASE_ADDR_ALIGN).  All launches of one call use the
    same defines, so they come from one program build."""
    if dtype not in _CPU_PARAMS:
        raise ValueError("gemm: unsupported dtype %r (float32 or float64)" % (dtype,))
    if min(batch, M, N, K) < 1:
        raise ValueError("gemm: sizes must be >= 1, got batch=%d M=%d N=%d K=%d"
                         % (batch, M, N, K))
    i32, i64 = np.int32, np.int64
    sai, sak, sbk, sbj = _strides(M, N, K, trans_a, trans_b)
    c_bstride = M * N if batch > 1 else 0

    if not device_is_cpu:
        defines = {"T": _CPU_PARAMS[dtype]["T"], "TS": _TS}
        launch = dict(
            file=FILE, defines=defines, kernel="gemm_tiled",
            gws=(_cdiv(N, _TS) * _TS, _cdiv(M, _TS) * _TS, batch), lws=(_TS, _TS, 1),
            args=["A", "B", "C", i64(a_batch_stride), i64(b_batch_stride), i64(c_bstride),
                  i32(M), i32(N), i32(K), i64(sai), i64(sak), i64(sbk), i64(sbj)])
        return [launch], []

    params = _CPU_PARAMS[dtype]
    defines = dict(params)
    mr, nr, kp = params["MR"], 16 * params["NV"], params["KP"]
    itemsize = np.dtype(dtype).itemsize
    npa, npb = _cdiv(M, mr), _cdiv(N, nr)
    # A broadcast operand (batch stride 0) is packed once and read with packed stride 0.
    a_batches = batch if (a_batch_stride and batch > 1) else 1
    b_batches = batch if (b_batch_stride and batch > 1) else 1
    ap_size, bp_size = npa * mr * K, npb * nr * K  # elements per packed batch
    ap_bstride = ap_size if a_batches > 1 else 0
    bp_bstride = bp_size if b_batches > 1 else 0
    scratch = [_cdiv(ap_size * a_batches * itemsize, _ALIGN) * _ALIGN,
               _cdiv(bp_size * b_batches * itemsize, _ALIGN) * _ALIGN]
    mb, nb = _cpu_blocks(batch, npa, npb)
    launches = [
        dict(file=FILE, defines=defines, kernel="gemm_pack",
             gws=(_cdiv(K, kp), npa + npb, max(a_batches, b_batches)), lws=(1, 1, 1),
             args=["A", ("tmp", 0), "B", ("tmp", 1), i64(a_batch_stride), i64(ap_bstride),
                   i64(b_batch_stride), i64(bp_bstride), i32(M), i32(N), i32(K),
                   i64(sai), i64(sak), i64(sbk), i64(sbj), i32(a_batches), i32(b_batches)]),
        dict(file=FILE, defines=defines, kernel="gemm_cpu",
             gws=(_cdiv(npb, nb), _cdiv(npa, mb), batch), lws=(1, 1, 1),
             args=[("tmp", 0), ("tmp", 1), "C", i64(ap_bstride), i64(bp_bstride),
                   i64(c_bstride), i32(M), i32(N), i32(K), i32(mb), i32(nb)]),
    ]
    return launches, scratch
