import socket
import time

import pytest

from notifications.transports import deadline as deadline_module
from notifications.transports.deadline import DeadlineExceeded, ResponseTooLarge, current, deadline, read_capped


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def test_a_blocked_read_ends_at_the_deadline(pair):
    ours, _ = pair
    ours.settimeout(5)
    started = time.monotonic()
    with deadline(0.2) as call:
        call.watch(ours)
        assert ours.recv(10) == b""  # shut down under it, long before its 5 s timeout
    assert 0.15 < time.monotonic() - started < 3  # loose: the machine running the tests may be busy
    assert call.fired is True
    assert str(call.error()) == "no complete answer within 0.2 s"
    assert isinstance(call.error(), DeadlineExceeded)


def test_a_socket_handed_on_after_it_was_watched_is_still_reached(pair):
    # As when TLS wraps a freshly connected socket: the object watched is detached, the connection is the same.
    ours, _ = pair
    with deadline(0.2) as call:
        call.watch(ours)
        wrapped = socket.socket(fileno=ours.detach())
        wrapped.settimeout(5)
        assert wrapped.recv(10) == b""
        wrapped.close()
    assert call.fired is True


def test_a_call_that_ends_in_time_leaves_its_socket_alone(pair):
    ours, theirs = pair
    with deadline(0.1) as call:
        call.watch(ours)
    time.sleep(0.3)
    theirs.sendall(b"still here")
    ours.settimeout(1)
    assert ours.recv(10) == b"still here"
    assert call.fired is False


def test_a_socket_watched_after_the_deadline_is_shut_down_at_once(pair):
    ours, _ = pair
    ours.settimeout(5)
    with deadline(0.05) as call:
        time.sleep(0.3)
        call.watch(ours)
        assert ours.recv(10) == b""
    assert call.fired is True


def test_the_running_call_is_current_in_its_thread_only_while_it_runs():
    assert current() is None
    with deadline(1) as outer:
        assert current() is outer
        with deadline(1) as inner:
            assert current() is inner
        assert current() is outer
    assert current() is None


def test_a_forked_process_starts_its_own_watchdog(pair, monkeypatch):
    parent = deadline_module._the_watchdog()
    monkeypatch.setattr(deadline_module.os, "getpid", lambda: -1)  # as in a pool process forked after a send
    child = deadline_module._the_watchdog()
    assert child is not parent
    assert deadline_module._the_watchdog() is child
    ours, _ = pair
    ours.settimeout(5)
    with deadline(0.1) as call:
        call.watch(ours)
        assert ours.recv(10) == b""
    assert call.fired is True


def test_read_capped_reads_up_to_the_cap_and_refuses_a_byte_more():
    def reader(data: bytes):
        chunks = [data[i : i + 3] for i in range(0, len(data), 3)]
        return lambda size: chunks.pop(0) if chunks else b""

    assert read_capped(reader(b"0123456789"), 10) == b"0123456789"
    with pytest.raises(ResponseTooLarge) as raised:
        read_capped(reader(b"0123456789A"), 10)
    assert str(raised.value) == "an answer larger than 10 bytes"
