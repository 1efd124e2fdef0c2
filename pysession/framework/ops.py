"""Graph, Operation and Tensor; default graph/session stacks; name, device and control scopes.

Every op is built by ``Graph._create_op`` (or the module ``create_op``): it looks up the
``OpDef`` in the registry, converts the inputs, runs ``infer`` and wires the result into the
graph under the current name scope, device scope and control dependencies.
"""
import contextlib
import importlib
import os
import re
import sys
import threading

import numpy as np

from pysession.framework import dtypes, registry, tensor_shape
from pysession.framework.tensor_shape import TensorShape

GRAPH_DEF_VERSION = 134
_VALID_OP_NAME_REGEX = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$")
_VALID_SCOPE_NAME_REGEX = re.compile(r"^[A-Za-z0-9_.\-/>]*$")
_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_MAX_FOLD_ELEMENTS = 1 << 16   # constant_value does not run host functions on bigger inputs
_MAX_FOLD_DEPTH = 200


def _user_frame():
    """``file:line`` of the innermost frame outside the pysession package."""
    f = sys._getframe(2)
    while f is not None:
        fn = f.f_code.co_filename
        if not (fn.startswith(_PKG_DIR) or fn.startswith("pysession" + os.sep)):
            return "%s:%d" % (fn, f.f_lineno)
        f = f.f_back
    return ""


def _module(name):
    return sys.modules.get(name) or importlib.import_module(name)


class _NotInGraphError(KeyError, ValueError):
    """A name that names nothing: TF raises KeyError, callers here may expect ValueError."""

    def __str__(self):
        return self.args[0]


# --------------------------------------------------------------------------------------------
# Tensor
# --------------------------------------------------------------------------------------------

def _binary_op(fn_name, op_name, py_name):
    def forward(self, other):
        with name_scope(None, op_name, [self, other]) as name:
            if not isinstance(other, Tensor):
                try:
                    other = convert_to_tensor(other, dtype=self._dtype, name="y")
                except TypeError:
                    if hasattr(type(other), "__r%s__" % py_name):
                        return NotImplemented
                    raise
            return getattr(_module("pysession.ops.math_ops"), fn_name)(self, other, name=name)

    def reverse(self, other):
        with name_scope(None, op_name, [other, self]) as name:
            other = convert_to_tensor(other, dtype=self._dtype, name="x")
            return getattr(_module("pysession.ops.math_ops"), fn_name)(other, self, name=name)
    return forward, reverse


def _call_math(fn_name, *args):
    return getattr(_module("pysession.ops.math_ops"), fn_name)(*args)


class Tensor:
    """One output of an Operation: ``op:index``, with a static dtype and (partial) shape."""
    __array_priority__ = 100
    __array_ufunc__ = None   # numpy defers `ndarray + tensor` to Tensor.__radd__

    def __init__(self, op, value_index, dtype, shape):
        self._op = op
        self._value_index = value_index
        self._dtype = dtype
        self._shape = shape
        self._consumers = []

    op = property(lambda self: self._op)
    value_index = property(lambda self: self._value_index)
    dtype = property(lambda self: self._dtype)
    graph = property(lambda self: self._op._graph)
    device = property(lambda self: self._op._device)
    shape = property(lambda self: self._shape)

    @property
    def name(self):
        return "%s:%d" % (self._op._name, self._value_index)

    def _as_node_def_input(self):
        return self._op._name if self._value_index == 0 else self.name

    def get_shape(self):
        return self._shape

    def set_shape(self, shape):
        """Merges ``shape`` into the static shape (ValueError if incompatible)."""
        self._shape = self._shape.merge_with(shape)

    def consumers(self):
        return list(self._consumers)

    def eval(self, feed_dict=None, session=None):
        """Runs the graph up to this tensor in ``session`` or the default session."""
        session = _session_for(self.graph, session, "evaluate tensor", "eval")
        return session.run(self, feed_dict)

    def __repr__(self):
        return "<tf.Tensor '%s' shape=%s dtype=%s>" % (self.name, self._shape, self._dtype.name)

    def __str__(self):
        return "Tensor(\"%s\"%s%s%s)" % (
            self.name, ", shape=%s" % self._shape, ", dtype=%s" % self._dtype.name,
            ", device=%s" % self.device if self.device else "")

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    def __bool__(self):
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is "
                        "not None:` instead of `if t:` to test if a tensor is defined, and use "
                        "TensorFlow ops such as tf.cond to execute subgraphs conditioned on the "
                        "value of a tensor.")

    def __iter__(self):
        raise TypeError("Tensor objects are only iterable when eager execution is enabled. To "
                        "iterate over this tensor use tf.map_fn.")

    def __array__(self, *args, **kwargs):
        raise NotImplementedError("Cannot convert a symbolic Tensor (%s) to a numpy array."
                                  % self.name)

    __add__, __radd__ = _binary_op("add", "add", "add")
    __sub__, __rsub__ = _binary_op("subtract", "sub", "sub")
    __mul__, __rmul__ = _binary_op("multiply", "mul", "mul")
    __truediv__, __rtruediv__ = _binary_op("truediv", "truediv", "truediv")
    __floordiv__, __rfloordiv__ = _binary_op("floordiv", "floordiv", "floordiv")
    __mod__, __rmod__ = _binary_op("floormod", "mod", "mod")
    __pow__, __rpow__ = _binary_op("pow", "pow", "pow")
    __matmul__, __rmatmul__ = _binary_op("matmul", "matmul", "matmul")
    __and__, __rand__ = _binary_op("logical_and", "and", "and")
    __or__, __ror__ = _binary_op("logical_or", "or", "or")
    __xor__, __rxor__ = _binary_op("logical_xor", "xor", "xor")

    def __neg__(self):
        return _call_math("negative", self)

    def __abs__(self):
        return _call_math("abs", self)

    def __invert__(self):
        return _call_math("logical_not", self)

    def __lt__(self, other):
        return _call_math("less", self, other)

    def __le__(self, other):
        return _call_math("less_equal", self, other)

    def __gt__(self, other):
        return _call_math("greater", self, other)

    def __ge__(self, other):
        return _call_math("greater_equal", self, other)

    def __getitem__(self, key):
        return _module("pysession.ops.array_ops")._slice_helper(self, key)


