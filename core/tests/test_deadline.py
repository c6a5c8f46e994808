"""The watchdog cuts a blocked call at its deadline, and only that call (ara_realtime.sql.deadline).

Socket pairs stand in for a server that does not answer: a thread blocks in ``recv`` on one
end, as a DB-API call does, while nothing is ever sent from the other.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest

from ara_realtime import BackendError
from ara_realtime.sql.deadline import TimedOut, Watch, watchdog

SLACK = 3.0  # what a loaded machine may add to a bound


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def _blocked_recv(sock: socket.socket, watch: Watch) -> tuple[float, bytes | BaseException, bool]:
    """A call as the hot path makes it: arm, block, disarm."""
    start = time.monotonic()
    watch.arm()
    try:
        data: bytes | BaseException = sock.recv(10)
    except OSError as exc:
        data = exc
    cut = watch.disarm()
    return time.monotonic() - start, data, cut


def test_a_call_without_answer_is_cut_at_its_deadline(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, _ = pair
    watch = watchdog().watch(a.fileno(), 0.3)
    spent, data, cut = _blocked_recv(a, watch)
    assert data == b""  # the socket was shut down under the call
    assert cut and watch.shot and watch.late()
    assert spent < 0.3 + SLACK
    assert str(watch.error("db x")) == (
        "db x: no answer within query_timeout = 0.3 s (connection closed)"
    )
    assert isinstance(watch.error("db x"), BackendError)  # the core fails over on it


def test_a_cut_connection_is_aborted_when_closed() -> None:
    """SO_LINGER 0: its closing sends a reset and drops unsent data, so a request held back by
    a path that dropped packets is never delivered (and applied) after the call failed."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        peer, _ = server.accept()
        try:
            watch = watchdog().watch(client.fileno(), 0.2)
            _, data, cut = _blocked_recv(client, watch)
            assert cut and data == b""
            on, seconds = struct.unpack(
                "ii", client.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)
            )
            assert (on, seconds) == (1, 0)
            client.close()
            assert peer.recv(10) == b""  # the shutdown's FIN
            time.sleep(0.05)
            with pytest.raises((ConnectionResetError, BrokenPipeError)):
                peer.sendall(b"x")  # the close's reset came: nothing is open any more
                time.sleep(0.05)
                peer.sendall(b"x")
        finally:
            client.close()
            peer.close()


def test_a_call_that_ends_in_time_is_never_cut(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    watch = watchdog().watch(a.fileno(), 0.2)
    for _ in range(50):
        b.send(b"x")
        watch.arm()
        assert a.recv(1) == b"x"
        assert not watch.disarm()
    time.sleep(0.5)  # past every deadline the calls had
    b.send(b"still open")
    assert a.recv(20) == b"still open"
    assert not watch.shot


def test_each_watch_cuts_only_its_own_call() -> None:
    pairs = [socket.socketpair() for _ in range(3)]
    try:
        slow = watchdog().watch(pairs[0][0].fileno(), 0.3)
        idle = watchdog().watch(pairs[1][0].fileno(), 0.3)
        later = watchdog().watch(pairs[2][0].fileno(), 5.0)
        later.arm()
        _, data, cut = _blocked_recv(pairs[0][0], slow)
        assert cut and data == b""
        assert not idle.shot and not later.shot
        assert later.disarm() is False
        for a, b in pairs[1:]:
            b.send(b"ok")
            assert a.recv(2) == b"ok"
    finally:
        for a, b in pairs:
            a.close()
            b.close()


def test_a_reused_descriptor_is_left_alone() -> None:
    """The library closed its socket and the number now names another one: no cut."""
    gone, peer = socket.socketpair()
    fd = gone.fileno()
    watch = watchdog().watch(fd, 0.2)
    other, other_peer = socket.socketpair()
    try:
        os.dup2(other.fileno(), fd)  # fd now names `other`'s socket
        watch.arm()
        time.sleep(0.6)  # the watchdog fires at its deadline
        assert watch.disarm()  # it was fired (the connection would be thrown away) ...
        other_peer.send(b"alive")
        assert other.recv(5) == b"alive"  # ... but the socket that took the number is intact
    finally:
        for s in (gone, peer, other, other_peer):
            s.close()


def test_a_watch_without_socket_times_calls_but_cuts_nothing() -> None:
    watch = watchdog().watch(None, 0.1)
    assert not watch.can_cut
    watch.arm()
    time.sleep(0.3)
    assert watch.disarm()  # fired: nothing to cut, but the caller learns the call is late
    assert watch.late()


def test_bounded_blocks_raise_timed_out_only_when_late(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, _ = pair
    watch = watchdog().watch(a.fileno(), 0.3)
    with pytest.raises(ValueError, match="early"), watch.bounded("db x"):
        raise ValueError("early")  # a failure in time is the block's own
    assert not watch.deadline
    start = time.monotonic()
    late = r"db x: no answer within query_timeout = 0\.3 s"
    with pytest.raises(TimedOut, match=late), watch.bounded("db x"):
        if a.recv(1) == b"":  # cut
            raise ConnectionError("server closed the connection")
    assert time.monotonic() - start < 0.3 + SLACK


def test_bounded_blocks_nest_under_the_outer_deadline() -> None:
    watch = watchdog().watch(None, 10.0)
    with watch.bounded("db", timeout=20.0):
        outer = watch.deadline
        with watch.bounded("db"):
            assert watch.deadline == outer
        assert watch.deadline == outer
    assert watch.deadline == 0.0


def test_one_thread_serves_every_watch() -> None:
    watches = [watchdog().watch(None, 1.0) for _ in range(50)]
    names = [t.name for t in threading.enumerate()]
    assert names.count("ara-realtime-watchdog") == 1
    assert len(watches) == 50


def test_a_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="query_timeout must be positive"):
        watchdog().watch(None, 0)
