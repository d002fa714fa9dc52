"""The pcapng writer (src/app/pcapng.c) as tshark reads it, before --pcap
is wired to the library's wire tap: real exchanges of our programs are
recorded by a relay in this process (the bytes each way, their times, how
each side closed), replayed into the writer by pcapng-driver as the client
or the server would have seen them, and `tshark -r FILE` must then
 - open the file alone and find no malformed packet and no TCP analysis
   problem (previous segment not captured, ACKed unseen segment, window
   full, duplicate ACK, retransmission, ...);
 - count the same application bytes each way as went through the relay;
 - find the marker: in clear for TCP and UDP, decrypted with only the
   secrets inside the file for TLS 1.2, TLS 1.3 and DTLS 1.2, with the
   keys placed where OpenSSL logs them (after the flight they decrypt was
   read), the connection held through its handshake as the tap will do.
Plus a server's view of many clients in one file, IPv6, and long
synthesized transfers with every kind of closing."""

import os
import random
import select
import socket
import subprocess
import threading
import time

import pytest

from harness.system import ipv6_works, need

MARKER = "MARKER-7f3a"
# Wireshark's own words for a problem: a malformed packet, any TCP
# analysis flag, any expert item of severity error.
PROBLEMS = "_ws.malformed || tcp.analysis.flags || _ws.expert.severity >= 0x00800000"
RELAY_TIMEOUT = 60


def now_line():
    t = time.time_ns()
    return f"time {t // 10**9}.{t % 10**9:09d}"


