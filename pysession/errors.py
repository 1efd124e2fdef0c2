"""``tf.errors``: the OpError classes and the canonical error codes."""
from pysession.framework.errors import *  # noqa: F401,F403
from pysession.framework.errors import __all__  # noqa: F401
