import pytest

from pysession.framework import ops


@pytest.fixture(autouse=True)
def graph():
    """Each test builds in a fresh default graph, with no default session (other test
    modules may leave one behind)."""
    saved = ops._default_session_stack.stack
    ops._default_session_stack.stack = []
    try:
        with ops.Graph().as_default() as g:
            yield g
    finally:
        ops._default_session_stack.stack = saved
