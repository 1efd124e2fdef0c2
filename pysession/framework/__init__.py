"""The graph layer: dtypes, shapes, errors, Graph/Operation/Tensor, GraphDef.  Pure Python."""
from pysession.framework import dtypes, errors, registry, tensor_shape  # noqa: F401
from pysession.framework.dtypes import (  # noqa: F401
    DType, as_dtype, bool, double, float16, float32, float64, half, int8, int16, int32, int64,
    string, uint8)
from pysession.framework.tensor_shape import (  # noqa: F401
    Dimension, TensorShape, as_dimension, as_shape, dimension_value, unknown_shape)
from pysession.framework.ops import (  # noqa: F401
    Graph, GraphKeys, Operation, Tensor, add_to_collection, add_to_collections,
    canonical_device, colocate_with, parse_device,
    constant_value, control_dependencies, convert_n_to_tensor, convert_to_tensor, create_op,
    default_session, device, get_all_collection_keys, get_collection, get_collection_ref,
    get_default_graph, get_default_session, get_seed, is_tensor, name_scope,
    register_tensor_conversion_function, reset_default_graph, set_random_seed)
from pysession.framework.graph_def import GraphDef, import_graph_def  # noqa: F401
