"""cffi builder for pysession._scheduler (API mode).  setup.py names it in cffi_modules;
``python csrc/build.py`` builds it in place for a quick check."""
import os

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))

ffi = FFI()
with open(os.path.join(HERE, "pys_sched.h")) as f:
    ffi.cdef(f.read())          # the public header has no preprocessor lines, so cdef reads it as is
ffi.set_source(
    "pysession._scheduler",
    '#include "pys_sched.h"',
    sources=[os.path.relpath(os.path.join(HERE, "pys_sched.c"))],
    include_dirs=[os.path.relpath(HERE)],
    libraries=["dl", "pthread"],
    extra_compile_args=["-O2", "-std=c99", "-D_GNU_SOURCE", "-Wall"],
)

if __name__ == "__main__":
    ffi.compile(verbose=True)
