"""The op registry: one entry per op type, holding its rule tables.

An op is a TF op-type name (``"AddV2"``, ``"MatMul"``, ``"Const"``) plus entries:

``infer(ic)``
    Shape and dtype inference.  Runs when the op is built (``ic.in_shapes`` are static,
    possibly partial ``TensorShape``) and again when a plan is made (every shape is fully
    defined).  Returns a list of ``(DType, TensorShape)``, one per output.  Raises
    ``ValueError`` / ``TypeError`` naming the op and the shapes when the op is impossible.

``lower(lc)``
    Plan time: emit the OpenCL work for one node with concrete shapes (see
    ``pysession.runtime.lowering.LowerContext``).  Elementwise ops need no ``lower``: they
    give ``elementwise=`` and the planner fuses them into generated kernels whose per-element
    functions live in ``clkernels/elementwise.h``.

``host(hc, *values)``
    Optional numpy evaluation used for constant folding at build/plan time (``Shape``,
    ``Const``) and for ops that only exist on the host (``string`` tensors).  Returns a list
    of numpy arrays.

``grad(op, *out_grads)``
    Optional gradient function (symbolic, builds graph ops); returns one entry per input.

Adding an op adds an entry; nothing else switches on op types.
"""

_REGISTRY = {}


class OpDef:
    __slots__ = ("type", "infer", "lower", "host", "grad", "elementwise", "stateful",
                 "host_only")

    def __init__(self, type, infer, lower=None, host=None, grad=None, elementwise=None,
                 stateful=False, host_only=False):
        self.type = type
        self.infer = infer
        self.lower = lower
        self.host = host
        self.grad = grad
        # elementwise: the function name in clkernels/elementwise.h (``"add"`` →
        # ``pys_add_<ctype>(a, b)``); the planner fuses such ops.
        self.elementwise = elementwise
        self.stateful = stateful      # never constant-folded or pruned as duplicate
        self.host_only = host_only    # runs on the host (string tensors)

    def __repr__(self):
        return "OpDef(%r)" % self.type


def register(type, infer, **kw):
    """Register (or replace) the rule tables of op ``type``.  Returns the OpDef."""
    d = OpDef(type, infer, **kw)
    _REGISTRY[type] = d
    return d


def set_grad(type, fn):
    """Attach a gradient function to an already registered op type."""
    _REGISTRY[type].grad = fn


def get(type):
    """The OpDef of ``type``; ``KeyError`` when unknown."""
    return _REGISTRY[type]


def lookup(type):
    return _REGISTRY.get(type)


def registered_types():
    return sorted(_REGISTRY)


class InferContext:
    """What an op's ``infer`` and ``host`` functions see.

    ``name``       the node name (for error messages)
    ``op_type``    the op type
    ``attrs``      dict of attribute values (DType, TensorShape, ints, floats, lists, numpy arrays)
    ``in_dtypes``  list of DType, one per data input
    ``in_shapes``  list of TensorShape (static at build time; fully defined at plan time)
    ``const(i)``   numpy value of input i when it is known without running the graph, else None
    """
    __slots__ = ("name", "op_type", "attrs", "in_dtypes", "in_shapes", "_const")

    def __init__(self, name, op_type, attrs, in_dtypes, in_shapes, const=None):
        self.name = name
        self.op_type = op_type
        self.attrs = attrs
        self.in_dtypes = in_dtypes
        self.in_shapes = in_shapes
        self._const = const

    def const(self, i):
        return None if self._const is None else self._const(i)

    @property
    def n_inputs(self):
        return len(self.in_dtypes)
