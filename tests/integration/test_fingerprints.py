"""Client fingerprints (JA4, JA3) as the programs show them with -v and
--json, checked against what tshark sees on the wire: tshark's own JA3
(tls.handshake.ja3, dtls.handshake.ja3) must be ours, and JA4 worked out
here from tshark's dissection of the same ClientHello (FoxIO's
specification, technical_details/JA4.md) must be ours too. Clients are
tcp-client and udp-client (each prints its own), curl and openssl
s_client; tcp-server and udp-server print what they saw. Also: a
ClientHello that comes in pieces, or stops half-way, or a plaintext
request, costs the server no busy loop and ends as it should.

Capturing on lo needs root or CAP_NET_RAW and CAP_NET_ADMIN: without
them these tests FAIL, they do not skip (as test_capture_compare.py).
"""

import hashlib
import json
import os
import re
import socket
import ssl
import subprocess

import pytest

from harness.waits import wait_until
from peers import tshark

FP_LINE = re.compile(r"JA4 (\S+)  JA3 ([0-9a-f]{32})")
JA4_RE = re.compile(r"^[td](13|12|11|10|d2|d1|d3)[di]\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$")
# The fields tshark dissects a ClientHello into, all occurrences.
HELLO_FIELDS = ["ja3", "ja3_full", "version", "ciphersuite", "extension.type",
                "extensions.supported_version", "extensions_server_name",
                "extensions_alpn_str", "sig_hash_alg"]


def require_capture():
    tshark.require()
    refused = tshark.capture_refused("lo")
    if refused is not None:
        pytest.fail(f"cannot capture on lo (uid {os.geteuid()}): this test needs root or "
                    f"CAP_NET_RAW and CAP_NET_ADMIN; it does not skip. dumpcap: {refused}")


def client_hellos(pcap, proto, port):
    """Each ClientHello in the capture, as tshark dissects it: a dict of
    HELLO_FIELDS (lists of all values) and the client's port."""
    transport = "tcp" if proto == "tls" else "udp"
    cmd = ["tshark", "-n", "-r", str(pcap), "-d", f"{transport}.port=={port},{proto}",
           "-Y", f"{proto}.handshake.type == 1", "-T", "fields",
           "-E", "occurrence=a", "-E", "aggregator=|", "-e", f"{transport}.srcport"]
    for name in HELLO_FIELDS:
        cmd += ["-e", f"{proto}.handshake.{name}"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, LC_ALL="C"))
    assert r.returncode == 0, f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr}"
    hellos = []
    for line in r.stdout.splitlines():
        cols = line.split("\t")
        h = {"port": int(cols[0])}
        for name, col in zip(HELLO_FIELDS, cols[1:]):
            h[name] = col.split("|") if col else []
        hellos.append(h)
    return hellos


def grease(v):
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


def nums(values):
    return [int(v, 0) for v in values]


def hash12(items, empty):
    return "0" * 12 if empty else hashlib.sha256(items.encode()).hexdigest()[:12]


def ja4_from_tshark(h, dtls):
    """JA4 by the specification, from tshark's dissection of a hello."""
    names = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3",
             0xFEFF: "d1", 0xFEFD: "d2", 0xFEFC: "d3"}
    ciphers = [c for c in nums(h["ciphersuite"]) if not grease(c)]
    exts = [e for e in nums(h["extension.type"]) if not grease(e)]
    assert 50 not in exts, "signature_algorithms_cert: tshark's sig_hash_alg would mix two lists"
    versions = [v for v in nums(h["extensions.supported_version"]) if not grease(v)]
    if versions:
        version = min(versions) if dtls else max(versions)  # DTLS counts down
    else:
        version = nums(h["version"])[0]
    alpn = h["extensions_alpn_str"][0] if h["extensions_alpn_str"] else ""
    alpn = alpn[0] + alpn[-1] if alpn else "00"
    assert alpn.isalnum(), f"ALPN {alpn!r}: the test's clients offer alphanumeric names"
    a = (f"{'d' if dtls else 't'}{names.get(version, '00')}"
         f"{'d' if h['extensions_server_name'] else 'i'}"
         f"{min(len(ciphers), 99):02d}{min(len(exts), 99):02d}{alpn}")
    b = hash12(",".join(f"{c:04x}" for c in sorted(ciphers)), not ciphers)
    kept = sorted(e for e in exts if e not in (0x0000, 0x0010))
    sigs = [s for s in nums(h["sig_hash_alg"]) if not grease(s)]
    text = ",".join(f"{e:04x}" for e in kept)
    if sigs:
        text += "_" + ",".join(f"{s:04x}" for s in sigs)
    return f"{a}_{b}_{hash12(text, not kept)}"


