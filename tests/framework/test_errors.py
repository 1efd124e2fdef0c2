import pickle

import pytest

import pysession.errors as tf_errors
from pysession.framework import errors

NAMES = {1: "CancelledError", 2: "UnknownError", 3: "InvalidArgumentError",
         4: "DeadlineExceededError", 5: "NotFoundError", 6: "AlreadyExistsError",
         7: "PermissionDeniedError", 8: "ResourceExhaustedError", 9: "FailedPreconditionError",
         10: "AbortedError", 11: "OutOfRangeError", 12: "UnimplementedError", 13: "InternalError",
         14: "UnavailableError", 15: "DataLossError", 16: "UnauthenticatedError"}
CODES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
         "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
         "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
         "UNAUTHENTICATED"]


def test_code_constants():
    assert [getattr(errors, c) for c in CODES] == list(range(17))


@pytest.mark.parametrize("code", sorted(NAMES))
def test_subclasses(code):
    cls = getattr(tf_errors, NAMES[code])
    assert cls is getattr(errors, NAMES[code])
    e = cls("node", "theop", "boom")
    assert isinstance(e, errors.OpError) and isinstance(e, Exception)
    assert (e.node_def, e.op, e.message, e.error_code) == ("node", "theop", "boom", code)
    assert errors.exception_type_from_error_code(code) is cls
    assert errors.error_code_from_exception_type(cls) == code
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is cls and e2.message == "boom"


def test_operror_str_and_context(graph):
    assert str(errors.OpError(None, None, "msg", errors.INTERNAL)) == "msg"
    from pysession.ops import core_ops
    op = core_ops.constant(1.0, name="c").op
    s = str(errors.InvalidArgumentError(None, op, "bad"))
    assert s.startswith("bad") and "'c'" in s and "test_errors.py" in s
    with pytest.raises(errors.OpError):
        raise errors.NotFoundError(None, None, "x")


def test_unknown_code():
    with pytest.raises(KeyError):
        errors.exception_type_from_error_code(99)
    assert errors.error_code_from_exception_type(ValueError) == errors.UNKNOWN
