"""Shared test setup: the fixed-up OpenCL environment before any platform query, and a
``device`` fixture that runs a test on every discovered device."""
import os

import pytest

from pysession.runtime import config

config.prepare_environment()        # before anything imports pyopencl and queries platforms


def _devices():
    from pysession.runtime import devices
    return devices.devices()


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames:
        devs = _devices()
        metafunc.parametrize("device", devs, ids=[d.short_name.replace("/device:", "")
                                                  for d in devs])


@pytest.fixture
def cl_context():
    """(context, queue) of the first device, for tests that drive pyopencl directly."""
    d = _devices()[0]
    return d.context, d.queue
