"""The Python face of the C scheduler (pysession._scheduler, built from csrc/ with cffi).

``CPlan`` builds a flat plan step by step (cold path) and runs it in one C call (hot path).
``raise_status`` is the one place where a C error record becomes a pysession.errors exception.
"""
import glob
import os
import threading

import numpy as np

from ..framework import errors
from .._scheduler import ffi, lib

_loaded = False
_load_lock = threading.Lock()

# OpenCL error codes that mean the device or host ran out of memory.
_OOM_CODES = {-4: "CL_MEM_OBJECT_ALLOCATION_FAILURE", -5: "CL_OUT_OF_RESOURCES",
              -6: "CL_OUT_OF_HOST_MEMORY", -61: "CL_INVALID_BUFFER_SIZE"}


def opencl_library_path():
    """The OpenCL loader pyopencl itself links (bundled in its wheel), else None (the C side
    then falls back to the system's libOpenCL.so.1)."""
    import pyopencl
    here = os.path.dirname(pyopencl.__file__)
    for pattern in (os.path.join(here, ".libs", "libOpenCL*.so*"),
                    os.path.join(os.path.dirname(here), "pyopencl.libs", "libOpenCL*.so*")):
        hits = sorted(glob.glob(pattern))
        if hits:
            return hits[0]
    return None


def ensure_loaded():
    global _loaded
    if _loaded:
        return
    with _load_lock:
        if _loaded:
            return
        err = ffi.new("pys_error *")
        path = opencl_library_path()
        rc = lib.pys_load_opencl(path.encode() if path else ffi.NULL, err)
        if rc != lib.PYS_OK:
            raise_status(err)
        _loaded = True


def error_message(err):
    return ffi.string(err.message).decode("utf-8", "replace")


def raise_status(err, describe_node=None):
    """Raise the pysession.errors exception for a failed C call.  ``describe_node(node_id)``
    gives ``(op, text)`` for the node the failing step belongs to, to name it."""
    msg = error_message(err)
    op = None
    where = ""
    if describe_node is not None and err.node >= 0:
        op, where = describe_node(err.node)
    if err.step >= 0:
        where = "%s (plan step %d)" % (where, err.step) if where else "plan step %d" % err.step
    text = "%s%s" % (("%s: " % where) if where else "", msg)
    if err.cl_code:
        text += " [OpenCL error %d]" % err.cl_code
    node_def = op.node_def if op is not None and hasattr(op, "node_def") else None
    if err.status == lib.PYS_ERR_NO_MEMORY or err.cl_code in _OOM_CODES:
        raise errors.ResourceExhaustedError(node_def, op, "Out of memory: " + text)
    if err.status == lib.PYS_ERR_NOT_LOADED:
        raise errors.NotFoundError(node_def, op, text)
    raise errors.InternalError(node_def, op, text)


def _arg(a, value):
    """Fill a pys_arg from a buffer (anything with int_ptr, or None) or a numpy scalar."""
    if value is None:
        a.kind = lib.PYS_ARG_MEM
        a.mem = ffi.NULL
    elif hasattr(value, "int_ptr"):
        a.kind = lib.PYS_ARG_MEM
        a.mem = ffi.cast("void *", value.int_ptr)
    elif isinstance(value, LocalMemory):
        a.kind = lib.PYS_ARG_LOCAL
        a.size = value.nbytes
    else:
        b = np.asarray(value)
        if b.dtype.kind not in "biuf" or b.ndim != 0:
            raise TypeError("kernel scalar arguments must be numpy scalars, not %r" % (value,))
        raw = b.tobytes()
        a.kind = lib.PYS_ARG_BYTES
        a.size = len(raw)
        ffi.memmove(a.bytes, raw, len(raw))


class LocalMemory:
    """A ``__local`` kernel argument of ``nbytes``."""
    __slots__ = ("nbytes",)

    def __init__(self, nbytes):
        self.nbytes = int(nbytes)