def records(proc):
    """The --json session records a server wrote, by the client's port."""
    out = {}
    for line in proc.err().splitlines():
        if line.startswith("{") and '"peer"' in line:
            o = json.loads(line)
            out[int(o["peer"].rsplit(":", 1)[1])] = o
    return out


def capture(start, tmp_path, bpf):
    cap = tshark.LoopbackCapture(start, tmp_path / "hello.pcap", bpf)
    cap.wait_ready()
    return cap


def check_against_tshark(srv, hellos, proto, want):
    """Every hello tshark saw: tshark's JA3 and our JA4 from its dissection
    are what the server logged (-v) and recorded (--json) for that client.
    want: the count of clients."""
    recs = records(srv)
    ports = sorted({h["port"] for h in hellos})
    assert len(ports) == want, f"tshark saw hellos from {ports}, wanted {want} clients"
    for h in hellos:
        rec = recs.get(h["port"])
        assert rec is not None, f"no --json record for client port {h['port']}: {recs}"
        assert h["ja3"] == [rec["ja3_hash"]], f"tshark's JA3 {h['ja3']}, ours {rec['ja3_hash']}"
        assert h["ja3_full"] == [rec["ja3"]], f"tshark {h['ja3_full']}, ours {rec['ja3']}"
        ja4 = ja4_from_tshark(h, dtls=proto == "dtls")
        assert rec["ja4"] == ja4, f"JA4 from tshark's dissection {ja4}, ours {rec['ja4']}"
        assert JA4_RE.match(ja4), ja4
        assert f"JA4 {ja4}  JA3 {rec['ja3_hash']}" in srv.out(), srv.out()
    return recs


def test_tls_clients_match_tshark(server, start, run, prog, pki, tmp_path):
    require_capture()
    srv = server("tcp-server", "--tls", *pki.server_args(), "--http", "-v", "--json")
    cap = capture(start, tmp_path, f"tcp port {srv.port}")
    url = f"https://localhost:{srv.port}/"
    mine = run([prog("tcp-client"), "-v", "--cafile", pki.ca, url], timeout=60)
    mine.expect(0)
    run(["curl", "-sk", "--http1.1", url], timeout=60).expect(0)
    run(["curl", "-sk", f"https://127.0.0.1:{srv.port}/"], timeout=60).expect(0)
    s_client = run(["openssl", "s_client", "-connect", f"127.0.0.1:{srv.port}", "-tls1_2",
                    "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
                    "-alpn", "h2,http/1.1", "-servername", "example.org"], input="",
                   timeout=60)
    assert "Cipher is" in s_client.out, s_client.out
    srv.wait_for_count('"ja4"', 4, timeout=30, where="err")
    cap.finish()
    hellos = client_hellos(cap.pcap, "tls", srv.port)
    recs = check_against_tshark(srv, hellos, "tls", 4)

    # What each client offered, in JA4's first part, clients in the order
    # they came.
    order = list(dict.fromkeys(h["port"] for h in hellos))
    ours, curl_h1, curl_ip, openssl = (recs[p]["ja4"].split("_")[0] for p in order)
    assert ours.startswith("t13d") and ours.endswith("00"), ours  # SNI, no ALPN
    assert curl_h1.startswith("t13d") and curl_h1.endswith("h1"), curl_h1
    assert curl_ip[3] == "i", curl_ip  # no SNI for an address
    assert openssl.startswith("t12d") and openssl.endswith("h2"), openssl
    by_port = {h["port"]: h for h in hellos}
    for port, rec in recs.items():
        offered = [c for c in nums(by_port[port]["ciphersuite"]) if not grease(c)]
        assert rec["ja4"][4:6] == f"{len(offered):02d}", (rec["ja4"], offered)

    # tcp-client -v shows its own, the same as the server saw.
    m = FP_LINE.search(mine.err)
    assert m, mine.err
    assert (m.group(1), m.group(2)) == (recs[order[0]]["ja4"], recs[order[0]]["ja3_hash"])


