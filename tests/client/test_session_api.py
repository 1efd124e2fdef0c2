"""Session construction, defaults per thread, closing, graph_def, sess_str, threads,
make_callable, tracing."""
import json
import threading

import numpy as np
import pytest

import pysession as tf


def test_constructor_type_checks():
    with pytest.raises(TypeError):
        tf.Session(target=3)
    with pytest.raises(TypeError):
        tf.Session(graph="not a graph")
    with pytest.raises(TypeError):
        tf.Session(config={"allow_soft_placement": True})
    with pytest.raises(tf.errors.NotFoundError):
        tf.Session("grpc://localhost:2222")


def test_sess_str_graph_and_graph_def():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(1.0, name="a")
        tf.identity(a, name="b")
    with tf.Session(graph=g) as sess:
        assert sess.sess_str == b""
        assert sess.graph is g
        gd = sess.graph_def
        assert [n.name for n in gd.node] == ["a", "b"]
        assert gd.node[1].input == ["a"]
        json.dumps(gd)


def test_close_is_idempotent_and_del_tolerant():
    sess = tf.Session()
    sess.close()
    sess.close()
    with pytest.raises(RuntimeError):
        sess.run(tf.constant(1.0))
    sess2 = tf.Session()
    del sess2


def test_with_session_sets_default_session_and_graph():
    g = tf.Graph()
    with tf.Session(graph=g) as sess:
        assert tf.get_default_session() is sess
        assert tf.get_default_graph() is g
    assert tf.get_default_session() is None
    assert tf.get_default_graph() is not g


def test_default_session_is_per_thread():
    sess = tf.Session()
    seen = {}

    def other():
        seen["other"] = tf.get_default_session()

    with sess.as_default():
        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert tf.get_default_session() is sess
    assert seen["other"] is None
    sess.close()


def test_eval_without_default_session_raises():
    c = tf.constant(1.0) + 1.0
    with pytest.raises(ValueError):
        c.eval()
    with tf.Session() as s:
        assert c.eval(session=s) == 2.0


def test_operation_run():
    x = tf.placeholder(tf.float32, [])
    op = tf.group(x * 2.0)
    with tf.Session():
        assert op.run(feed_dict={x: 1.0}) is None


def test_failed_run_leaves_session_usable():
    x = tf.placeholder(tf.float32, [2])
    y = x * 2.0
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(y)
        with pytest.raises(ValueError):
            sess.run(y, {x: [1.0]})
        np.testing.assert_array_equal(sess.run(y, {x: [1, 2]}), [2, 4])


def test_eight_threads_two_hundred_runs_each():
    x = tf.placeholder(tf.float32, [16])
    y = x * 3.0 + 1.0
    sess = tf.Session()
    errors_seen = []

    def worker(k):
        try:
            for i in range(200):
                v = np.full(16, k * 1000 + i, np.float32)
                r = sess.run(y, {x: v})
                if not np.array_equal(r, v * 3 + 1):
                    errors_seen.append((k, i, r[:2]))
        except Exception as e:        # noqa: BLE001 - collected and asserted below
            errors_seen.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sess.close()
    assert errors_seen == []


def test_make_callable_forms():
    a = tf.placeholder(tf.float32, [None], name="a")
    b = a * 2.0
    c = tf.constant(5)
    with tf.Session() as sess:
        f = sess.make_callable([b, c], feed_list=["a:0"])
        r = f([1.0, 2.0])
        np.testing.assert_array_equal(r[0], [2, 4])
        assert r[1] == 5
        r = f(np.arange(5))                  # another shape: another plan
        np.testing.assert_array_equal(r[0], 2 * np.arange(5))
        with pytest.raises(TypeError):
            f()
        g = sess.make_callable(b.op, feed_list=[a])
        assert g([1.0]) is None
        h = sess.make_callable(c)
        assert h() == 5
        t = sess.make_callable(b, feed_list=[a], accept_options=True)
        md = tf.RunMetadata()
        t([1.0], options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=md)
        assert md.HasField("step_stats")
    with pytest.raises(RuntimeError):
        f([1.0])


def test_tracing_fills_step_stats_and_timeline():
    x = tf.placeholder(tf.float32, [1000])
    y = x * 2.0 + 1.0
    with tf.Session() as sess:
        md = tf.RunMetadata()
        sess.run(y, {x: np.ones(1000)}, run_metadata=md)
        assert not md.HasField("step_stats")
        opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
        sess.run(y, {x: np.ones(1000)}, options=opts, run_metadata=md)
        assert md.HasField("step_stats")
        devs = md.step_stats.dev_stats
        assert devs and devs[0].device.startswith("/job:localhost")
        names = [n.node_name for d in devs for n in d.node_stats]
        assert y.op.name in names
        for d in devs:
            for n in d.node_stats:
                assert n.all_start_micros > 0 and n.all_end_rel_micros >= 0
        trace = json.loads(tf.timeline.Timeline(md.step_stats).generate_chrome_trace_format())
        complete = [e for e in trace["traceEvents"] if e["ph"] == "X"]
        assert len(complete) == len(names)
        assert {e["pid"] for e in complete} <= {e["pid"] for e in trace["traceEvents"]
                                                if e["ph"] == "M"}