class CPlan:
    """An owned C plan over a list of pyopencl queues.

    Each add_* returns the new step's index, usable in later steps' ``deps``.  Python keeps
    references to everything handed over (the C side retains the OpenCL objects as well)."""

    def __init__(self, queues):
        ensure_loaded()
        self.queues = list(queues)
        handles = ffi.new("void *[]", [ffi.cast("void *", q.int_ptr) for q in self.queues])
        self._err = ffi.new("pys_error *")
        p = lib.pys_plan_new(len(self.queues), handles, self._err)
        if p == ffi.NULL:
            raise_status(self._err)
        self._p = p
        self._keep = []             # pyopencl objects whose handles the plan holds
        self.n_slots = 0
        self.describe_node = None
        self._host = None

    def _check(self, rc):
        if rc != lib.PYS_OK:
            raise_status(self._err, self.describe_node)
        return lib.pys_plan_n_steps(self._p) - 1

    @staticmethod
    def _deps(deps):
        deps = list(deps or ())
        return len(deps), (ffi.new("int[]", deps) if deps else ffi.NULL)

    def _slot(self, slot):
        self.n_slots = max(self.n_slots, slot + 1)
        return slot

    def add_write(self, queue, buf, nbytes, host_slot, offset=0, node=-1, deps=()):
        self._keep.append(buf)
        nd, dp = self._deps(deps)
        return self._check(lib.pys_plan_add_write(
            self._p, queue, ffi.cast("void *", buf.int_ptr), offset, nbytes,
            self._slot(host_slot), node, nd, dp, self._err))

    def add_read(self, queue, buf, nbytes, host_slot, offset=0, node=-1, deps=()):
        self._keep.append(buf)
        nd, dp = self._deps(deps)
        return self._check(lib.pys_plan_add_read(
            self._p, queue, ffi.cast("void *", buf.int_ptr), offset, nbytes,
            self._slot(host_slot), node, nd, dp, self._err))

    def add_kernel(self, queue, kernel, args, gws, lws, node=-1, deps=()):
        self._keep.append(kernel)
        cargs = ffi.new("pys_arg[]", max(1, len(args)))
        for i, v in enumerate(args):
            _arg(cargs[i], v)
            if hasattr(v, "int_ptr"):
                self._keep.append(v)
        gws = tuple(int(x) for x in gws)
        g = ffi.new("size_t[]", gws)
        l_ = ffi.new("size_t[]", [int(x) for x in lws]) if lws is not None else ffi.NULL
        nd, dp = self._deps(deps)
        return self._check(lib.pys_plan_add_kernel(
            self._p, queue, ffi.cast("void *", kernel.int_ptr), len(args), cargs, len(gws), g,
            l_, node, nd, dp, self._err))

    def add_copy(self, queue, src, dst, nbytes, src_offset=0, dst_offset=0, node=-1, deps=()):
        self._keep.extend((src, dst))
        nd, dp = self._deps(deps)
        return self._check(lib.pys_plan_add_copy(
            self._p, queue, ffi.cast("void *", src.int_ptr), src_offset,
            ffi.cast("void *", dst.int_ptr), dst_offset, nbytes, node, nd, dp, self._err))

    def add_xcopy(self, src_queue, src, dst_queue, dst, nbytes, src_offset=0, dst_offset=0,
                  node=-1, deps=()):
        self._keep.extend((src, dst))
        nd, dp = self._deps(deps)
        return self._check(lib.pys_plan_add_xcopy(
            self._p, src_queue, ffi.cast("void *", src.int_ptr), src_offset, dst_queue,
            ffi.cast("void *", dst.int_ptr), dst_offset, nbytes, node, nd, dp, self._err))

    def add_fill(self, queue, buf, nbytes, pattern=b"\0", offset=0, node=-1, deps=()):
        self._keep.append(buf)
        nd, dp = self._deps(deps)
        pat = ffi.new("unsigned char[]", bytes(pattern))
        return self._check(lib.pys_plan_add_fill(
            self._p, queue, ffi.cast("void *", buf.int_ptr), offset, nbytes, pat, len(pattern),
            node, nd, dp, self._err))

    @property
    def n_steps(self):
        return lib.pys_plan_n_steps(self._p) if self._p is not None else 0

    def host_array(self):
        """A fresh ``void*[]`` with one entry per host slot, to fill and pass to run()."""
        return ffi.new("void *[]", max(1, self.n_slots))

    def run(self, host, profile=None):
        """Run the plan.  ``host``: a ``void*[]`` from host_array() filled with the slots'
        pointers; ``profile``: None or a ``unsigned long long[2*n_steps]`` to receive times."""
        err = ffi.new("pys_error *")     # per call: runs may come from many threads
        rc = lib.pys_plan_run(self._p, host, profile if profile is not None else ffi.NULL, err)
        if rc != lib.PYS_OK:
            raise_status(err, self.describe_node)

    def profile_array(self):
        return ffi.new("unsigned long long[]", max(1, 2 * self.n_steps))

    def free(self):
        p, self._p = self._p, None
        if p is not None:
            lib.pys_plan_free(p)
        self._keep = []

    def __del__(self):
        try:
            self.free()
        except Exception:
            pass


def pointer(arr):
    """The data pointer of a numpy array as a ``void *``."""
    return ffi.cast("void *", arr.__array_interface__["data"][0])