# --------------------------------------------------------------------------------------------
# Operation
# --------------------------------------------------------------------------------------------

class Operation:
    """A node: op type, attrs, input Tensors, output Tensors, control inputs, device."""

    def __init__(self, graph, name, op_type, inputs, attrs, op_def, control_inputs):
        self._graph = graph
        self._name = name
        self._type = op_type
        self._inputs = tuple(inputs)
        self._attrs = attrs
        self._op_def = op_def
        self._control_inputs = list(control_inputs)
        self._outputs = []
        self._device = ""
        self._id = 0
        self._traceback = ""
        self._const_cache = None

    name = property(lambda self: self._name)
    type = property(lambda self: self._type)
    graph = property(lambda self: self._graph)
    device = property(lambda self: self._device)
    attrs = property(lambda self: self._attrs, doc="The attr dict (do not mutate).")
    op_def = property(lambda self: self._op_def)
    traceback = property(lambda self: self._traceback, doc="'file:line' where the user built it")
    inputs = property(lambda self: list(self._inputs))
    outputs = property(lambda self: list(self._outputs))
    control_inputs = property(lambda self: list(self._control_inputs))

    @property
    def node_def(self):
        from pysession.framework import graph_def
        return graph_def.node_def_of(self)

    def values(self):
        return tuple(self._outputs)

    def get_attr(self, name):
        try:
            return self._attrs[name]
        except KeyError:
            raise ValueError("Operation %r has no attr named %r." % (self._name, name)) from None

    def run(self, feed_dict=None, session=None):
        """Runs this op in ``session`` or the default session."""
        session = _session_for(self._graph, session, "execute operation", "run")
        session.run(self, feed_dict)

    def _set_device(self, device):
        self._device = canonical_device(device)

    def _add_control_input(self, op):
        if not isinstance(op, Operation):
            raise TypeError("op must be an Operation: %s" % (op,))
        if op not in self._control_inputs:
            self._control_inputs.append(op)

    def _add_control_inputs(self, ops):
        for op in ops:
            self._add_control_input(op)

    def __repr__(self):
        return "<tf.Operation '%s' type=%s>" % (self._name, self._type)

    def __str__(self):
        return str(self.node_def)


def _session_for(graph, session, what, method):
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError("Cannot %s using `%s()`: No default session is registered. Use "
                             "`with sess.as_default()` or pass an explicit session to "
                             "`%s(session=sess)`" % (what, method, method))
        if session.graph is not graph:
            raise ValueError("Cannot use the default session to %s: the %s's graph is "
                             "different from the session's graph. Pass an explicit session to "
                             "`%s(session=sess)`." % (what, what.split()[1], method))
    elif session.graph is not graph:
        raise ValueError("Cannot use the given session to %s: the %s's graph is different "
                         "from the session's graph." % (what, what.split()[1]))
    return session


# --------------------------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------------------------

_DEVICE_FIELDS = ("job", "replica", "task", "device_type", "device_index")


