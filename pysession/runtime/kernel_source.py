"""Where the OpenCL sources live: ``pysession/clkernels`` when installed, ``clkernels/`` of the
source tree otherwise (an editable install or a run from a checkout)."""
import functools
import os

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@functools.lru_cache(maxsize=None)
def kernel_dir():
    for cand in (os.path.join(_HERE, "clkernels"),
                 os.path.join(os.path.dirname(_HERE), "clkernels")):
        if os.path.isdir(cand):
            return cand
    raise FileNotFoundError("pysession cannot find its OpenCL sources (clkernels/); "
                            "reinstall the package")


@functools.lru_cache(maxsize=None)
def read_source(filename):
    """The text of ``clkernels/<filename>``."""
    with open(os.path.join(kernel_dir(), filename), encoding="utf-8") as f:
        return f.read()
