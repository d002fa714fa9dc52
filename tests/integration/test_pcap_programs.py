"""--pcap FILE in the four programs: what a user gets without root or a
capture tool. For tcp-client and tcp-server in plaintext, TLS 1.2 and
TLS 1.3, udp-client and udp-server in plaintext and DTLS 1.2, the
program's own capture must, read by `tshark -r FILE` with no other file:
 - show no malformed packet and no TCP analysis problem;
 - show the marker: in clear for plaintext, decrypted (and only then:
   never in a frame's raw bytes) for TLS and DTLS, with the secrets
   inside the file;
 - count the same application bytes each way as the program's --json.
Plus the file's mode (it holds secrets) and the errors a user can make."""

import json
import os
import stat

import pytest

from test_pcapng import MARKER, assert_clean, fields, tshark

MODES = {
    "tcp": ("tcp", []),
    "tls12": ("tcp", ["--tls", "--tls-max", "1.2"]),
    "tls13": ("tcp", ["--tls", "--tls-min", "1.3"]),
    "udp": ("udp", []),
    "dtls12": ("udp", ["--dtls"]),
}


def sessions(text):
    """The --json session records in a program's stderr."""
    return [json.loads(line) for line in text.splitlines()
            if line.startswith('{"program"')]


def exchange(server, run, prog, pki, tmp_path, mode):
    """One exchange of mode, client and server each writing --pcap; the
    server stopped (its capture closed). Returns {side: (capture, json)}."""
    proto, sec = MODES[mode]
    cli_pcap, srv_pcap = tmp_path / f"client-{mode}.pcapng", tmp_path / f"server-{mode}.pcapng"
    srv_args = [*sec, "-b", "127.0.0.1", "--json", "--pcap", srv_pcap]
    if sec:
        srv_args += pki.server_args()
    if proto == "tcp":
        srv = server("tcp-server", *srv_args, "--http", "--reply", f"reply {MARKER}")
        scheme = "https" if sec else "http"
        target = [f"{scheme}://127.0.0.1:{srv.port}/{MARKER}"]
    else:
        srv = server("udp-server", *srv_args, "--reply", f"reply {MARKER}")
        target = ["127.0.0.1", str(srv.port), f"request {MARKER}"]
    cmd = [prog(f"{proto}-client"), "--json", "--pcap", str(cli_pcap)]
    if sec:
        cmd += [sec[0], "--cafile", pki.ca]
    r = run(cmd + target, timeout=60)
    r.expect(0)
    assert f"reply {MARKER}" in r.out
    srv.wait_for('"program"', where="err")
    srv.stop_checked()
    (cli_json,) = sessions(r.err)
    (srv_json,) = sessions(srv.err())
    return {"client": (str(cli_pcap), cli_json), "server": (str(srv_pcap), srv_json)}


def follow(capture, what, client_port):
    """Application bytes each way as tshark reassembles them ("tcp",
    "tls", "udp"): (from the client, from the server)."""
    out = tshark(capture, "-q", "-z", f"follow,{what},raw,0")
    lines = out.split("\n")
    node0 = next(line for line in lines if line.startswith("Node 0:"))
    start = next(i for i, line in enumerate(lines) if line.startswith("Node 1:")) + 1
    first, second = b"", b""  # Node 0's lines come flush left, Node 1's indented
    for line in lines[start:]:
        if line.startswith("====="):
            break
        if line.startswith("\t"):
            second += bytes.fromhex(line.strip())
        elif line:
            first += bytes.fromhex(line)
    client_first = int(node0.rsplit(":", 1)[1]) == client_port
    return (first, second) if client_first else (second, first)


def dtls_data(capture, client_port):
    """DTLS: the decrypted application data each way, as above."""
    opener, other = b"", b""
    for src, data in fields(capture, "data", "udp.srcport", "data.data"):
        if int(src) == client_port:
            opener += bytes.fromhex(data)
        else:
            other += bytes.fromhex(data)
    return opener, other


