import pytest

from pysession.framework import ops


@pytest.fixture(autouse=True)
def graph():
    """Each test builds in a fresh default graph."""
    with ops.Graph().as_default() as g:
        yield g
