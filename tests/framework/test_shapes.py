import pickle

import numpy as np
import pytest

from pysession.framework import tensor_shape as ts
from pysession.framework.tensor_shape import Dimension as D, TensorShape as S


def test_dimension_basics():
    assert D(3).value == 3 and D(None).value is None and D(np.int64(4)).value == 4
    assert D(3.0).value == 3 and D(D(5)).value == 5
    assert repr(D(2)) == "Dimension(2)" and str(D(None)) == "?" and str(D(7)) == "7"
    assert int(D(3)) == 3 and [0, 1, 2, 3][D(2)] == 2
    with pytest.raises(ValueError):
        D(-1)
    with pytest.raises(ValueError):
        D(2.5)
    with pytest.raises(TypeError):
        D("3")


def test_dimension_equality_is_tristate():
    assert (D(2) == D(2)) is True and (D(2) == 3) is False
    assert (D(None) == D(2)) is None and (D(None) == D(None)) is None
    assert (D(2) != 3) is True and (D(None) != 3) is None
    assert (D(1) < 2) is True and (D(None) < 2) is None and (D(3) >= D(3)) is True


def test_dimension_arithmetic():
    assert (D(2) + 3).value == 5 and (3 + D(2)).value == 5 and (D(6) - 2).value == 4
    assert (10 - D(3)).value == 7 and (D(3) * D(4)).value == 12 and (D(7) // 2).value == 3
    assert (7 // D(2)).value == 3 and (D(7) % 3).value == 1
    assert (D(None) + 1).value is None and (2 * D(None)).value is None
    with pytest.raises(TypeError):
        D(4) / 2


def test_dimension_merge_compat():
    assert D(None).merge_with(3).value == 3 and D(3).merge_with(None).value == 3
    assert D(3).is_compatible_with(None) and not D(3).is_compatible_with(4)
    with pytest.raises(ValueError, match="Dimensions 3 and 4 are not compatible"):
        D(3).merge_with(4)
    assert ts.dimension_value(D(3)) == 3 and ts.dimension_value(5) == 5


def test_shape_construction_and_str():
    assert str(S([2, None])) == "(2, ?)" and str(S(None)) == "<unknown>"
    assert str(S([])) == "()" and str(S([3])) == "(3,)" and str(S(3)) == "(3,)"
    assert repr(S([2, None])) == "TensorShape([Dimension(2), Dimension(None)])"
    assert repr(S(None)) == "TensorShape(None)"
    assert S([2, 3]).ndims == 2 and S([2, 3]).rank == 2 and S(None).ndims is None
    assert S(None).dims is None and S([1]).dims == [D(1)]
    with pytest.raises(TypeError):
        S("abc")


def test_as_list_and_len():
    assert S([2, None]).as_list() == [2, None] and len(S([1, 2, 3])) == 3
    with pytest.raises(ValueError, match="unknown TensorShape"):
        S(None).as_list()
    with pytest.raises(ValueError):
        len(S(None))
    with pytest.raises(ValueError):
        iter(S(None))
    assert [d.value for d in S([4, 5])] == [4, 5]
    assert bool(S([])) and not bool(S(None))


def test_fully_defined_and_num_elements():
    assert S([2, 3]).is_fully_defined() and S([2, 3]).num_elements() == 6
    assert S([]).num_elements() == 1 and S([0, 5]).num_elements() == 0
    assert not S([2, None]).is_fully_defined() and S([2, None]).num_elements() is None
    assert S(None).num_elements() is None
    with pytest.raises(ValueError, match="not fully defined"):
        S([None]).assert_is_fully_defined()


def test_merge_with():
    assert S([2, None]).merge_with([None, 3]).as_list() == [2, 3]
    assert S(None).merge_with([1]).as_list() == [1] and S([1]).merge_with(None).as_list() == [1]
    with pytest.raises(ValueError, match=r"Shapes \(2,\) and \(3,\) are not compatible"):
        S([2]).merge_with(S([3]))
    with pytest.raises(ValueError, match="not compatible"):
        S([2]).merge_with([2, 2])


def test_compatibility():
    assert S([2, None]).is_compatible_with([2, 7]) and S(None).is_compatible_with([1, 2])
    assert not S([2, 3]).is_compatible_with([2]) and not S([2, 3]).is_compatible_with([2, 4])
    S([None]).assert_is_compatible_with([5])
    with pytest.raises(ValueError, match="are incompatible"):
        S([1]).assert_is_compatible_with([2])
    assert S([1, 2]).most_specific_compatible_shape([1, 3]).as_list() == [1, None]


def test_rank_checks():
    assert S(None).with_rank(2).as_list() == [None, None]
    assert S([1, 2]).with_rank(2).as_list() == [1, 2]
    with pytest.raises(ValueError, match="must have rank 3"):
        S([1, 2]).with_rank(3)
    assert S([1, 2]).with_rank_at_least(1).as_list() == [1, 2]
    with pytest.raises(ValueError, match="must have rank at least 3"):
        S([1, 2]).with_rank_at_least(3)
    with pytest.raises(ValueError, match="must have rank at most 1"):
        S([1, 2]).with_rank_at_most(1)
    S(None).assert_has_rank(4)
    with pytest.raises(ValueError, match="must have rank 1"):
        S([1, 2]).assert_has_rank(1)
    with pytest.raises(ValueError, match="same rank"):
        S([1]).assert_same_rank([1, 2])


def test_concatenate_and_getitem():
    assert S([1]).concatenate([2, 3]).as_list() == [1, 2, 3]
    assert (S([1]) + S([None])).as_list() == [1, None]
    assert S([1]).concatenate(None).ndims is None
    s = S([1, 2, 3])
    assert isinstance(s[0], D) and s[-1].value == 3 and s[1:].as_list() == [2, 3]
    assert s[5:].as_list() == []
    u = S(None)
    assert u[0].value is None and u[1:].ndims is None and u[1:3].as_list() == [None, None]


def test_equality():
    assert S([1, 2]) == S([1, 2]) and S([1, 2]) == [1, 2] and S([1, 2]) != [1, 3]
    assert not (S([None]) == S([None]))          # TF1: unknown dims never compare equal
    assert S(None) == S(None) and not (S(None) == S([1]))
    assert S([1]) != S([1, 2])
    with pytest.raises(ValueError, match="inequality of unknown"):
        S(None) != S([1])
    assert hash(S([1, 2])) == hash(S([1, 2]))


def test_factories_and_pickle():
    assert ts.unknown_shape().ndims is None and ts.unknown_shape(rank=2).as_list() == [None] * 2
    assert ts.scalar().as_list() == [] and ts.vector(3).as_list() == [3]
    assert ts.matrix(2, None).as_list() == [2, None]
    assert ts.as_shape([1, 2]).as_list() == [1, 2] and ts.as_shape(S([3])).as_list() == [3]
    assert pickle.loads(pickle.dumps(S([1, None]))).as_list() == [1, None]
    assert pickle.loads(pickle.dumps(S(None))).ndims is None