def application_bytes(capture, mode, client_port):
    what = {"tcp": "tcp", "tls12": "tls", "tls13": "tls", "udp": "udp"}.get(mode)
    return follow(capture, what, client_port) if what else dtls_data(capture, client_port)


@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.parametrize("mode", list(MODES))
def test_capture_reads_clean_decrypted_and_counts_as_json(server, run, prog, pki, tmp_path,
                                                          mode, side):
    cap, js = exchange(server, run, prog, pki, tmp_path, mode)[side]
    assert stat.S_IMODE(os.stat(cap).st_mode) == 0o600, "a capture holds secrets: mode 0600"
    assert_clean(cap)
    proto = MODES[mode][0]
    ports = {int(p) for (p,) in fields(cap, proto, f"{proto}.srcport")}
    assert len(ports) == 2, f"one conversation expected, ports {ports}"
    # The client's port: the first frame's source (its SYN or first datagram).
    client_port = int(fields(cap, proto, f"{proto}.srcport")[0][0])
    from_client, from_server = application_bytes(cap, mode, client_port)
    mine, theirs = (from_client, from_server) if side == "client" else (from_server, from_client)
    assert (len(mine), len(theirs)) == (js["bytes_sent"], js["bytes_received"])
    assert MARKER.encode() in from_client and f"reply {MARKER}".encode() in from_server
    in_clear = fields(cap, f'frame contains "{MARKER}"', "frame.number")
    if mode in ("tcp", "udp"):
        assert in_clear
    else:
        assert not in_clear, "the marker is in a frame's raw bytes: not encrypted"
    if proto == "tcp":
        flags = [f.replace("·", "") for (f,) in fields(cap, "tcp", "tcp.flags.str")]
        assert flags[:3] == ["S", "AS", "A"], flags[:3]
        assert "F" in flags[-1] or flags[-1] in ("A", "AR"), flags[-3:]


def test_tls_capture_names_the_decrypted_request(server, run, prog, pki, tmp_path):
    """What Wireshark shows a student: the HTTP request inside TLS 1.3."""
    cap, _ = exchange(server, run, prog, pki, tmp_path, "tls13")["client"]
    assert fields(cap, "http.request", "http.request.uri") == [[f"/{MARKER}"]]
    # Every TLS 1.3 handshake message after the ServerHello is encrypted
    # on the wire; decrypted, tshark names them.
    types = {t for (t,) in fields(cap, "tls.handshake.type", "tls.handshake.type")
             for t in t.split(",")}
    assert {"8", "11", "15", "20"} <= types, types  # EncryptedExtensions ... Finished


def test_a_servers_clients_share_one_file(server, run, prog, pki, tmp_path):
    cap = tmp_path / "server.pcapng"
    srv = server("tcp-server", "--tls", *pki.server_args(), "-b", "127.0.0.1", "--http",
                 "--reply", "hi", "--pcap", cap)
    for i in range(3):
        run([prog("tcp-client"), "--cafile", pki.ca,
             f"https://127.0.0.1:{srv.port}/{MARKER}-{i}"], timeout=60).expect(0)
    srv.stop_checked()
    assert_clean(str(cap))
    uris = sorted(u for (u,) in fields(str(cap), "http.request", "http.request.uri"))
    assert uris == [f"/{MARKER}-{i}" for i in range(3)]


@pytest.mark.parametrize("program", ["tcp-client", "tcp-server", "udp-client", "udp-server"])
def test_an_uncreatable_capture_is_a_usage_error(run, prog, tmp_path, program):
    where = tmp_path / "no-such-dir" / "x.pcapng"
    args = ["127.0.0.1", "9"] if program.endswith("client") else ["-p", "0"]
    r = run([prog(program), "--pcap", str(where), *args], timeout=30)
    r.expect(2)
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and str(where) in lines[0], r.err
    assert not where.parent.exists()


def test_pcap_to_stdout_is_refused(run, prog):
    r = run([prog("tcp-client"), "--pcap", "-", "http://127.0.0.1:9/"], timeout=30)
    r.expect(2)
    assert "--pcap" in r.err
