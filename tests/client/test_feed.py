"""feed_dict keys, value conversion and checks, as TF1."""
import numpy as np
import pytest

import pysession as tf


@pytest.fixture
def sess():
    s = tf.Session()
    yield s
    s.close()


def test_key_forms(sess):
    x = tf.placeholder(tf.float32, [2], name="x")
    y = x + 1.0
    for key in (x, "x:0"):
        np.testing.assert_array_equal(sess.run(y, {key: [1, 2]}), [2, 3])


def test_any_tensor_can_be_fed(sess):
    a = tf.constant([1.0, 2.0])
    b = a + 1.0
    c = b * 2.0
    np.testing.assert_array_equal(sess.run(c, {b: [10.0, 20.0]}), [20.0, 40.0])


@pytest.mark.parametrize("key", ["nope:0", "x", 3, None])
def test_bad_keys(sess, key):
    tf.placeholder(tf.float32, name="x")
    with pytest.raises(TypeError, match="Cannot interpret feed_dict key as Tensor"):
        sess.run(tf.constant(1.0), {key: 1.0})


def test_key_from_other_graph_or_operation(sess):
    x = tf.placeholder(tf.float32, [])
    with tf.Graph().as_default():
        other = tf.placeholder(tf.float32, [])
    with pytest.raises(TypeError, match="Cannot interpret feed_dict key"):
        sess.run(x + 1.0, {other: 1.0})
    with pytest.raises(TypeError, match="Cannot interpret feed_dict key"):
        sess.run(x + 1.0, {x.op: 1.0})


def test_value_that_is_a_tensor(sess):
    x = tf.placeholder(tf.float32, [])
    with pytest.raises(TypeError, match="cannot be a tf.Tensor"):
        sess.run(x + 1.0, {x: tf.constant(1.0)})


def test_shape_checks_with_tf_message(sess):
    x = tf.placeholder(tf.float32, [2], name="x")
    with pytest.raises(ValueError) as ei:
        sess.run(x + 1.0, {x: [1.0, 2.0, 3.0]})
    assert str(ei.value) == ("Cannot feed value of shape (3,) for Tensor 'x:0', which has "
                             "shape '(2,)'")
    y = tf.placeholder(tf.float32, [None, 3], name="y")
    np.testing.assert_array_equal(sess.run(y * 1.0, {y: np.ones((4, 3))}), np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"which has shape '\(\?, 3\)'"):
        sess.run(y * 1.0, {y: np.ones((4, 2))})
    z = tf.placeholder(tf.float32)             # unknown rank: anything goes
    assert sess.run(z * 2.0, {z: np.ones((2, 2, 2))}).shape == (2, 2, 2)


def test_value_conversion(sess):
    i = tf.placeholder(tf.int32, [])
    f = tf.placeholder(tf.float32, [])
    s = tf.placeholder(tf.string, [])
    assert sess.run(i + 1, {i: 2.7}) == 3          # numpy's conversion, TF is silent
    assert sess.run(f * 1.0, {f: 2}) == 2.0
    with pytest.raises(TypeError):
        sess.run(i + 1, {i: 2 ** 40})            # does not fit int32
    with pytest.raises(ValueError):
        sess.run(f * 1.0, {f: "abc"})
    with pytest.raises(TypeError):
        sess.run(tf.identity(s), {s: 3})


def test_missing_placeholder_is_invalid_argument(sess):
    x = tf.placeholder(tf.float32, [2], name="x")
    with pytest.raises(tf.errors.InvalidArgumentError) as ei:
        sess.run(x + 1.0)
    assert "x" in ei.value.message and ei.value.op is x.op
    np.testing.assert_array_equal(sess.run(x + 1.0, {x: [1, 2]}), [2, 3])   # still usable


def test_placeholder_with_default(sess):
    d = tf.placeholder_with_default(tf.constant([1.0, 2.0]), [2])
    y = d * 2.0
    np.testing.assert_array_equal(sess.run(y), [2, 4])
    np.testing.assert_array_equal(sess.run(y, {d: [5, 6]}), [10, 12])


def test_fed_shapes_get_their_own_plans(sess):
    x = tf.placeholder(tf.float32, [None])
    y = x * 2.0
    for n in (1, 7, 1023, 0):
        np.testing.assert_array_equal(sess.run(y, {x: np.arange(n)}), 2 * np.arange(n))
    assert len(sess._plans) == 4


def test_shape_of_a_partially_known_fed_tensor_folds_at_plan_time(sess):
    x = tf.placeholder(tf.float32, [None, 3])
    shp = tf.shape(x)
    assert sess.run(shp, {x: np.zeros((5, 3))}).tolist() == [5, 3]
    assert sess.run(tf.size(x), {x: np.zeros((2, 3))}) == 6
