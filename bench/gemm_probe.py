"""GEMM probe: GFLOP/s of clkernels/matmul.cl (via gemm_recipe) against numpy, square n x n float32.

    python bench/gemm_probe.py [n ...] [--reps R] [--rounds X]

Kernel and numpy runs are interleaved in one process (machines here are shared and noisy); each
round times one kernel run (whole plan enqueued, one wait) and one numpy matmul; the best and the
median of the rounds are printed, with the ratio kernel / numpy of each.
"""
import argparse
import os
import sys
import time

import numpy as np
import pyopencl as cl

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pysession.runtime.gemm import gemm_recipe  # noqa: E402

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clkernels", "matmul.cl")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="*", type=int, default=[256, 512, 1024, 2048])
    ap.add_argument("--rounds", type=int, default=0, help="rounds per size (default: by size)")
    ap.add_argument("--dtype", default="float32")
    args = ap.parse_args()
    from pysession.runtime import config
    if hasattr(config, "prepare_environment"):  # PoCL target-CPU fix, before any platform query
        config.prepare_environment()
    ctx = cl.create_some_context(interactive=False)
    q = cl.CommandQueue(ctx)
    dev = ctx.devices[0]
    is_cpu = bool(dev.type & cl.device_type.CPU)
    print("device: %s (%s)  cpu=%s" % (dev.name, dev.platform.version, is_cpu))
    src = open(SRC).read()
    programs = {}
    mf = cl.mem_flags
    print("%6s %10s %10s %7s   %10s %10s %7s" % ("n", "cl best", "np best", "ratio",
                                                 "cl median", "np median", "ratio"))
    for n in args.sizes:
        dt = np.dtype(args.dtype)
        rng = np.random.default_rng(n)
        a = rng.standard_normal((n, n)).astype(dt)
        b = rng.standard_normal((n, n)).astype(dt)
        launches, scratch = gemm_recipe(dt.name, 1, n, n, n, False, False, 0, 0, is_cpu)
        bufs = {"A": cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=a),
                "B": cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=b),
                "C": cl.Buffer(ctx, mf.READ_WRITE, n * n * dt.itemsize)}
        for k, size in enumerate(scratch):
            bufs[("tmp", k)] = cl.Buffer(ctx, mf.READ_WRITE, size)
        plan = []
        for ln in launches:
            key = tuple(sorted(ln["defines"].items()))
            if key not in programs:
                programs[key] = cl.Program(ctx, src).build(
                    options=["-D%s=%s" % kv for kv in key])
            # one kernel object per launch, arguments set once: the probe times the device work
            # and one wait, not Python's per-argument dispatch (the planner does that in C)
            kern = cl.Kernel(programs[key], ln["kernel"])
            kern.set_args(*[bufs[x] if isinstance(x, (str, tuple)) else x for x in ln["args"]])
            plan.append((kern, ln["gws"], ln["lws"]))

        def run():
            for kern, gws, lws in plan:
                cl.enqueue_nd_range_kernel(q, kern, gws, lws)
            q.finish()

        run()  # compile work-group functions, warm caches
        c = np.empty((n, n), dt)
        cl.enqueue_copy(q, c, bufs["C"])
        want = a.astype(np.float64) @ b.astype(np.float64)
        err = np.abs(c - want).max() / np.abs(want).max()
        rounds = args.rounds or {256: 40, 512: 20, 1024: 10}.get(n, 5)
        tk, tn = [], []
        for _ in range(rounds):
            t0 = time.perf_counter()
            run()
            t1 = time.perf_counter()
            a @ b
            t2 = time.perf_counter()
            tk.append(t1 - t0)
            tn.append(t2 - t1)
        gf = 2.0 * n ** 3 / 1e9
        kb, nb_, km, nm = min(tk), min(tn), np.median(tk), np.median(tn)
        print("%6d %10.1f %10.1f %7.2f   %10.1f %10.1f %7.2f   (GFLOP/s; max rel err %.1e)"
              % (n, gf / kb, gf / nb_, nb_ / kb, gf / km, gf / nm, nm / km, err), flush=True)


if __name__ == "__main__":
    main()