def parse_device(spec):
    """Device string → dict of the fields it sets (job, replica, task, device_type,
    device_index).  Accepts ``/cpu:0``, ``/device:GPU:1``, ``/job:x/replica:0/task:0/...``."""
    if spec is None:
        return {}
    if not isinstance(spec, str):
        if hasattr(spec, "to_string"):
            spec = spec.to_string()
        elif isinstance(spec, bytes):
            spec = spec.decode()
        else:
            raise TypeError("Device spec must be a string, got %r" % (spec,))
    out = {}
    for part in spec.split("/"):
        if not part:
            continue
        y = part.split(":")
        if len(y) == 2 and y[0] in ("job", "replica", "task"):
            out[y[0]] = y[1] if y[0] == "job" else int(y[1])
        elif len(y) in (1, 2) and y[0].upper() in ("CPU", "GPU"):
            if "device_type" in out:
                raise ValueError("Cannot specify multiple device types: %s" % spec)
            out["device_type"] = y[0].upper()
            if len(y) == 2 and y[1] != "*":
                out["device_index"] = int(y[1])
        elif len(y) == 3 and y[0] == "device":
            if "device_type" in out:
                raise ValueError("Cannot specify multiple device types: %s" % spec)
            out["device_type"] = y[1].upper() if y[1].upper() in ("CPU", "GPU") else y[1]
            if y[2] != "*":
                out["device_index"] = int(y[2])
        else:
            raise ValueError("Unknown attribute: '%s' in '%s'" % (y[0], spec))
    return out


def device_to_string(fields):
    s = ""
    if "job" in fields:
        s += "/job:%s" % fields["job"]
    if "replica" in fields:
        s += "/replica:%d" % fields["replica"]
    if "task" in fields:
        s += "/task:%d" % fields["task"]
    if "device_type" in fields:
        s += "/device:%s:%s" % (fields["device_type"], fields.get("device_index", "*"))
    return s


def canonical_device(spec):
    """``/cpu:0`` → ``/device:CPU:0``; job/replica/task kept as TF's DeviceSpec does."""
    return device_to_string(parse_device(spec))


# --------------------------------------------------------------------------------------------
# Graph
# --------------------------------------------------------------------------------------------

class GraphKeys:
    """TF1's standard collection names."""
    GLOBAL_VARIABLES = "variables"
    VARIABLES = GLOBAL_VARIABLES
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    CONCATENATED_VARIABLES = "concatenated_variables"
    SAVERS = "savers"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    SAVEABLE_OBJECTS = "saveable_objects"
    RESOURCES = "resources"
    LOCAL_RESOURCES = "local_resources"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    SUMMARY_OP = "summary_op"
    GLOBAL_STEP = "global_step"
    EVAL_STEP = "eval_step"
    TRAIN_OP = "train_op"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"
    _VARIABLE_COLLECTIONS = [GLOBAL_VARIABLES, LOCAL_VARIABLES, METRIC_VARIABLES,
                             MODEL_VARIABLES, TRAINABLE_VARIABLES, MOVING_AVERAGE_VARIABLES,
                             CONCATENATED_VARIABLES, TRAINABLE_RESOURCE_VARIABLES]


class _ControlDependenciesController:
    def __init__(self, graph, control_inputs):
        self._graph = graph
        self._control_inputs = control_inputs    # None: clear the enclosing dependencies
        self._seen = set()
        self._old_stack = None

    control_inputs = property(lambda self: self._control_inputs)

    def __enter__(self):
        tl = self._graph._thread_local
        if self._control_inputs is None:
            self._old_stack = self._graph._control_dependencies_stack
            tl.control_stack = []
        else:
            self._graph._control_dependencies_stack.append(self)

    def __exit__(self, *exc):
        if self._control_inputs is None:
            self._graph._thread_local.control_stack = self._old_stack
        else:
            stack = self._graph._control_dependencies_stack
            if stack and stack[-1] is self:
                stack.pop()


