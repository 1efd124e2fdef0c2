"""Plan-time lowerings of the core ops built in core_ops.py: views that need no kernel."""
from ..framework import registry


def _alias0(lc):
    lc.alias(0, 0)


for _t in ("Identity", "PlaceholderWithDefault", "StopGradient", "Snapshot"):
    if registry.lookup(_t) is not None and registry.lookup(_t).lower is None:
        registry.get(_t).lower = _alias0
