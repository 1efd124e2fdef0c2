"""pysession: TensorFlow 1.x graph-and-Session programs on any OpenCL device."""
__version__ = "0.1.0"


def list_devices():
    """Every OpenCL device pysession selected (see PYSESSION_DEVICES), TF-named."""
    from .runtime.devices import list_devices as _ld
    return _ld()