def _normalize_attr(op_name, key, v):
    """Attr values as stored: DType, TensorShape, None, bool, int, float, str, bytes (non-UTF-8
    only), numpy arrays, flat lists of those.  Anything else is a TypeError (it could not be
    written to a GraphDef); keys starting with ``_`` are private and kept as given."""
    if v is None or isinstance(v, (bool, int, float, str, dtypes.DType, TensorShape)):
        return v
    if isinstance(v, np.dtype) or isinstance(v, type) and issubclass(v, np.generic):
        return dtypes.as_dtype(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return v
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "OSU":
            from pysession.framework.tensor_util import _to_bytes_array
            return _to_bytes_array(v)
        dtypes.as_dtype(v.dtype)
        return v
    if isinstance(v, (list, tuple)):
        items = [_normalize_attr(op_name, key, x) for x in v]
        kinds = set()
        for x in items:
            if x is None or isinstance(x, (list, np.ndarray)):
                raise TypeError("Attr %r of op %r: a list attr holds scalars, DTypes or shapes,"
                                " got %r" % (key, op_name, v))
            kinds.add(int if type(x) is int else type(x))
        if kinds == {int, float}:
            items = [float(x) for x in items]
        elif len(kinds) > 1 and not kinds <= {str, bytes}:
            raise TypeError("Attr %r of op %r: mixed list %r" % (key, op_name, v))
        return items
    raise TypeError("Attr %r of op %r has unsupported value %r (type %s)"
                    % (key, op_name, v, type(v).__name__))


class Graph:
    """A TF1 dataflow graph.  Op creation is thread-safe; scopes are per thread."""

    def __init__(self):
        self._lock = threading.RLock()
        self._nodes_by_name = {}
        self._ops = []                 # creation order; op._id == index + 1
        self._names_in_use = {}
        self._collections = {}
        self._finalized = False
        self._seed = None
        self._thread_local = threading.local()
        self._unfeedable = set()
        self._unfetchable = set()
        self._graph_def_versions = {"producer": GRAPH_DEF_VERSION}

    # --- per-thread scope state -------------------------------------------------------------
    @property
    def _name_stack(self):
        return getattr(self._thread_local, "name_stack", "")

    @_name_stack.setter
    def _name_stack(self, value):
        self._thread_local.name_stack = value

    @property
    def _control_dependencies_stack(self):
        tl = self._thread_local
        if not hasattr(tl, "control_stack"):
            tl.control_stack = []
        return tl.control_stack

    @property
    def _device_stack(self):
        tl = self._thread_local
        if not hasattr(tl, "device_stack"):
            tl.device_stack = []
        return tl.device_stack

    # --- simple properties ------------------------------------------------------------------
    finalized = property(lambda self: self._finalized)
    building_function = property(lambda self: False)
    graph_def_versions = property(lambda self: dict(self._graph_def_versions))

    @property
    def version(self):
        return len(self._ops)

    _last_id = version

    @property
    def seed(self):
        return self._seed

    @seed.setter
    def seed(self, seed):
        self._seed = seed

    @property
    def collections(self):
        return list(self._collections)

    def finalize(self):
        self._finalized = True

    def _unsafe_unfinalize(self):
        self._finalized = False

    def _check_not_finalized(self):
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")

    def as_default(self):
        """Context manager making this the default graph of the current thread."""
        return _default_graph_stack.get_controller(self)

    def get_operations(self):
        with self._lock:
            return list(self._ops)

    # --- names ------------------------------------------------------------------------------
    def get_name_scope(self):
        return self._name_stack

    def unique_name(self, name, mark_as_used=True):
        """TF's uniquifier: ``c``, ``c_1``, ... case-insensitively, under the name scope."""
        if self._name_stack:
            name = self._name_stack + "/" + name
        key = name.lower()
        with self._lock:
            i = self._names_in_use.get(key, 0)
            if mark_as_used:
                self._names_in_use[key] = i + 1
            if i > 0:
                base = key
                while key in self._names_in_use:
                    key = "%s_%d" % (base, i)
                    i += 1
                if mark_as_used:
                    self._names_in_use[key] = 1
                name = "%s_%d" % (name, i - 1)
        return name

    @contextlib.contextmanager
    def name_scope(self, name):
        """Pushes ``name`` (uniquified); ``name/`` re-enters an absolute scope; None resets."""
        if name:
            if isinstance(name, bytes):
                name = name.decode()
            regex = _VALID_SCOPE_NAME_REGEX if self._name_stack else _VALID_OP_NAME_REGEX
            if not regex.match(name):
                raise ValueError("'%s' is not a valid scope name" % name)
        old = self._name_stack
        if not name:
            new = ""
        elif name[-1] == "/":
            new = name[:-1]
        else:
            new = self.unique_name(name)
        self._name_stack = new
        try:
            yield new + "/" if new else ""
        finally:
            self._name_stack = old

    # --- control dependencies ---------------------------------------------------------------
    def _current_control_dependencies(self):
        ret = set()
        for c in self._control_dependencies_stack:
            ret.update(c.control_inputs)
        return ret

    def control_dependencies(self, control_inputs):
        """Ops created inside get control inputs on ``control_inputs``; None clears them."""
        if control_inputs is None:
            return _ControlDependenciesController(self, None)
        ops, current = [], self._current_control_dependencies()
        for c in control_inputs:
            c = self.as_graph_element(c)
            if isinstance(c, Tensor):
                c = c.op
            if c not in current:
                ops.append(c)
                current.add(c)
        return _ControlDependenciesController(self, ops)

    def _control_dependencies_for_inputs(self, input_ops):
        ret = []
        for controller in self._control_dependencies_stack:
            if any(op in controller._seen for op in input_ops):
                continue      # dominated: an input already depends on this controller
            ret.extend(c for c in controller.control_inputs if c not in input_ops)
        return ret

    # --- devices ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def device(self, device_name_or_function):
        """Device scope: a spec string merged into the enclosing one, a function
        ``op -> spec``, or None (clears)."""
        d = device_name_or_function
        if d is not None and not callable(d):
            d = parse_device(d)
        stack = self._device_stack
        stack.append(d)
        try:
            yield
        finally:
            stack.pop()

    def _device_for(self, op):
        fields = {}
        for entry in reversed(self._device_stack):
            if entry is None:
                break
            if callable(entry):
                op._device = device_to_string(fields)
                fields = parse_device(entry(op))
            else:
                fields = dict(entry, **fields)
        return device_to_string(fields)

    @contextlib.contextmanager
    def colocate_with(self, op, ignore_existing=False):
        """Accepted for TF1 compatibility; placement is the planner's job."""
        yield

    # --- op creation ------------------------------------------------------------------------
    def create_op(self, op_type, inputs, dtypes=None, input_types=None, name=None, attrs=None,
                  op_def=None, compute_shapes=True, compute_device=True):
        """TF1's public signature; ``dtypes``/``input_types`` are ignored (inferred)."""
        return self._create_op(op_type, inputs, attrs, name=name)

    def _create_op(self, op_type, inputs, attrs=None, name=None, default_name=None,
                   control_inputs=None, _exact_name=False):
        """Builds one op: returns the Operation (its outputs are ``op.outputs``)."""
        op_def = registry.lookup(op_type)
        if op_def is None:
            raise ValueError("Op type not registered '%s'" % op_type)
        tensors = []
        for x in inputs:
            if not isinstance(x, Tensor):
                with self.as_default():
                    x = convert_to_tensor(x)
            if x.graph is not self:
                raise ValueError("Tensor %s must be from the same graph as the op being "
                                 "created (%s)." % (x, op_type))
            tensors.append(x)
        attrs = {k: v if k[:1] == "_" else _normalize_attr(name or op_type, k, v)
                 for k, v in (attrs or {}).items()}
        with self._lock:
            self._check_not_finalized()
            name = self._op_name(name or default_name or op_type, _exact_name)
            ic = registry.InferContext(name, op_type, attrs, [t._dtype for t in tensors],
                                       [t._shape for t in tensors],
                                       const=lambda i: constant_value(tensors[i]))
            outs = op_def.infer(ic)
            input_ops = [t._op for t in tensors]
            controls = self._control_dependencies_for_inputs(input_ops)
            for c in control_inputs or ():
                c = self.as_graph_element(c)
                c = c.op if isinstance(c, Tensor) else c
                if c not in controls:
                    controls.append(c)
            op = Operation(self, name, op_type, tensors, attrs, op_def, controls)
            op._outputs = [Tensor(op, i, dtypes_as(dt), tensor_shape.as_shape(sh))
                           for i, (dt, sh) in enumerate(outs)]
            op._device = self._device_for(op) if self._device_stack else ""
            op._traceback = _user_frame()
            self._ops.append(op)
            op._id = len(self._ops)
            self._nodes_by_name[name] = op
            for t in tensors:
                t._consumers.append(op)
            for controller in self._control_dependencies_stack:
                controller._seen.add(op)
        return op

    def _op_name(self, name, exact):
        if not isinstance(name, str):
            raise TypeError("Op names are strings, got %r" % (name,))
        if exact or name.endswith("/"):
            name = name if exact else name[:-1]
            if name in self._nodes_by_name:
                raise ValueError("Duplicate node name in graph: '%s'" % name)
            self._names_in_use.setdefault(name.lower(), 1)
        else:
            name = self.unique_name(name)
        if not _VALID_OP_NAME_REGEX.match(name):
            raise ValueError("'%s' is not a valid node name" % name)
        return name

    # --- lookup -----------------------------------------------------------------------------
    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        """The Tensor or Operation ``obj`` names or is, checked to belong to this graph."""
        if allow_tensor and allow_operation:
            types_str = "Tensor or Operation"
        elif allow_tensor:
            types_str = "Tensor"
        elif allow_operation:
            types_str = "Operation"
        else:
            raise ValueError("allow_tensor and allow_operation can't both be False.")
        conv = getattr(obj, "_as_graph_element", None)
        if conv is not None and callable(conv) and not isinstance(obj, (Tensor, Operation)):
            obj = conv()
        if isinstance(obj, bytes):
            obj = obj.decode()
        if isinstance(obj, str):
            name = obj
            with self._lock:
                if ":" in name and allow_tensor:
                    try:
                        op_name, out_n = name.split(":")
                        out_n = int(out_n)
                    except ValueError:
                        raise ValueError(
                            "The name %r looks a like a Tensor name, but is not a valid one. "
                            "Tensor names must be of the form \"<op_name>:<output_index>\"."
                            % name) from None
                    op = self._nodes_by_name.get(op_name)
                    if op is None:
                        raise _NotInGraphError(
                            "The name %r refers to a Tensor which does not exist. The "
                            "operation, %r, does not exist in the graph." % (name, op_name))
                    if not 0 <= out_n < len(op._outputs):
                        raise _NotInGraphError(
                            "The name %r refers to a Tensor which does not exist. The "
                            "operation, %r, exists but only has %s outputs."
                            % (name, op_name, len(op._outputs)))
                    return op._outputs[out_n]
                if ":" in name:
                    raise ValueError("Name %r appears to refer to a Tensor, not a %s."
                                     % (name, types_str))
                if allow_operation:
                    op = self._nodes_by_name.get(name)
                    if op is None:
                        raise _NotInGraphError("The name %r refers to an Operation not in the "
                                               "graph." % name)
                    return op
                if name in self._nodes_by_name:
                    msg = "The name %r refers to an Operation, not a %s." % (name, types_str)
                else:
                    msg = ("The name %r looks like an (invalid) Operation name, not a %s."
                           % (name, types_str))
                raise ValueError(msg + " Tensor names must be of the form "
                                 "\"<op_name>:<output_index>\".")
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError("Tensor %s is not an element of this graph." % obj)
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError("Operation %s is not an element of this graph." % obj)
            return obj
        raise TypeError("Can not convert a %s into a %s." % (type(obj).__name__, types_str))

    def get_operation_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError("Operation names are strings (or similar), not %s."
                            % type(name).__name__)
        return self.as_graph_element(name, allow_tensor=False, allow_operation=True)

    def get_tensor_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError("Tensor names are strings (or similar), not %s."
                            % type(name).__name__)
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    # --- collections ------------------------------------------------------------------------
    def add_to_collection(self, name, value):
        self._check_not_finalized()
        with self._lock:
            self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        names = (names,) if isinstance(names, str) else set(names)
        for name in names:
            self.add_to_collection(name, value)

    def get_collection_ref(self, key):
        with self._lock:
            return self._collections.setdefault(key, [])

    def get_collection(self, key, scope=None):
        """A copy of collection ``key``; with ``scope``, items whose ``name`` matches it
        (``re.match``); items without a name are skipped."""
        with self._lock:
            items = list(self._collections.get(key, ()))
        if scope is None:
            return items
        regex = re.compile(scope)
        out = []
        for item in items:
            try:
                if regex.match(item.name):
                    out.append(item)
            except AttributeError:
                pass
        return out

    def get_all_collection_keys(self):
        with self._lock:
            return [k for k in self._collections if isinstance(k, str)]

    def clear_collection(self, name):
        self._check_not_finalized()
        with self._lock:
            self._collections.pop(name, None)

    # --- feeding/fetching restrictions (used by Session) -----------------------------------
    def prevent_feeding(self, tensor):
        self._unfeedable.add(tensor)

    def is_feedable(self, tensor):
        return tensor not in self._unfeedable

    def prevent_fetching(self, op):
        self._unfetchable.add(op)

    def is_fetchable(self, tensor_or_op):
        op = tensor_or_op.op if isinstance(tensor_or_op, Tensor) else tensor_or_op
        return op not in self._unfetchable

    # --- serialisation ----------------------------------------------------------------------
    def as_graph_def(self, from_version=None, add_shapes=False):
        from pysession.framework import graph_def
        return graph_def.graph_to_graph_def(self, from_version, add_shapes)


def dtypes_as(dt):
    return dt if isinstance(dt, dtypes.DType) else dtypes.as_dtype(dt)


# --------------------------------------------------------------------------------------------
# Default graph and default session (per thread)
# --------------------------------------------------------------------------------------------

class _DefaultStack(threading.local):
    def __init__(self):
        self.stack = []

    def get_default(self):
        return self.stack[-1] if self.stack else None

    @contextlib.contextmanager
    def get_controller(self, default):
        self.stack.append(default)
        try:
            yield default
        finally:
            if self.stack:
                if self.stack[-1] is not default:
                    raise AssertionError("Nesting violated for default stack of %s objects"
                                         % type(default))
                self.stack.pop()


class _DefaultGraphStack(_DefaultStack):
    def __init__(self):
        super().__init__()
        self.global_default = None

    def get_default(self):
        if self.stack:
            return self.stack[-1]
        if self.global_default is None:
            self.global_default = Graph()
        return self.global_default


_default_graph_stack = _DefaultGraphStack()
_default_session_stack = _DefaultStack()


def get_default_graph():
    """The innermost ``as_default`` graph of this thread, else the thread's global graph."""
    return _default_graph_stack.get_default()


def reset_default_graph():
    """Replaces this thread's global default graph (AssertionError inside ``as_default``)."""
    if _default_graph_stack.stack:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. If "
                             "you need a cleared graph, exit the nesting and create a new graph.")
    _default_graph_stack.global_default = None