class TcpRelay:
    """One TCP connection relayed from a client to upstream, recorded as
    pcapng-driver lines from the client's side: what it sent and received,
    when, and how each side closed (FIN: the stream ended; RST: reset)."""

    def __init__(self, upstream_port, host="127.0.0.1"):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.bind((host, 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.host, self.upstream = host, upstream_port
        self.events, self.sent, self.received = [], 0, 0
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self._relay()
        except Exception as e:  # shown by finish()
            self.error = repr(e)

    def _relay(self):
        self.listener.settimeout(RELAY_TIMEOUT)
        client, caddr = self.listener.accept()
        up = socket.create_connection((self.host, self.upstream), timeout=RELAY_TIMEOUT)
        self.events += [now_line(), f"conn 1 tcp we {caddr[0]} {caddr[1]} {self.host} {self.port}"]
        peer_of = {client: up, up: client}
        word = {client: "sent", up: "recv"}
        reading = [client, up]
        while reading:
            ready, _, _ = select.select(reading, [], [], RELAY_TIMEOUT)
            if not ready:
                raise AssertionError("the relay saw nothing for a minute")
            for s in ready:
                try:
                    data, how = s.recv(65536), "fin"
                except ConnectionResetError:
                    data, how = None, "rst"
                self.events.append(now_line())
                if data:
                    peer_of[s].sendall(data)
                    self.events.append(f"{word[s]} 1 {data.hex()}")
                    if s is client:
                        self.sent += len(data)
                    else:
                        self.received += len(data)
                    continue
                self.events.append(f"shutdown 1 {word[s]} {how}")
                reading.remove(s)
                if how == "rst":
                    reading = []
                    break
                try:
                    peer_of[s].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        self.events.append("end 1 fin")
        client.close()
        up.close()

    def finish(self):
        self.thread.join(RELAY_TIMEOUT)
        assert not self.thread.is_alive(), "the relay is still relaying"
        assert self.error is None, f"the relay failed: {self.error}"
        self.listener.close()
        return self.events


class UdpRelay:
    """Datagrams between one client and upstream, recorded likewise; it
    stops when told (after the client is done)."""

    def __init__(self, upstream_port, host="127.0.0.1"):
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind((host, 0))
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.connect((host, upstream_port))
        self.port, self.host = self.front.getsockname()[1], host
        self.events, self.sent, self.received = [], 0, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        client = None
        while not self.stop.is_set():
            ready, _, _ = select.select([self.front, self.back], [], [], 0.05)
            for s in ready:
                if s is self.front:
                    data, addr = self.front.recvfrom(65536)
                    if client is None:
                        client = addr
                        self.events += [now_line(), f"conn 1 udp we {addr[0]} {addr[1]} "
                                                    f"{self.host} {self.port}"]
                    self.back.send(data)
                    self.sent += len(data)
                    word = "sent"
                else:
                    data = self.back.recv(65536)
                    if client is None:
                        continue
                    self.front.sendto(data, client)
                    self.received += len(data)
                    word = "recv"
                self.events += [now_line(), f"{word} 1 {data.hex()}"]
        self.events.append("end 1 fin")

    def finish(self):
        self.stop.set()
        self.thread.join(RELAY_TIMEOUT)
        self.front.close()
        self.back.close()
        return self.events


def with_keys(events, keylog, placement):
    """The relay's lines with the key-log lines added: "first", before
    everything; "held", as the tap will do it: the connection held from
    its start, the keys after the first flight received (where OpenSSL
    logs them), released after the next thing sent."""
    keys = [f"keylog {line}" for line in keylog.splitlines() if line.strip()]
    if placement == "first":
        return keys + events
    out, state = [], "start"
    for line in events:
        out.append(line)
        if state == "start" and line.startswith("conn "):
            out.append("hold 1")
            state = "held"
        elif state == "held" and line.startswith("recv "):
            out += keys
            state = "keyed"
        elif state == "keyed" and line.startswith("sent "):
            out.append("release 1")
            state = "done"
    assert state == "done", "no flight received and answered: not a handshake"
    return out


def as_server(events, conn_id, port):
    """A client-side recording as the server saw it: the peer opened, the
    directions swapped, the client on another port, connection conn_id."""
    swap = {"sent": "recv", "recv": "sent"}
    out = []
    for line in events:
        w = line.split(" ")
        if w[0] == "conn":
            _, _, proto, _, caddr, _, saddr, sport = w
            out.append(f"conn {conn_id} {proto} peer {saddr} {sport} {caddr} {port}")
        elif w[0] in ("sent", "recv"):
            out.append(f"{swap[w[0]]} {conn_id} {w[2]}")
        elif w[0] == "shutdown":
            out.append(f"shutdown {conn_id} {swap[w[2]]} {w[3]}")
        elif w[0] in ("end", "hold", "release"):
            out.append(f"{w[0]} {conn_id} {' '.join(w[2:])}".rstrip())
        else:
            out.append(line)
    return out


@pytest.fixture
def write_pcapng(prog, run, tmp_path):
    """write_pcapng(lines, name): the writer fed the lines by pcapng-driver;
    the file's path."""

    def write(lines, name="capture.pcapng"):
        path = tmp_path / name
        script = "\n".join(lines) + "\n"
        r = run([prog("pcapng-driver"), str(path)], input=script.encode(), timeout=120)
        r.expect(0)
        return str(path)

    return write


def tshark(capture, *args):
    """tshark reading capture with no key-log file of its own; stdout."""
    need("tshark")
    cmd = ["tshark", "-n", "-r", capture, "-o", "tls.keylog_file:", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=300,
                       env=dict(os.environ, LC_ALL="C"))
    err = "\n".join(line for line in r.stderr.splitlines() if "Running as user" not in line)
    assert r.returncode == 0 and not err.strip(), \
        f"{' '.join(cmd)}: exit {r.returncode}\n{err}"
    return r.stdout


def fields(capture, display_filter, *names):
    out = tshark(capture, "-Y", display_filter, "-T", "fields", "-E", "occurrence=a",
                 *[a for n in names for a in ("-e", n)])
    return [line.split("\t") for line in out.splitlines()]


def assert_clean(capture):
    """tshark opens it alone and finds nothing wrong in any frame."""
    assert tshark(capture).strip(), "tshark shows no frame"
    bad = tshark(capture, "-Y", PROBLEMS)
    assert not bad, f"tshark finds problems in {capture}:\n{bad}\n" + \
        tshark(capture, "-q", "-z", "expert")


def payload_bytes(capture, proto, local_port):
    """Application bytes each way, (sent, received), as tshark counts them
    (TCP segment or UDP payload lengths), local_port being ours."""
    length = "tcp.len" if proto == "tcp" else "udp.length"
    sent = received = 0
    for src, n in fields(capture, proto, f"{proto}.srcport", length):
        n = int(n) - (8 if proto == "udp" else 0)
        if int(src) == local_port:
            sent += n
        else:
            received += n
    return sent, received


def client_port(events):
    return int(next(e for e in events if e.startswith("conn ")).split(" ")[5])


# ---- TCP and TLS ----

def record_tcp(server, run, prog, pki, tmp_path, mode, host="127.0.0.1"):
    """tcp-client to tcp-server --http through a TcpRelay: the relay and
    the client's key log ("" in plaintext)."""
    tls = {"tcp": [], "tls12": ["--tls-max", "1.2"], "tls13": ["--tls-min", "1.3"]}[mode]
    srv_args = ["--http", "--reply", f"reply {MARKER}", "-b", host]
    if mode != "tcp":
        srv_args = ["--tls", *tls, *pki.server_args()] + srv_args
    srv = server("tcp-server", *srv_args)
    relay = TcpRelay(srv.port, host)
    scheme = "http" if mode == "tcp" else "https"
    where = f"[{host}]" if ":" in host else host
    keylog = tmp_path / f"{mode}.keys"
    cmd = [prog("tcp-client"), f"{scheme}://{where}:{relay.port}/{MARKER}"]
    if mode != "tcp":
        cmd += ["--cafile", pki.ca, "--keylog", str(keylog)]
    r = run(cmd, timeout=60)
    r.expect(0)
    assert MARKER in r.out
    relay.finish()
    return relay, keylog.read_text() if mode != "tcp" else ""


@pytest.mark.parametrize("mode", ["tcp", "tls12", "tls13"])
def test_tcp_exchange_reads_clean_and_counts_the_bytes(server, run, prog, pki, tmp_path,
                                                       write_pcapng, mode):
    relay, keys = record_tcp(server, run, prog, pki, tmp_path, mode)
    events = with_keys(relay.events, keys, "held") if keys else relay.events
    cap = write_pcapng(events)
    assert_clean(cap)
    assert payload_bytes(cap, "tcp", client_port(events)) == (relay.sent, relay.received)
    # tcp.flags.str: "··········S·" for a SYN; the end is as the connection had it.
    flags = [f.replace("·", "") for (f,) in fields(cap, "tcp", "tcp.flags.str")]
    assert flags[:3] == ["S", "AS", "A"], flags[:3]
    assert flags[-1] == "AR" or (flags[-1] == "A" and "AF" in flags[-3:]), flags[-3:]


@pytest.mark.parametrize("mode", ["tls12", "tls13"])
@pytest.mark.parametrize("placement", ["held", "first"])
def test_tls_is_decrypted_with_no_other_file(server, run, prog, pki, tmp_path, write_pcapng,
                                             mode, placement):
    relay, keys = record_tcp(server, run, prog, pki, tmp_path, mode)
    cap = write_pcapng(with_keys(relay.events, keys, placement))
    assert_clean(cap)
    assert fields(cap, "http.request", "http.request.uri") == [[f"/{MARKER}"]]
    bodies = fields(cap, "http.response", "http.file_data")
    assert len(bodies) == 1 and f"reply {MARKER}" in bodies[0][0], bodies
    # The version the ServerHello chose, read from the decrypted session.
    chosen = fields(cap, "tls.handshake.type == 2", "tls.handshake.extensions.supported_version")
    assert chosen == [["0x0304" if mode == "tls13" else ""]]
    # What went over the wire stays ciphertext: decrypted only by the secrets.
    assert not fields(cap, f'frame contains "{MARKER}"', "frame.number")


def test_plaintext_marker_is_in_clear(server, run, prog, pki, tmp_path, write_pcapng):
    relay, _ = record_tcp(server, run, prog, pki, tmp_path, "tcp")
    cap = write_pcapng(relay.events)
    assert fields(cap, "http.request", "http.request.uri") == [[f"/{MARKER}"]]
    assert fields(cap, f'frame contains "reply {MARKER}"', "frame.number")


def test_ipv6_connection(server, run, prog, pki, tmp_path, write_pcapng):
    if not ipv6_works():
        pytest.skip("this host cannot bind ::1")
    relay, keys = record_tcp(server, run, prog, pki, tmp_path, "tls13", host="::1")
    cap = write_pcapng(with_keys(relay.events, keys, "held"))
    assert_clean(cap)
    assert fields(cap, "ipv6", "ipv6.src")[0] == ["::1"]
    assert fields(cap, "http.request", "http.request.uri") == [[f"/{MARKER}"]]


def test_a_servers_clients_in_one_file(server, run, prog, pki, tmp_path, write_pcapng):
    """Three clients of one server, their segments interleaved as a
    server's threads write them, each held through its own handshake."""
    relay, keys = record_tcp(server, run, prog, pki, tmp_path, "tls13")
    held = with_keys(relay.events, keys, "held")
    per_client = [as_server(held, i, 50001 + i) for i in range(3)]
    lines = []
    for i in range(max(len(c) for c in per_client)):
        lines += [c[i] for c in per_client if i < len(c)]
    cap = write_pcapng(lines)
    assert_clean(cap)
    uris = fields(cap, "http.request", "tcp.srcport", "http.request.uri")
    assert sorted(uris) == [[str(50001 + i), f"/{MARKER}"] for i in range(3)]


# ---- UDP and DTLS ----

@pytest.mark.parametrize("mode", ["udp", "dtls12"])
def test_datagrams_read_clean_and_dtls_decrypts(server, run, prog, pki, tmp_path, write_pcapng,
                                                mode):
    dtls = mode == "dtls12"
    srv = server("udp-server", *(["--dtls", *pki.server_args()] if dtls else []),
                 "--reply", f"reply {MARKER}")
    relay = UdpRelay(srv.port)
    keylog = tmp_path / "dtls.keys"
    cmd = [prog("udp-client"), *(["--dtls", "--cafile", pki.ca, "--keylog", str(keylog)]
                                 if dtls else []),
           "127.0.0.1", str(relay.port), f"request {MARKER}"]
    r = run(cmd, timeout=60)
    r.expect(0)
    assert MARKER in r.out
    events = relay.finish()
    if dtls:
        events = with_keys(events, keylog.read_text(), "held")
    cap = write_pcapng(events)
    assert_clean(cap)
    assert payload_bytes(cap, "udp", client_port(events)) == (relay.sent, relay.received)
    if dtls:
        texts = _dtls_texts(cap)
        assert f"request {MARKER}" in texts and f"reply {MARKER}" in texts, texts
        assert not fields(cap, f'frame contains "{MARKER}"', "frame.number")
    else:
        assert fields(cap, f'udp contains "request {MARKER}"', "frame.number")
        assert fields(cap, f'udp contains "reply {MARKER}"', "frame.number")


def _dtls_texts(cap):
    """The decrypted application data of a DTLS capture, as text."""
    out = tshark(cap, "-o", "data.show_as_text:TRUE", "-Y", "data", "-T", "fields",
                 "-e", "data.text")
    return [line for line in out.splitlines() if line]


# ---- long transfers and every way of closing ----

def synthesized(seed, conns=6):
    """Connections with random writes either way (some far past the MSS
    and the window), random order, and each closing differently."""
    rnd = random.Random(seed)
    lines, expect = ["time 1700000000.000000000"], {}
    endings = ["peer-fin", "our-fin", "our-rst", "peer-rst", "half-close", "fin-then-rst"]
    for c in range(conns):
        who = "we" if c % 2 == 0 else "peer"
        lines.append(f"conn {c} tcp {who} 127.0.0.1 {40000 + c} 127.0.0.2 443")
        expect[40000 + c] = [0, 0]
    for step in range(200):
        c = rnd.randrange(conns)
        size = rnd.choice([1, 5, 1460, 65483, 65484, 70000, 200000, rnd.randrange(1, 5000)])
        word = rnd.choice(["sent", "recv"])
        lines.append(f"{word} {c} {'ab' * size}")
        expect[40000 + c][0 if word == "sent" else 1] += size
    for c in range(conns):
        ending = endings[c % len(endings)]
        lines += {
            "peer-fin": [f"shutdown {c} recv fin", f"end {c} fin"],
            "our-fin": [f"end {c} fin"],
            "our-rst": [f"end {c} rst"],
            "peer-rst": [f"shutdown {c} recv rst", f"end {c} fin"],
            "half-close": [f"shutdown {c} sent fin", f"recv {c} 6c617374",
                           f"shutdown {c} recv fin", f"end {c} fin"],
            "fin-then-rst": [f"shutdown {c} recv fin", f"end {c} rst"],
        }[ending]
        if ending == "half-close":
            expect[40000 + c][1] += 4
    return lines, expect


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_long_transfers_and_every_closing_read_clean(write_pcapng, seed):
    lines, expect = synthesized(seed)
    cap = write_pcapng(lines)
    assert_clean(cap)
    got = {port: [0, 0] for port in expect}
    for src, dst, n in fields(cap, "tcp", "tcp.srcport", "tcp.dstport", "tcp.len"):
        if int(src) in got:
            got[int(src)][0] += int(n)
        else:
            got[int(dst)][1] += int(n)
    assert got == expect
    # Every connection ends as told: a RST or the last FIN acknowledged.
    ends = fields(cap, "tcp.flags.reset == 1", "tcp.srcport", "tcp.dstport")
    assert len(ends) == 3  # our-rst, peer-rst, fin-then-rst
