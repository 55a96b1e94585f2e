"""`flask serve` (what `make run` starts): a request line or headers too large for the
server are refused before the app sees them, with the app's page in Japanese then
English, not the standard library's bare English one."""

from __future__ import annotations

import socket
import threading

import pytest
from werkzeug.serving import make_server

from app.cli import _QuietRequestHandler


@pytest.fixture()
def server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True,
                        request_handler=_QuietRequestHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    thread.join(timeout=10)


def _raw(port: int, request: bytes) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8")


def test_a_request_line_over_64_kib_gets_the_translated_page(server) -> None:
    answer = _raw(server, b"GET /?q=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith("HTTP/1.1 414 ")
    assert "アドレス（URL）が長すぎます" in answer and "Address too long" in answer
    assert "Error response" not in answer  # the standard library's page


def test_headers_too_large_get_the_translated_page(server) -> None:
    answer = _raw(server, b"GET / HTTP/1.1\r\nHost: x\r\nCookie: x=" + b"a" * 70_000
                  + b"\r\n\r\n")
    assert answer.startswith("HTTP/1.1 431 ")
    assert "送られた情報が多すぎます" in answer and "Error response" not in answer


def test_an_ordinary_request_still_reaches_the_app(server) -> None:
    answer = _raw(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith("HTTP/1.1 200 ")