def get_default_session():
    """The innermost default session of this thread, or None."""
    return _default_session_stack.get_default()


def default_session(session):
    """Context manager making ``session`` the default session of this thread."""
    return _default_session_stack.get_controller(session)


def _push_default_session(session):
    _default_session_stack.stack.append(session)


def _pop_default_session(session):
    """Removes the innermost occurrence of ``session`` (no-op if absent, e.g. other thread)."""
    stack = _default_session_stack.stack
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is session:
            del stack[i]
            return


# --------------------------------------------------------------------------------------------
# Module-level scope helpers
# --------------------------------------------------------------------------------------------

def _graph_element_of(x):
    if isinstance(x, (Tensor, Operation)):
        return x
    conv = getattr(x, "_as_graph_element", None)
    if conv is not None and callable(conv):
        try:
            el = conv()
        except Exception:
            return None
        return el if isinstance(el, (Tensor, Operation)) else None
    return None


def _get_graph_from_inputs(op_input_list, graph=None):
    """The graph of the graph elements in ``op_input_list`` (all must agree), else
    ``graph`` or the default graph."""
    if graph is not None and not isinstance(graph, Graph):
        raise TypeError("Input graph needs to be a Graph: %s" % (graph,))
    original = None
    for x in op_input_list:
        el = _graph_element_of(x)
        if el is None:
            continue
        if original is None:
            if graph is not None and el.graph is not graph:
                raise ValueError("%s is not from the passed-in graph." % el)
            original, graph = el, el.graph
        elif el.graph is not original.graph:
            raise ValueError("%s must be from the same graph as %s." % (el, original))
    return graph if graph is not None else get_default_graph()


