"""hostile/held_clients.py does what it claims against a trivial Python
echo listener with no limit: the clients arrive in order, one after the
previous one's echo, each gets its line back, holds the connection, then
ends it cleanly."""

import json
import os
import socket
import ssl
import sys
import threading

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


class EchoListener:
    """Echoes every client on 127.0.0.1 in a thread of its own; records
    each one's first line in the order they were accepted and how it ended
    ("clean": the end of the stream, after close_notify over TLS)."""

    def __init__(self, context=None):
        self.context = context
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.accepted = []   # [first line, how it ended], in accept order
        self.threads = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            entry = [None, None]
            with self.lock:
                self.accepted.append(entry)
            t = threading.Thread(target=self._echo, args=(conn, entry), daemon=True)
            self.threads.append(t)
            t.start()

    def _echo(self, conn, entry):
        conn.settimeout(30)
        try:
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True,
                                                suppress_ragged_eofs=False)
            data = b""
            while True:
                d = conn.recv(4096)
                if not d:
                    break
                data += d
                if entry[0] is None and b"\n" in data:
                    entry[0] = data.split(b"\n")[0].decode()
                conn.sendall(d)
            if self.context is not None:
                conn = conn.unwrap()  # answer the close_notify
                while conn.recv(100):  # then the half-close
                    pass
            entry[1] = "clean"
        except (OSError, ssl.SSLError) as e:
            entry[1] = repr(e)
        finally:
            conn.close()

    def close(self):
        self.sock.close()
        for t in self.threads:
            t.join(30)


@pytest.mark.parametrize("mode", ["plain", "tls"])
def test_held_clients_queue_in_order_hold_and_end_cleanly(run, pki, mode):
    ctx = None
    if mode == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pki.cert(), pki.key())
    lst = EchoListener(ctx)
    try:
        cmd = [sys.executable, "-m", "hostile.held_clients", lst.port, "--clients", "3",
               "--hold", "2"] + (["--cafile", pki.ca] if mode == "tls" else [])
        r = run(cmd, timeout=30, cwd=HERE).expect(0)
    finally:
        lst.close()
    results = [json.loads(line) for line in r.out.splitlines()]
    assert [x["client"] for x in results] == [1, 2, 3]
    echo_times = [x["echoed"] for x in results]
    assert echo_times == sorted(echo_times), "each client waits for the previous one's echo"
    for x in results:
        assert x["echo"] == f"client {x['client']}"
        assert x["released"] - x["echoed"] >= 2
    # Nothing limits the listener: all three were echoed before any let go.
    assert max(x["echoed"] for x in results) < min(x["released"] for x in results)
    assert lst.accepted == [["client 1", "clean"], ["client 2", "clean"], ["client 3", "clean"]]
