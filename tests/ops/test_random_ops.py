"""random_normal / random_uniform / truncated_normal: shapes, seeds, state, distributions."""
import math
import os
import subprocess
import tempfile
import sys

import numpy as np
import pytest

from pysession.framework import dtypes, ops
from pysession.ops import random_ops as R
from pysession.runtime import plan as plan_mod


class _Sess:
    """Runs fetches on one device, keeping session state across runs (like one Session)."""

    def __init__(self, device, graph):
        self.device, self.graph = device, graph
        self.state = plan_mod.SessionState()
        self.plans = {}

    def run(self, fetches):
        single = not isinstance(fetches, (list, tuple))
        fl = [fetches] if single else list(fetches)
        key = tuple(t.name for t in fl)
        p = self.plans.get(key)
        if p is None:
            for op in self.graph.get_operations():
                op._device = self.device.short_name
            p = self.plans[key] = plan_mod.Planner(self.graph, fl, [], [], self.state).build()
        out, _ = p.run([], self.state)
        return out[0] if single else out


def _ks_stat(x, cdf):
    x = np.sort(np.asarray(x, np.float64))
    n = len(x)
    c = cdf(x)
    return max(np.max(np.arange(1, n + 1) / n - c), np.max(c - np.arange(n) / n))


_ncdf = np.vectorize(lambda v: 0.5 * (1.0 + math.erf(v / math.sqrt(2.0))))


def test_static_shapes_and_dtypes(fresh_graph):
    assert R.random_normal([2, 3]).shape.as_list() == [2, 3]
    assert R.random_uniform((4,), dtype=dtypes.float64).dtype == dtypes.float64
    assert R.truncated_normal([5, 1]).dtype == dtypes.float32
    u = R.random_uniform([3], maxval=10, dtype=dtypes.int64)
    assert u.dtype == dtypes.int64 and u.op.type == "RandomUniformInt"
    assert R.random_normal([2]).op.inputs[0].op.inputs[0].op.type == "RandomStandardNormal"
    with pytest.raises(ValueError):
        R.random_uniform([3], dtype=dtypes.int32)          # int needs maxval
    with pytest.raises(ValueError):
        R.random_normal([-1, 2])


def test_values_shapes_dtypes_ranges(device, fresh_graph):
    a = R.random_uniform([7, 3], minval=-2.0, maxval=5.0, seed=1)
    b = R.random_normal([5], dtype=dtypes.float64, seed=2)
    c = R.random_uniform([1001], minval=-3, maxval=7, dtype=dtypes.int32, seed=3)
    d = R.random_uniform([999], minval=10, maxval=13, dtype=dtypes.int64, seed=4)
    e = R.truncated_normal([0, 3], seed=5)
    va, vb, vc, vd, ve = _Sess(device, fresh_graph).run([a, b, c, d, e])
    assert va.shape == (7, 3) and va.dtype == np.float32
    assert va.min() >= -2.0 and va.max() < 5.0
    assert vb.shape == (5,) and vb.dtype == np.float64
    assert vc.dtype == np.int32 and vc.min() == -3 and vc.max() == 6
    assert vd.dtype == np.int64 and set(np.unique(vd)) == {10, 11, 12}
    assert ve.shape == (0, 3)


def test_int_minval_not_below_maxval_is_invalid_argument(device, fresh_graph):
    from pysession.framework import errors
    c = R.random_uniform([10], minval=5, maxval=5, dtype=dtypes.int32, seed=3)
    with pytest.raises(errors.InvalidArgumentError, match="minval < maxval"):
        _Sess(device, fresh_graph).run(c)


def test_seeded_same_in_fresh_session_new_each_run(device, fresh_graph):
    ops.set_random_seed(1234)
    x = R.random_normal([1000])
    y = R.random_normal([1000])
    s1 = _Sess(device, fresh_graph)
    x1, y1 = s1.run([x, y])
    x2 = s1.run(x)
    assert not np.array_equal(x1, y1)            # two ops: two streams
    assert not np.array_equal(x1, x2)            # each run of the op advances it
    s2 = _Sess(device, fresh_graph)              # a fresh session repeats the sequence
    np.testing.assert_array_equal(s2.run(x), x1)
    np.testing.assert_array_equal(s2.run([x, y])[0], x2)