class name_scope:
    """TF1 ``name_scope(name, default_name=None, values=None)``: enters the graph of
    ``values`` and a name scope in it; ``as`` gives the scope string (``"a/b/"``)."""

    def __init__(self, name, default_name=None, values=None):
        self._name = default_name if name is None else name
        self._default_name = default_name
        self._values = values

    def __enter__(self):
        if self._name is None and self._values is not None:
            raise ValueError("At least one of name (%s) and default_name (%s) must be provided."
                             % (self._name, self._default_name))
        g = _get_graph_from_inputs(self._values or [])
        self._g_ctx = g.as_default()
        self._g_ctx.__enter__()
        try:
            self._ns_ctx = g.name_scope(self._name)
            return self._ns_ctx.__enter__()
        except BaseException:
            self._g_ctx.__exit__(*sys.exc_info())
            raise

    def __exit__(self, *exc):
        try:
            self._ns_ctx.__exit__(*exc)
        finally:
            self._g_ctx.__exit__(*exc)
        return False


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def device(device_name_or_function):
    return get_default_graph().device(device_name_or_function)


def colocate_with(op, ignore_existing=False):
    return get_default_graph().colocate_with(op, ignore_existing)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    return get_default_graph().get_collection_ref(key)


def get_all_collection_keys():
    return get_default_graph().get_all_collection_keys()


