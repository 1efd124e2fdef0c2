"""Bandwidth of fused elementwise kernels from pysession/runtime/fusion.py vs numpy, one process.

    python bench/elementwise_probe.py [--n 16777216] [--sweep]

GB/s counts bytes read + written once per element (y = a*x + b on float32: 8 bytes/element).
"copy" is a plain y = x kernel: the device's practical ceiling in this process. --sweep also
tries other local sizes and elements per work-item (module knobs of fusion.py).
"""
import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from pysession.runtime import config  # noqa: E402

config.prepare_environment()        # PoCL target-CPU fix, before pyopencl queries platforms
import pyopencl as cl  # noqa: E402
from pysession.runtime import fusion  # noqa: E402
from pysession.runtime.fusion import FusedGroup  # noqa: E402


def device():
    for p in cl.get_platforms():
        for d in p.get_devices():
            ctx = cl.Context([d])
            try:
                cl.Program(ctx, "__kernel void k(__global float *a) { a[0] = 1.0f; }").build()
                return ctx
            except cl.Error:
                pass
    raise SystemExit("no OpenCL device builds a kernel")


def is_pocl_cpu(ctx):
    d = ctx.devices[0]
    return "Portable Computing Language" in d.platform.name and d.type & cl.device_type.CPU


def timeit(fn, reps=9):
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def run_group(ctx, q, group, arrays, inline, reps=9):
    fk = fusion.generate(group, inline)
    prg = cl.Program(ctx, fk.source).build()
    k = getattr(prg, fk.name)
    mf = cl.mem_flags
    ins = [cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=a) for a in arrays]
    n = int(np.prod(group.out_shape))
    outs = [cl.Buffer(ctx, mf.READ_WRITE, n * np.dtype(fusion.DTYPES[group.nodes[o][1]].np).itemsize)
            for o in group.outputs]
    args = []
    for a in fk.args:
        if isinstance(a, tuple):
            args.append(ins[a[1]] if a[0] == "in" else outs[a[1]])
        else:
            args.append(a)

    def go():
        k(q, fk.gws, fk.lws, *args)
        q.finish()
    return timeit(go, reps), outs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1 << 24)
    ap.add_argument("--sweep", action="store_true")
    opts = ap.parse_args()
    ctx = device()
    q = cl.CommandQueue(ctx)
    inline = bool(is_pocl_cpu(ctx))
    n = opts.n
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n, dtype=np.float32)
    a = np.array([1.5], np.float32)
    b = np.array([0.25], np.float32)
    print(f"device: {ctx.devices[0].name} / {ctx.devices[0].platform.version.strip()}; "
          f"n = {n}; inline_math = {inline}")

    copy_src = ("__kernel void cp(__global const float *x, __global float *y, long n) "
                "{ long i = get_global_id(0); y[i] = x[i]; }")
    cp = cl.Program(ctx, copy_src).build().cp
    mf = cl.mem_flags
    bx = cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=x)
    by = cl.Buffer(ctx, mf.READ_WRITE, x.nbytes)

    def copy():
        cp(q, (n,), (256,), bx, by, np.int64(n))  # n is a multiple of 256 here
        q.finish()
    t_copy = timeit(copy)

    axpb = FusedGroup((n,), [("float32", (n,)), ("float32", (1,)), ("float32", (1,))],
                      [("mul", "float32", [("in", 1), ("in", 0)], {}),
                       ("add", "float32", [("node", 0), ("in", 2)], {})], [1])
    t_fused, outs = run_group(ctx, q, axpb, [x, a, b], inline)
    y = np.empty_like(x)
    cl.enqueue_copy(q, y, outs[0])
    assert np.allclose(y, a[0] * x + b[0], rtol=1e-6)

    t_np = timeit(lambda: a[0] * x + b[0])
    yo = np.empty_like(x)

    def np_out():
        np.multiply(x, a[0], out=yo)
        np.add(yo, b[0], out=yo)
    t_np_out = timeit(np_out)
    gb = 8 * n / 1e9
    rows = [("copy kernel y = x (ceiling)", 8 * n / 1e9 / t_copy),
            ("fused y = a*x + b", gb / t_fused),
            ("numpy a*x + b (temporaries)", gb / t_np),
            ("numpy multiply+add out=", gb / t_np_out)]

    # broadcasting patterns over a 2-D output of the same size
    r = 4096
    c = n // r
    m = rng.standard_normal((r, c), dtype=np.float32)
    row = rng.standard_normal(c, dtype=np.float32)
    col = rng.standard_normal((r, 1), dtype=np.float32)
    g_row = FusedGroup((r, c), [("float32", (r, c)), ("float32", (c,))],
                       [("add", "float32", [("in", 0), ("in", 1)], {}),
                        ("relu", "float32", [("node", 0)], {})], [1])
    t_row, _ = run_group(ctx, q, g_row, [m, row], inline)
    g_col = FusedGroup((r, c), [("float32", (r, c)), ("float32", (r, 1))],
                       [("mul", "float32", [("in", 0), ("in", 1)], {})], [0])
    t_col, _ = run_group(ctx, q, g_col, [m, col], inline)
    t_np_row = timeit(lambda: np.maximum(m + row, 0))
    rows += [("fused relu(m + row) [4096, n/4096]", gb / t_row),
             ("numpy maximum(m + row, 0)", gb / t_np_row),
             ("fused m * col [4096, 1]", gb / t_col)]

    g_exp = FusedGroup((n,), [("float32", (n,))],
                       [("tanh", "float32", [("in", 0)], {}),
                        ("mul", "float32", [("node", 0), ("in", 0)], {})], [1])
    t_tanh, _ = run_group(ctx, q, g_exp, [x], inline)
    t_np_tanh = timeit(lambda: np.tanh(x) * x)
    rows += [("fused tanh(x) * x", gb / t_tanh), ("numpy tanh(x) * x", gb / t_np_tanh)]

    print("| kernel | GB/s |\n| --- | --- |")
    for name, v in rows:
        print(f"| {name} | {v:.1f} |")

    if opts.sweep:
        print("\nsweep (y = a*x + b): local size x elements per item -> GB/s")
        for lws in (64, 256, 1024):
            for ept in (1, 4, 16):
                fusion.LOCAL_SIZE, fusion.ELEMS_PER_ITEM = lws, ept
                t, _ = run_group(ctx, q, axpb, [x, a, b], inline)
                print(f"  lws {lws:5d}  ept {ept:3d}: {gb / t:6.1f}")
        fusion.LOCAL_SIZE, fusion.ELEMS_PER_ITEM = 256, 1


if __name__ == "__main__":
    main()
