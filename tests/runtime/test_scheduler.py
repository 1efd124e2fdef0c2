"""The C scheduler through cffi, on real PoCL kernels."""
import numpy as np
import pytest

from pysession.framework import errors
from pysession.runtime import programs, scheduler
from pysession._scheduler import ffi, lib

LWS = 64


def _buf(dev, nbytes):
    import pyopencl as cl
    return cl.Buffer(dev.context, cl.mem_flags.READ_WRITE, nbytes)


def _axpb(dev):
    return programs.kernel(dev, "check_axpb_float", filename="check.cl")


def _gws(n):
    return [((n + LWS - 1) // LWS) * LWS]


def test_chain_of_kernels_gives_the_right_numbers(device):
    n, chain = 1000, 25
    x = np.random.RandomState(0).rand(n).astype(np.float32)
    bufs = [_buf(device, x.nbytes) for _ in range(2)]
    plan = scheduler.CPlan([device.queue])
    plan.add_write(0, bufs[0], x.nbytes, 0)
    for i in range(chain):               # ping-pong: y = 1.0 * x + 1
        src, dst = bufs[i % 2], bufs[(i + 1) % 2]
        plan.add_kernel(0, _axpb(device), [src, dst, np.float32(1.0), np.float32(1.0),
                                           np.int32(n)], _gws(n), [LWS], node=i)
    plan.add_read(0, bufs[chain % 2], x.nbytes, 1)
    y = np.empty_like(x)
    host = plan.host_array()
    host[0], host[1] = scheduler.pointer(x), scheduler.pointer(y)
    plan.run(host)
    np.testing.assert_allclose(y, x + chain, rtol=1e-6)
    assert plan.n_steps == chain + 2
    plan.free()


def test_failing_step_names_step_and_opencl_code_and_process_lives_on(device):
    n = 256
    b0, b1 = _buf(device, 4 * n), _buf(device, 4 * n)
    plan = scheduler.CPlan([device.queue])
    plan.add_kernel(0, _axpb(device), [b0, b1, np.float32(1), np.float32(0), np.int32(n)],
                    [n], [LWS], node=7)
    # a local size far beyond the device's limit: the launch must fail at run time
    plan.add_kernel(0, _axpb(device), [b0, b1, np.float32(1), np.float32(0), np.int32(n)],
                    [1 << 20], [1 << 20], node=8)
    names = {8: "the bad launch"}
    plan.describe_node = lambda node: (None, names.get(node, "?"))
    with pytest.raises(errors.OpError) as ei:
        plan.run(plan.host_array())
    msg = str(ei.value)
    assert "plan step 1" in msg and "the bad launch" in msg
    assert "CL_INVALID_WORK_GROUP_SIZE" in msg and "-54" in msg
    # the process and the device still work
    ok = scheduler.CPlan([device.queue])
    ok.add_kernel(0, _axpb(device), [b0, b1, np.float32(1), np.float32(0), np.int32(n)],
                  [n], [LWS])
    ok.run(ok.host_array())


def test_bad_arguments_are_errors_not_crashes(device):
    err = ffi.new("pys_error *")
    q = ffi.new("void *[]", [ffi.cast("void *", device.queue.int_ptr)])
    assert lib.pys_plan_new(0, q, err) == ffi.NULL and err.status == lib.PYS_ERR_ARGUMENT
    p = lib.pys_plan_new(1, q, err)
    assert p != ffi.NULL
    rc = lib.pys_plan_add_write(p, 3, ffi.NULL, 0, 4, 0, -1, 0, ffi.NULL, err)
    assert rc == lib.PYS_ERR_ARGUMENT and b"queue index" in ffi.string(err.message)
    deps = ffi.new("int[]", [5])
    rc = lib.pys_plan_add_fill(p, 0, ffi.cast("void *", 1), 0, 4, b"\0", 1, -1, 1, deps, err)
    assert rc == lib.PYS_ERR_ARGUMENT and b"dependency 5" in ffi.string(err.message)
    assert lib.pys_plan_run(ffi.NULL, ffi.NULL, ffi.NULL, err) == lib.PYS_ERR_ARGUMENT
    lib.pys_plan_free(p)


def test_free_twice_and_free_null_are_safe(device):
    lib.pys_plan_free(ffi.NULL)
    plan = scheduler.CPlan([device.queue])
    plan.free()
    plan.free()
    assert plan.n_steps == 0


def _rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4


def test_plan_run_ten_thousand_times_does_not_grow_memory(device):
    n = 64
    x = np.ones(n, np.float32)
    y = np.empty_like(x)
    b0, b1 = _buf(device, x.nbytes), _buf(device, x.nbytes)
    plan = scheduler.CPlan([device.queue])
    plan.add_write(0, b0, x.nbytes, 0)
    plan.add_kernel(0, _axpb(device), [b0, b1, np.float32(3), np.float32(1), np.int32(n)],
                    _gws(n), [LWS])
    plan.add_read(0, b1, y.nbytes, 1)
    host = plan.host_array()
    host[0], host[1] = scheduler.pointer(x), scheduler.pointer(y)
    prof = plan.profile_array()
    for _ in range(500):                 # warm up allocator pools
        plan.run(host)
    before = _rss_kb()
    for i in range(10000):
        plan.run(host, prof if i % 100 == 0 else None)
    grown = _rss_kb() - before
    assert np.all(y == 4)
    assert grown < 2048, "RSS grew by %d KiB over 10,000 runs" % grown


def test_profile_times_are_filled(device):
    n = 1 << 16
    b0, b1 = _buf(device, 4 * n), _buf(device, 4 * n)
    plan = scheduler.CPlan([device.queue])
    plan.add_fill(0, b0, 4 * n, b"\0\0\0\0")
    plan.add_kernel(0, _axpb(device), [b0, b1, np.float32(1), np.float32(2), np.int32(n)],
                    _gws(n), [LWS])
    prof = plan.profile_array()
    plan.run(plan.host_array(), prof)
    start, end = prof[2], prof[3]
    assert start > 0 and end >= start