def set_random_seed(seed):
    """Sets the graph-level random seed of the default graph."""
    get_default_graph().seed = seed


DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2 ** 31 - 1


def get_seed(op_seed):
    """TF1's (graph seed, op seed) pair for a random op; (None, None) when unseeded."""
    g = get_default_graph()
    if g.seed is not None:
        seeds = g.seed % _MAXINT32, (g._last_id if op_seed is None else op_seed) % _MAXINT32
    elif op_seed is not None:
        seeds = DEFAULT_GRAPH_SEED, op_seed % _MAXINT32
    else:
        return None, None
    return (0, _MAXINT32) if seeds == (0, 0) else seeds


def create_op(op_type, inputs, attrs=None, name=None, default_name=None, control_inputs=None):
    """Builds an op in the graph of ``inputs`` (or the default graph); returns the Operation.
    ValueError if the inputs come from different graphs."""
    g = _get_graph_from_inputs(inputs)
    return g._create_op(op_type, inputs, attrs, name=name, default_name=default_name,
                        control_inputs=control_inputs)


# --------------------------------------------------------------------------------------------
# Conversion to Tensor and static values
# --------------------------------------------------------------------------------------------

_conversion_functions = []    # (priority, seq, base_type, fn)


def register_tensor_conversion_function(base_type, conversion_func, priority=100):
    """``conversion_func(value, dtype=None, name=None, as_ref=False)`` → Tensor (or
    NotImplemented) for instances of ``base_type``; lower priority runs first."""
    if isinstance(base_type, type) and issubclass(base_type, (Tensor, np.ndarray, np.generic)) \
            or base_type in (list, tuple, int, float, str, bytes, bool):
        raise TypeError("Cannot register conversions for Python numeric types and NumPy "
                        "scalars and arrays.")
    _conversion_functions.append((priority, len(_conversion_functions), base_type,
                                  conversion_func))
    _conversion_functions.sort(key=lambda e: (e[0], e[1]))


def _checked(ret, value, dtype):
    if not isinstance(ret, Tensor):
        raise TypeError("Conversion of %r did not return a Tensor (got %r)" % (value, ret))
    if dtype is not None and ret.dtype != dtype:
        raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s: %r"
                         % (dtype.name, ret.dtype.name, ret))
    return ret


def _shape_to_tensor(dims, what, dtype, name):
    big = next((d for d in dims if d >= 2 ** 31), 0)
    if dtype is None:
        dtype = dtypes.int64 if big else dtypes.int32
    elif dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError("Cannot convert a %s to dtype: %s" % (what, dtype))
    elif dtype == dtypes.int32 and big:
        raise ValueError("Cannot convert a TensorShape to dtype int32; a dimension is too "
                         "large (%s)" % big)
    return _module("pysession.ops.core_ops").constant(
        dims, dtype=dtype, name=name or "shape_as_tensor")


