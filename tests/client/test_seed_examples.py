"""Every code example of the TF1 tf.Session / tf.InteractiveSession reference pages."""
import collections

import numpy as np

import pysession as tf


def test_build_a_graph_and_run_it():
    a = tf.constant(5.0)
    b = tf.constant(6.0)
    c = a * b
    sess = tf.compat.v1.Session()
    assert sess.run(c) == 30.0
    assert isinstance(sess.run(c), np.float32)
    sess.close()


def test_close_and_context_manager():
    c = tf.constant([1, 2]) + 1
    sess = tf.Session()
    np.testing.assert_array_equal(sess.run(c), [2, 3])
    sess.close()
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(c), [2, 3])
    try:
        sess.run(c)
    except RuntimeError as e:
        assert "closed Session" in str(e)
    else:
        raise AssertionError("a closed session ran")


def test_soft_placement_config():
    c = tf.constant(2.0) * 3.0
    sess = tf.Session(config=tf.ConfigProto(allow_soft_placement=True,
                                            log_device_placement=True))
    assert sess.run(c) == 6.0
    sess.close()


def test_run_fetch_forms_from_the_run_docstring():
    a = tf.constant([10, 20])
    b = tf.constant([1.0, 2.0])
    with tf.Session() as session:
        v = session.run(a)
        assert isinstance(v, np.ndarray)
        np.testing.assert_array_equal(v, [10, 20])
        v = session.run([a, b])
        assert isinstance(v, list) and len(v) == 2
        np.testing.assert_array_equal(v[0], [10, 20])
        np.testing.assert_array_equal(v[1], [1.0, 2.0])
        MyData = collections.namedtuple("MyData", ["a", "b"])
        v = session.run({"k1": MyData(a, b), "k2": [b, a]})
        assert isinstance(v, dict) and set(v) == {"k1", "k2"}
        assert isinstance(v["k1"], MyData)
        np.testing.assert_array_equal(v["k1"].a, [10, 20])
        np.testing.assert_array_equal(v["k1"].b, [1.0, 2.0])
        assert isinstance(v["k2"], list)
        np.testing.assert_array_equal(v["k2"][0], [1.0, 2.0])
        np.testing.assert_array_equal(v["k2"][1], [10, 20])


def test_as_default_examples():
    c = tf.constant(4.0) + 1.0
    sess = tf.Session()
    with sess.as_default():
        assert tf.get_default_session() is sess
        assert c.eval() == 5.0
    with sess.as_default():
        assert c.eval() == 5.0
    assert tf.get_default_session() is None
    sess.close()


def test_as_default_does_not_close():
    c = tf.constant(1.0) * 2.0
    sess = tf.Session()
    with sess.as_default():
        pass
    assert sess.run(c) == 2.0      # still open
    sess.close()


def test_interactive_session_example():
    sess = tf.InteractiveSession()
    a = tf.constant(5.0)
    b = tf.constant(6.0)
    c = a * b
    assert c.eval() == 30.0
    sess.close()
    assert tf.get_default_session() is None


def test_with_session_eval_example():
    a = tf.constant(5.0)
    b = tf.constant(6.0)
    c = a * b
    with tf.Session():
        assert c.eval() == 30.0


def test_list_devices_example():
    with tf.Session() as sess:
        devices = sess.list_devices()
        assert devices
        for d in devices:
            assert d.name.startswith("/job:localhost/replica:0/task:0/device:")
            assert d.device_type in ("CPU", "GPU", "ACCELERATOR")
            assert d.memory_limit_bytes > 0 and d.memory_limit == d.memory_limit_bytes


def test_make_callable_example():
    a = tf.placeholder(tf.float32, [])
    b = a * 2.0 + 1.0
    with tf.Session() as sess:
        f = sess.make_callable(b, feed_list=[a])
        assert f(3.0) == 7.0
        assert f(np.float32(0.5)) == 2.0
