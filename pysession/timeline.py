"""``pysession.timeline.Timeline`` (TF1's tensorflow.python.client.timeline)."""
from .client.timeline import Timeline  # noqa: F401
