"""One guard for every call to a user-given URL (webhooks, Slack): embedded IPv4 forms refused, no redirect,
a total deadline and a cap on the answer's size, tried against slow and large servers on 127.0.0.1."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.outbound import AddressRefused, OutboundError, address_refusal, outbound_post, url_check


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("64:ff9b::7f00:1", "127.0.0.1"),  # NAT64 of loopback
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),  # NAT64 of the cloud metadata address
        ("2002:7f00:1::", "127.0.0.1"),  # 6to4 of loopback
        ("2002:c0a8:0001::1", "192.168.0.1"),  # 6to4 of a private address
        ("::ffff:10.0.0.1", "10.0.0.1"),  # IPv4-mapped
        ("::1", "::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("0.0.0.0", "0.0.0.0"),
        ("240.0.0.1", "240.0.0.1"),
    ],
)
def test_embedded_and_private_addresses_are_refused(address, refused):
    assert address_refusal(address) == refused


@pytest.mark.parametrize("address", ["93.184.216.34", "64:ff9b::5db8:d822", "2606:4700::1111"])
def test_public_addresses_pass(address):
    assert address_refusal(address) is None


def test_a_host_resolving_to_nat64_loopback_is_refused(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("64:ff9b::7f00:1", port, 0, 0))],
    )

    with pytest.raises(AddressRefused, match="resolves to 127.0.0.1, a private"):
        url_check("https://hooks.example.test/x")


class Scripted(BaseHTTPRequestHandler):
    """Answers by path: /redirect, /drip (one byte a second), /large (2 MB), /ok."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.5)
        elif self.path == "/drip-headers":
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 1000:
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.5)
        elif self.path == "/large":
            self.send_response(200)
            self.end_headers()  # no Content-Length: read until closed
            try:
                for _ in range(256):
                    self.wfile.write(b"z" * 8192)
            except OSError:
                return
        else:
            self.send_response(204)
            self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.OUTBOUND_DEADLINE_SECONDS = 2
    settings.OUTBOUND_MAX_RESPONSE_BYTES = 65536
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_a_normal_answer(server):
    assert outbound_post(f"{server}/ok", b"{}", {}).status_code == 204


def test_redirects_are_not_followed(server):
    response = outbound_post(f"{server}/redirect", b"{}", {})

    assert response.status_code == 302


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_a_dripping_receiver_is_cut_off_at_the_total_deadline(server, path):
    started = time.monotonic()

    with pytest.raises(OutboundError, match="within 2 s"):
        outbound_post(f"{server}{path}", b"{}", {})

    assert time.monotonic() - started < 4


def test_a_large_answer_is_cut_off_at_the_cap(server):
    with pytest.raises(OutboundError, match="larger than 65536 bytes"):
        outbound_post(f"{server}/large", b"{}", {})
