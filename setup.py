"""pysession: TensorFlow 1.x graph-and-Session programs on any OpenCL device.

Builds the C scheduler (csrc/) with cffi in API mode; OpenCL itself is loaded at run time, so
building needs only a C compiler.  The OpenCL sources in clkernels/ ship as package data."""
from setuptools import setup

setup(
    packages=[
        "pysession", "pysession.framework", "pysession.ops", "pysession.client",
        "pysession.runtime", "pysession.train", "pysession.tools", "pysession.clkernels",
    ],
    package_dir={"pysession.clkernels": "clkernels"},
    package_data={"pysession.clkernels": ["*.cl", "*.h"]},
    cffi_modules=["csrc/build.py:ffi"],
)
