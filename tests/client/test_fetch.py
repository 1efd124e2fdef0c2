"""Fetch structures, names, operations, duplicates, errors."""
import collections

import numpy as np
import pytest

import pysession as tf


@pytest.fixture
def sess():
    s = tf.Session()
    yield s
    s.close()


def test_names_tensor_and_operation(sess):
    a = tf.constant([1.0, 2.0], name="c")
    b = tf.add(a, 1.0, name="plus")
    np.testing.assert_array_equal(sess.run("plus:0"), [2.0, 3.0])
    assert sess.run("plus") is None                  # an operation name: run, give None
    assert sess.run(b.op) is None
    out = sess.run(["c:0", b, b.op])
    np.testing.assert_array_equal(out[0], [1.0, 2.0])
    assert out[2] is None


def test_nested_structures_keep_types(sess):
    a = tf.constant(1)
    b = tf.constant([2.0])
    Pair = collections.namedtuple("Pair", "x y")
    od = collections.OrderedDict([("z", a), ("a", b)])
    res = sess.run([(a, [b, {"k": Pair(a, b)}]), od])
    assert isinstance(res, list) and isinstance(res[0], tuple)
    assert isinstance(res[0][1][1]["k"], Pair)
    assert res[0][1][1]["k"].x == 1
    assert isinstance(res[1], collections.OrderedDict) and list(res[1]) == ["z", "a"]


def test_duplicate_fetches_computed_once(sess):
    x = tf.placeholder(tf.float32, [3])
    y = x * 2.0
    r = sess.run([y, y, {"again": y}], {x: [1, 2, 3]})
    np.testing.assert_array_equal(r[0], [2, 4, 6])
    assert r[0] is not r[1] or np.array_equal(r[0], r[1])
    np.testing.assert_array_equal(r[2]["again"], [2, 4, 6])
    plan = next(iter(sess._plans.values()))
    assert [s[0] for s in plan.fetch_specs] == ["read"]   # one tensor fetched once


def test_scalar_results_are_numpy_scalars(sess):
    v = sess.run(tf.constant(3, tf.int64) + 1)
    assert isinstance(v, np.int64) and v == 4
    v = sess.run(tf.constant(True))
    assert isinstance(v, np.bool_)


@pytest.mark.parametrize("bad", [None, 1, 2.5, {1, 2}, np.zeros(2)])
def test_non_graph_elements_raise_type_error(sess, bad):
    tf.constant(1.0)
    with pytest.raises(TypeError):
        sess.run(bad)
    with pytest.raises(TypeError):
        sess.run([tf.constant(1.0), bad])


@pytest.mark.parametrize("name", ["foo:0", "foo", "c:1"])
def test_unknown_names_raise_value_error(sess, name):
    tf.constant(1.0, name="c")
    with pytest.raises(ValueError):
        sess.run(name)


def test_tensor_of_another_graph_raises_value_error(sess):
    tf.constant(1.0)
    with tf.Graph().as_default():
        other = tf.constant(2.0)
    with pytest.raises(ValueError):
        sess.run(other)


def test_fetching_a_fed_tensor_returns_the_fed_value(sess):
    a = tf.constant([1.0, 2.0])
    b = a * 3.0
    np.testing.assert_array_equal(sess.run(b, {a: [5.0, 6.0]}), [15.0, 18.0])
    np.testing.assert_array_equal(sess.run(a, {a: [7.0, 8.0]}), [7.0, 8.0])


def test_results_do_not_alias_constants(sess):
    a = tf.constant([1.0, 2.0])
    r = sess.run(a)
    r[0] = 100
    np.testing.assert_array_equal(sess.run(a), [1.0, 2.0])


def test_string_tensors_stay_on_the_host(sess):
    s = tf.constant("hello")
    p = tf.placeholder(tf.string, [2])
    assert sess.run(s) == b"hello"
    r = sess.run(tf.identity(p), {p: ["a", "bc"]})
    assert list(r) == [b"a", b"bc"]
