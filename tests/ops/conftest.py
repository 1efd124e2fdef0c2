"""Helpers for op tests: run a graph's tensors on a chosen device through the planner."""
import numpy as np
import pytest

from pysession.framework import ops
from pysession.runtime import plan as plan_mod


def run_on(device, fetches, feed_dict=None):
    """Evaluate ``fetches`` (a Tensor or a list of Tensors) with every op pinned to
    ``device``; ``feed_dict`` maps Tensors to values.  Returns numpy values."""
    single = not isinstance(fetches, (list, tuple))
    fl = [fetches] if single else list(fetches)
    feed_dict = feed_dict or {}
    graph = fl[0].graph
    for op in graph.get_operations():
        op._device = device.short_name
    feeds = []
    arrays = []
    for t, v in feed_dict.items():
        a = np.ascontiguousarray(np.asarray(v, dtype=t.dtype.as_numpy_dtype))
        feeds.append((t, a.shape))
        arrays.append(a)
    p = plan_mod.Planner(graph, fl, [], feeds, None).build()
    out, _ = p.run(arrays)
    return out[0] if single else out


@pytest.fixture(autouse=True)
def fresh_graph():
    with ops.Graph().as_default() as g:
        yield g