def test_op_seed_alone_is_deterministic(device):
    vals = []
    for _ in range(2):
        with ops.Graph().as_default() as g:
            t = R.random_uniform([64], seed=7)
            vals.append(_Sess(device, g).run(t))
    np.testing.assert_array_equal(vals[0], vals[1])


_CHILD = r"""
import sys
from pysession.runtime import config; config.prepare_environment()
import numpy as np
from pysession.framework import ops
from pysession.ops import random_ops as R
from pysession.runtime import plan as plan_mod
with ops.Graph().as_default() as g:
    if sys.argv[1] == "seeded":
        ops.set_random_seed(42)
    t = R.random_normal([8])
    p = plan_mod.Planner(g, [t], [], [], None).build()
    print(" ".join("%.9g" % v for v in p.run([])[0][0]))
"""


def _child(mode):
    # the installed package, from a neutral folder (the source tree has no compiled scheduler)
    return subprocess.run([sys.executable, "-c", _CHILD, mode], env=dict(os.environ),
                          check=True, capture_output=True, text=True, timeout=120,
                          cwd=tempfile.mkdtemp()).stdout.strip()


def test_seeds_across_processes():
    a, b = _child("seeded"), _child("seeded")
    assert a == b and len(a.split()) == 8
    c, d = _child("unseeded"), _child("unseeded")
    assert c != d


def test_uniform_distribution(device, fresh_graph):
    n = 100000
    u = R.random_uniform([n], seed=11)
    u64 = R.random_uniform([n], dtype=dtypes.float64, seed=12)
    v, v64 = _Sess(device, fresh_graph).run([u, u64])
    for x in (v, v64):
        assert x.min() >= 0.0 and x.max() < 1.0
        assert abs(x.mean() - 0.5) < 0.005
        assert abs(x.std() - math.sqrt(1 / 12)) < 0.003
        assert _ks_stat(x, lambda z: z) < 1.63 / math.sqrt(n)       # KS at alpha = 1%
    assert len(np.unique(v)) > 0.99 * n


def test_normal_distribution(device, fresh_graph):
    n = 100000
    z = R.random_normal([n], mean=3.0, stddev=2.0, seed=21)
    z64 = R.random_normal([n], dtype=dtypes.float64, seed=22)
    v, v64 = _Sess(device, fresh_graph).run([z, z64])
    assert abs(v.mean() - 3.0) < 0.03 and abs(v.std() - 2.0) < 0.03
    assert abs(v64.mean()) < 0.015 and abs(v64.std() - 1.0) < 0.015
    assert _ks_stat((v - 3.0) / 2.0, _ncdf) < 1.63 / math.sqrt(n)
    assert _ks_stat(v64, _ncdf) < 1.63 / math.sqrt(n)
    assert np.all(np.isfinite(v))


def test_truncated_normal_bounds_and_distribution(device, fresh_graph):
    n = 100000
    t = R.truncated_normal([n], mean=1.0, stddev=0.5, seed=31)
    t64 = R.truncated_normal([n // 10], dtype=dtypes.float64, seed=32)
    v, v64 = _Sess(device, fresh_graph).run([t, t64])
    assert v.min() >= 0.0 and v.max() <= 2.0
    assert np.abs(v64).max() <= 2.0
    z = (v - 1.0) / 0.5
    # the standard normal truncated to (-2, 2): std 0.8796
    assert abs(z.mean()) < 0.01 and abs(z.std() - 0.8796) < 0.01
    mass = math.erf(2 / math.sqrt(2))
    cdf = lambda x: (_ncdf(x) - _ncdf(-2.0)) / mass
    assert _ks_stat(z, cdf) < 1.63 / math.sqrt(n)
