"""pysession-devinfo: list OpenCL platforms and devices; --json for machines; --check runs a
kernel on every device through the C scheduler, verifies it, and reports launch latency."""
import argparse
import json
import statistics
import sys
import time


def _table(devs):
    rows = [("name", "type", "platform", "device", "driver", "OpenCL", "CUs", "memory", "fp64")]
    for d in devs:
        rows.append((d.short_name, d.device_type, d.platform_name[:34], d.device_name[:28],
                     d.driver_version[:18], d.opencl_version[:18], str(d.compute_units),
                     "%.1f GiB" % (d.memory_limit_bytes / 2 ** 30), "yes" if d.fp64 else "no"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def check_device(dev, n=1000, runs=200):
    """Build and run y = a*x + b on ``dev`` through a one-kernel C plan; verify; time it.
    Returns (ok, message, median_us)."""
    import numpy as np
    import pyopencl as cl
    from pysession.runtime import programs, scheduler

    x = np.arange(n, dtype=np.float32)
    y = np.empty(n, np.float32)
    mf = cl.mem_flags
    bx = cl.Buffer(dev.context, mf.READ_WRITE, x.nbytes)
    by = cl.Buffer(dev.context, mf.READ_WRITE, y.nbytes)
    k = programs.kernel(dev, "check_axpb_float", filename="check.cl")
    plan = scheduler.CPlan([dev.queue])
    plan.add_write(0, bx, x.nbytes, 0)
    lws = 64
    plan.add_kernel(0, k, [bx, by, np.float32(2.0), np.float32(1.0), np.int32(n)],
                    [((n + lws - 1) // lws) * lws], [lws])
    plan.add_read(0, by, y.nbytes, 1)
    host = plan.host_array()
    host[0] = scheduler.pointer(x)
    host[1] = scheduler.pointer(y)
    plan.run(host)
    if not np.array_equal(y, 2 * x + 1):
        bad = int(np.argmax(y != 2 * x + 1))
        return False, "wrong result at %d: %r != %r" % (bad, y[bad], 2 * x[bad] + 1), None
    # Launch latency: a one-kernel plan (no transfers), run and waited for.
    lat = scheduler.CPlan([dev.queue])
    lat.add_kernel(0, k, [bx, by, np.float32(2.0), np.float32(1.0), np.int32(n)],
                   [((n + lws - 1) // lws) * lws], [lws])
    h = lat.host_array()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        lat.run(h)
        times.append(time.perf_counter() - t0)
    plan.free()
    lat.free()
    return True, "ok", statistics.median(times) * 1e6


def main(argv=None):
    ap = argparse.ArgumentParser(prog="pysession-devinfo", description=__doc__)
    ap.add_argument("--json", action="store_true", help="print the devices as JSON")
    ap.add_argument("--check", action="store_true",
                    help="run a kernel on every device; exit 1 if any fails or none exists")
    args = ap.parse_args(argv)
    from pysession.framework import errors
    from pysession.runtime import devices
    try:
        devs = devices.devices()
    except errors.NotFoundError as e:
        if args.json:
            print(json.dumps({"devices": [], "error": e.message}, indent=2))
        else:
            print("pysession: %s" % e.message, file=sys.stderr)
        return 1
    if args.json and not args.check:
        print(json.dumps({"devices": [d.describe() for d in devs]}, indent=2))
        return 0
    if not args.json:
        print(_table(devs))
    if not args.check:
        return 0
    failed = 0
    results = []
    for d in devs:
        try:
            good, msg, us = check_device(d)
        except Exception as e:      # report every device, whatever went wrong on one
            good, msg, us = False, "%s: %s" % (type(e).__name__, e), None
        failed += not good
        results.append({"name": d.name, "ok": good, "message": msg, "launch_latency_us": us})
        if not args.json:
            lat = (" launch+wait %.1f us" % us) if us is not None else ""
            print("check %-14s %s%s" % (d.short_name, "PASS" if good else "FAIL: " + msg, lat))
    if args.json:
        print(json.dumps({"devices": [d.describe() for d in devs], "check": results},
                         indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