def _autopack(value, dtype, name):
    elems = [_autopack(v, dtype, None) if isinstance(v, (list, tuple)) else
             convert_to_tensor(v, dtype=dtype) for v in value]
    if dtype is None:
        dtype = next(e.dtype for e in elems if isinstance(e, Tensor))
        elems = [convert_to_tensor(e, dtype=dtype) for e in elems]
    try:
        stack = _module("pysession.ops.array_ops").stack
    except (ImportError, AttributeError):
        raise TypeError("List of Tensors when single Tensor expected") from None
    return stack(elems, name=name or "packed")


def _convert(value, dtype, name):
    for _, _, base, fn in _conversion_functions:
        if isinstance(value, base):
            ret = fn(value, dtype=dtype, name=name, as_ref=False)
            if ret is not NotImplemented:
                return _checked(ret, value, dtype)
    hook = getattr(value, "_as_tensor", None)
    if hook is not None and callable(hook):
        return _checked(hook(dtype=dtype, name=name), value, dtype)
    hook = getattr(value, "_as_graph_element", None)
    if hook is not None and callable(hook):
        return _checked(hook(), value, dtype)
    if isinstance(value, TensorShape):
        if not value.is_fully_defined():
            raise ValueError("Cannot convert a partially known TensorShape to a Tensor: %s"
                             % value)
        return _shape_to_tensor(value.as_list(), "TensorShape", dtype, name)
    if isinstance(value, tensor_shape.Dimension):
        if value.value is None:
            raise ValueError("Cannot convert an unknown Dimension to a Tensor: %s" % value)
        return _shape_to_tensor([value.value], "Dimension", dtype, name)
    if isinstance(value, (list, tuple)):
        from pysession.framework.tensor_util import _contains_tensor
        if _contains_tensor(value):
            return _autopack(value, dtype, name)
    return _module("pysession.ops.core_ops").constant(value, dtype=dtype, name=name or "Const")


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None, dtype_hint=None):
    """A Tensor for ``value``: Tensors pass through (dtype checked), registered/duck-typed
    objects convert, Python and numpy values become a ``Const``."""
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if isinstance(value, Tensor):
        if dtype is not None and dtype != value.dtype:
            raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s: %r"
                             % (dtype.name, value.dtype.name, value))
        return value
    if isinstance(value, Operation):
        raise TypeError("Can't convert Operation '%s' to Tensor (target dtype=%r, name=%r, "
                        "as_ref=False)" % (value.name, dtype, name))
    preferred = preferred_dtype if preferred_dtype is not None else dtype_hint
    if dtype is None and preferred is not None:
        try:
            return _convert(value, dtypes.as_dtype(preferred), name)
        except (TypeError, ValueError):
            pass
    return _convert(value, dtype, name)


def convert_n_to_tensor(values, dtype=None, name=None, preferred_dtype=None):
    return [convert_to_tensor(v, dtype, None if name is None else "%s_%d" % (name, i),
                              preferred_dtype) for i, v in enumerate(values)]


def convert_to_tensor_or_indexed_slices(value, dtype=None, name=None):
    return convert_to_tensor(value, dtype, name)


def is_tensor(x):
    return isinstance(x, Tensor)


def constant_value(tensor):
    """The numpy value of ``tensor`` when it is known without running the graph, else None.

    Known: ``Const`` outputs and, recursively, outputs of non-stateful ops that have a ``host``
    function and whose inputs are all known.  A host function marked ``accepts_unknown =
    True`` is also called with None for unknown inputs (``Shape`` reads only static shapes)
    and returns None when it cannot answer.  Results are cached on the op.
    Non-Tensor arguments are returned unchanged (as TF's ``tensor_util.constant_value``).
    """
    if not isinstance(tensor, Tensor):
        return tensor
    return _fold(tensor, set(), 0)


def _fold(t, failed, depth):
    op = t._op
    if op._const_cache is not None:
        return op._const_cache[t._value_index]
    od = op._op_def
    if op in failed or od is None or od.stateful or od.host is None or depth > _MAX_FOLD_DEPTH:
        return None
    loose = getattr(od.host, "accepts_unknown", False)
    values = []
    for x in op._inputs:
        v = _fold(x, failed, depth + 1)
        if (v is None and not loose) or (v is not None and v.size > _MAX_FOLD_ELEMENTS):
            failed.add(op)
            return None
        values.append(v)
    ic = registry.InferContext(op._name, op._type, op._attrs, [x._dtype for x in op._inputs],
                               [x._shape for x in op._inputs])
    try:
        res = od.host(ic, *values)
        if res is None or len(res) != len(op._outputs) or any(r is None for r in res):
            raise ValueError
        res = [np.asarray(r) if o._dtype == dtypes.string else
               np.asarray(r, dtype=o._dtype.as_numpy_dtype) for r, o in zip(res, op._outputs)]
    except Exception:
        failed.add(op)
        return None
    op._const_cache = res
    return res[t._value_index]