def test_dtls_client_and_server_match_tshark(server, start, run, prog, pki, tmp_path):
    require_capture()
    srv = server("udp-server", "--dtls", *pki.server_args(), "-v", "--json")
    cap = capture(start, tmp_path, f"udp port {srv.port}")
    r = run([prog("udp-client"), "--dtls", "-v", "--json", "--cafile", pki.ca,
             f"localhost:{srv.port}"], timeout=60)
    r.expect(0)
    srv.wait_for('"ja4"', timeout=30, where="err")
    cap.finish()
    hellos = client_hellos(cap.pcap, "dtls", srv.port)
    # The first hello, and again with the cookie: the same fingerprints.
    assert len(hellos) >= 2, hellos
    recs = check_against_tshark(srv, hellos, "dtls", 1)
    rec = next(iter(recs.values()))
    assert rec["ja4"].startswith("dd2d"), rec["ja4"]
    m = FP_LINE.search(r.err)
    assert m and (m.group(1), m.group(2)) == (rec["ja4"], rec["ja3_hash"]), r.err
    mine = json.loads(next(line for line in r.err.splitlines() if line.startswith("{")))
    assert (mine["ja4"], mine["ja3"]) == (rec["ja4"], rec["ja3"])


def python_client_hello():
    """A ClientHello from Python's ssl, and the objects to go on with it."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return obj, incoming, outgoing, outgoing.read()


def finish_handshake(sock, obj, incoming, outgoing, timeout=30):
    sock.settimeout(timeout)
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            pending = outgoing.read()
            if pending:
                sock.sendall(pending)
            data = sock.recv(65536)
            assert data, "the server closed during the handshake"
            incoming.write(data)
    pending = outgoing.read()
    if pending:
        sock.sendall(pending)


def server_unread(server_port, client_port):
    """The bytes waiting unread in the server's socket of a connection
    (/proc/net/tcp's rx_queue), or None if it is not there."""
    want = (f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}")
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            if (cols[1], cols[2]) == want:
                return int(cols[4].split(":")[1], 16)
    return None


def unread_stays(server_port, client_port, n):
    """The server leaves the first n bytes of a record in its socket: it
    peeks and waits for the rest, and hands no part of the record to the
    handshake (which would read it, and the fingerprint would be lost).
    Once they are there, a window of 0.3 s to see them go: not
    synchronisation, a correct server passes with any window."""
    wait_until(lambda: server_unread(server_port, client_port) == n, 30,
               f"{n} bytes in the server's socket")
    with pytest.raises(AssertionError):
        wait_until(lambda: server_unread(server_port, client_port) != n, 0.3)


def test_hello_in_pieces_is_fingerprinted_whole(server, pki):
    srv = server("tcp-server", "--tls", *pki.server_args(), "-v", "--json")
    # One hello in one piece, then one of the same client in three.
    for n, pieces in enumerate((1, 3), start=1):
        obj, incoming, outgoing, hello = python_client_hello()
        with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            cuts = [0, 3, 40, len(hello)] if pieces == 3 else [0, len(hello)]
            for i in range(len(cuts) - 1):
                s.sendall(hello[cuts[i]:cuts[i + 1]])
                if i == 0:
                    srv.wait_for("Accepted connection", count=n, timeout=30)
                if i == 0 and pieces > 1:
                    unread_stays(srv.port, s.getsockname()[1], cuts[1])
            finish_handshake(s, obj, incoming, outgoing)
            srv.wait_for("protocol: TLSv1.3", count=n, timeout=30)
    srv.wait_for_count('"ja4"', 2, timeout=30, where="err")
    fps = [FP_LINE.search(line).group(1) for line in srv.lines() if FP_LINE.search(line)]
    assert len(fps) == 2 and fps[0] == fps[1], srv.out()
    assert fps[0].startswith("t13d"), fps


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("verbose", [True, False], ids=["fingerprints", "plain"])
@pytest.mark.parametrize("partial", [b"\x16\x03\x01\x02\x00\x01", b"GE"], ids=["hello", "http"])
def test_partial_first_bytes_cost_no_busy_loop(server, pki, verbose, partial):
    """A client that sends the start of a ClientHello (or of a request
    line) and stalls waits for its handshake deadline without the server
    spinning; one that sends the start and closes is dropped at once."""
    srv = server("tcp-server", "--tls", *pki.server_args(), "--handshake-timeout", "1",
                 *(["-v", "--json"] if verbose else []))
    before = cpu_seconds(srv.pid)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(partial)
        srv.wait_for("handshake timed out", timeout=30)
    used = cpu_seconds(srv.pid) - before
    # A busy loop would burn the whole second of the deadline, or more.
    assert used < 0.5, f"the server used {used:.2f} s of CPU on one stalled client"
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(partial)
        s.shutdown(socket.SHUT_WR)
        s.recv(100)  # the server's answer, or its end
    wait_until(lambda: srv.count("[!]") >= 2, 30, "the second client's failure line")
    assert srv.count("handshake timed out") == 1, srv.out()
    assert "JA4" not in srv.out()


def test_plaintext_request_still_answered_400_with_fingerprints(server, pki):
    srv = server("tcp-server", "--tls", *pki.server_args(), "-v", "--json")
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = b""
        while True:
            data = s.recv(4096)
            if not data:
                break
            reply += data
    assert reply.startswith(b"HTTP/1.1 400 "), reply
    srv.wait_for('"status"', where="err")
    rec = next(iter(records(srv).values()))
    assert rec["ja4"] is None and rec["ja3"] is None and rec["ja3_hash"] is None, rec


def test_no_fingerprint_fields_filled_for_plaintext_or_without_asking(server, run, prog):
    srv = server("tcp-server", "--json")
    r = run([prog("tcp-client"), "--json", "--send", "x", f"127.0.0.1:{srv.port}"], timeout=60)
    r.expect(0)
    srv.wait_for('"status"', where="err")
    for rec in [json.loads(r.err.splitlines()[-1]), next(iter(records(srv).values()))]:
        assert rec["ja4"] is None and rec["ja3"] is None and rec["ja3_hash"] is None, rec


def test_a_refused_client_is_fingerprinted_still(server, pki):
    """The fingerprint comes from the ClientHello before the handshake: a
    client the server then refuses (TLS 1.2 at most, to a TLS 1.3 server)
    is in the log and the --json record all the same."""
    srv = server("tcp-server", "--tls", *pki.server_args(), "--tls-min", "1.3", "-v", "--json")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(s, server_hostname="localhost")
    srv.wait_for('"status"', where="err")
    rec = next(iter(records(srv).values()))
    assert rec["status"] != "ok" and rec["ja4"].startswith("t12d"), rec
    assert f"JA4 {rec['ja4']}  JA3 {rec['ja3_hash']}" in srv.out()
