"""Environment variables, in one place.

PYSESSION_DEVICES    comma-separated filters selecting devices (a type, platform or device name,
                     case-insensitive substring; ``oclgrind`` selects the simulator)
PYSESSION_CACHE_DIR  where compiled kernels are kept across processes
PYSESSION_DEBUG      1 prints each plan when it is built, 2 also each run
PYSESSION_POCL_FIX   0 turns off the PoCL target-CPU fix (see pocl_fix.py)
PYSESSION_SMALL_PLANS 0 stops running small plans on PoCL's in-thread `basic` device
"""
import os

VERSION = "0.1.0"


def cache_dir():
    d = os.environ.get("PYSESSION_CACHE_DIR")
    if not d:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        d = os.path.join(base, "pysession")
    return d


def debug_level():
    try:
        return int(os.environ.get("PYSESSION_DEBUG", "0") or 0)
    except ValueError:
        return 0


def device_filters():
    spec = os.environ.get("PYSESSION_DEVICES", "").strip()
    return [f.strip().lower() for f in spec.split(",") if f.strip()]


_prepared = False
pocl_twins = False          # True when pysession chose POCL_DEVICES (basic twins hidden)


def prepare_environment():
    """Point PoCL's own cache at ours unless the user chose one, and make the bundled PoCL
    usable on CPUs its LLVM does not know (see pocl_fix); must run before the OpenCL platforms
    are first queried."""
    global _prepared
    if _prepared:
        return
    _prepared = True
    os.environ.setdefault("POCL_CACHE_DIR", os.path.join(cache_dir(), "pocl"))
    # PoCL's `basic` device runs kernels in the calling thread (~1.5 us a launch against
    # ~15-40 us for `pthread`, which wakes its workers): opened as a hidden twin of the pthread
    # device for small plans.  A user's own POCL_DEVICES is left alone.
    global pocl_twins
    if "POCL_DEVICES" not in os.environ and os.environ.get("PYSESSION_SMALL_PLANS", "1") != "0":
        os.environ["POCL_DEVICES"] = "pthread basic"
        pocl_twins = True
    from . import pocl_fix
    pocl_fix.apply(cache_dir())
