"""ConfigProto, GPUOptions, RunOptions, RunMetadata: TF1's protos as small Python classes.

ConfigProto accepts TF1's common fields.  What acts here: ``allow_soft_placement`` (a pin to a
missing device falls back to the default device instead of raising) and
``log_device_placement`` (prints each plan's placement).  The rest is accepted and ignored.
"""


class _Proto:
    _fields = {}

    def __init__(self, **kw):
        for k, v in self._fields.items():
            setattr(self, k, v() if callable(v) else v)
        for k, v in kw.items():
            if k not in self._fields:
                raise ValueError("Protocol message %s has no \"%s\" field." % (
                    type(self).__name__, k))
            setattr(self, k, v)

    def HasField(self, name):
        if name not in self._fields:
            raise ValueError("Protocol message has no singular \"%s\" field." % name)
        return name in self.__dict__.get("_set", ())

    def __eq__(self, other):
        return type(self) is type(other) and all(
            getattr(self, k) == getattr(other, k) for k in self._fields)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(
            "%s=%r" % (k, getattr(self, k)) for k in self._fields))


class GPUOptions(_Proto):
    _fields = {"per_process_gpu_memory_fraction": 0.0, "allow_growth": False,
               "visible_device_list": "", "allocator_type": "", "force_gpu_compatible": False}


class GraphOptions(_Proto):
    _fields = {"optimizer_options": None, "enable_bfloat16_sendrecv": False,
               "infer_shapes": False, "place_pruned_graph": False}


class ConfigProto(_Proto):
    _fields = {"device_count": dict, "intra_op_parallelism_threads": 0,
               "inter_op_parallelism_threads": 0, "use_per_session_threads": False,
               "allow_soft_placement": False, "log_device_placement": False,
               "gpu_options": GPUOptions, "graph_options": GraphOptions,
               "operation_timeout_in_ms": 0, "isolate_session_state": False,
               "session_inter_op_thread_pool": list, "placement_period": 0,
               "device_filters": list, "rpc_options": None, "cluster_def": None,
               "experimental": None, "share_cluster_devices_in_session": False}


class RunOptions(_Proto):
    NO_TRACE = 0
    SOFTWARE_TRACE = 1
    HARDWARE_TRACE = 2
    FULL_TRACE = 3
    _fields = {"trace_level": 0, "timeout_in_ms": 0, "inter_op_thread_pool": 0,
               "output_partition_graphs": False, "report_tensor_allocations_upon_oom": False}


class RunMetadata(_Proto):
    """``step_stats`` is set (HasField True) after a traced run."""
    _fields = {"step_stats": None, "partition_graphs": list, "cost_graph": None}

    def HasField(self, name):
        if name not in self._fields:
            raise ValueError("Protocol message has no singular \"%s\" field." % name)
        return getattr(self, name) not in (None, [], {})
