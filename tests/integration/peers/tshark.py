"""tshark, dumpcap and editcap (Debian's package tshark): capturing what
crosses the loopback interface, and reading a capture back. Neither client
nor server, so plain helpers rather than a Peer.

Capturing needs root or CAP_NET_RAW and CAP_NET_ADMIN (capture_refused
says why it is not possible). tshark's "Capturing on" comes before packets
really flow (under load, hundreds of milliseconds of them can be lost
after it), so a LoopbackCapture also captures a probe's datagrams on a
port of its own, and shows every captured packet live: it is ready once
the probe's first datagram is seen, and it has everything once a datagram
sent after the exchange is seen; the probe's frames are then left out.

    cap = LoopbackCapture(start, tmp_path / "x.pcap", f"udp port {port}")
    cap.wait_ready()
    ...                                  # the exchange
    frames = cap.finish()                # the frames' bytes, in order
"""

import os
import socket
import struct
import subprocess

from harness.system import need
from harness.waits import free_port, wait_until

PROGRAMS = ("tshark", "editcap", "dumpcap")
PACKAGE = "tshark"


def require():
    """Skips the calling test when tshark, editcap or dumpcap is missing."""
    need(*PROGRAMS)


def capture_refused(interface="lo"):
    """None when this process may capture on interface; else dumpcap's
    reason (dumpcap -L opens the interface, as a capture would)."""
    r = subprocess.run(["dumpcap", "-L", "-i", interface], capture_output=True, text=True,
                       timeout=60)
    if r.returncode == 0:
        return None
    return (r.stderr.strip() or r.stdout.strip() or f"dumpcap exit status {r.returncode}")


def capture_cmd(pcap, bpf_filter, *, probe_port, interface="lo"):
    """tshark capturing interface into pcap (pcap format) what bpf_filter
    and the probe's UDP port let through, printing each captured packet's
    UDP source port, destination port and payload (hex) at once."""
    return ["tshark", "-n", "-l", "-i", interface,
            "-f", f"({bpf_filter}) or (udp port {probe_port})", "-F", "pcap", "-w", str(pcap),
            "-P", "-T", "fields", "-e", "udp.srcport", "-e", "udp.dstport", "-e", "udp.payload"]


class LoopbackCapture:
    """tshark on lo around an exchange (see the module's docstring). start
    is the test's start fixture, so tshark is supervised like any process."""

    def __init__(self, start, pcap, bpf_filter, interface="lo"):
        self.pcap = str(pcap)
        self.probe_port = free_port()
        self.proc = start(capture_cmd(self.pcap, bpf_filter, probe_port=self.probe_port,
                                      interface=interface))

    def _probe_until_seen(self, tag, timeout):
        prefix = f"secsock-probe-{tag}-".encode()
        sent = [0]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", self.probe_port))

            def seen():
                sent[0] += 1   # another datagram each look: one may go uncaptured
                s.sendto(prefix + str(sent[0]).encode(), ("127.0.0.1", self.probe_port))
                return any(_is_probe(line, self.probe_port, prefix) for line in self.proc.lines())

            wait_until(seen, timeout,
                       lambda: f"tshark to capture the probe's '{tag}' datagrams; its stderr: "
                               f"{self.proc.err()}",
                       gone=lambda: not self.proc.alive(), interval=0.05)

    def wait_ready(self, timeout=20):
        """Waits until tshark captures for real (a probe datagram seen)."""
        self.proc.wait_for("Capturing on", timeout=timeout, where="err")
        self._probe_until_seen("start", timeout)

    def finish(self, timeout=20):
        """Waits until a datagram sent now is captured (so is everything
        before it), stops tshark, and returns the frames without the
        probe's, as bytes."""
        self._probe_until_seen("end", timeout)
        self.proc.stop()
        return [f for f in read_frames(self.pcap) if not _udp_port_in(f, self.probe_port)]


def _is_probe(line, port, prefix):
    cols = line.split("\t")
    if len(cols) < 3 or cols[0] != str(port) or cols[1] != str(port):
        return False
    try:
        return bytes.fromhex(cols[2].replace(":", "")).startswith(prefix)
    except ValueError:
        return False


def _udp_port_in(frame, port):
    """frame (Ethernet, as lo gives them; IPv4) is UDP to or from port."""
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00" or frame[14 + 9] != 17:
        return False
    ihl = (frame[14] & 0x0F) * 4
    src, dst = struct.unpack("!HH", frame[14 + ihl:14 + ihl + 4])
    return port in (src, dst)


def read_frames(pcap):
    """The frames of a pcap file (not pcapng: tshark -F pcap writes these),
    each as the bytes captured, link-layer header included."""
    with open(pcap, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise AssertionError(f"{pcap}: not a pcap file ({len(data)} bytes)")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise AssertionError(f"{pcap}: not a pcap file (magic {magic.hex()})")
    frames = []
    pos = 24
    while pos + 16 <= len(data):
        incl_len = struct.unpack(endian + "I", data[pos + 8:pos + 12])[0]
        frames.append(data[pos + 16:pos + 16 + incl_len])
        pos += 16 + incl_len
    return frames


def fields(capture, *names, display_filter=None, decode_as=(), keylog=None):
    """tshark's dissection of a capture file (pcap or pcapng): one list of
    the named fields' values per frame shown (display_filter), "" where a
    frame lacks one. decode_as: "-d" specs such as "tcp.port==4433,tls";
    keylog: an NSS key log to decrypt TLS and DTLS with."""
    cmd = ["tshark", "-n", "-r", str(capture)]
    for spec in decode_as:
        cmd += ["-d", spec]
    if keylog is not None:
        cmd += ["-o", f"tls.keylog_file:{keylog}"]
    if display_filter is not None:
        cmd += ["-Y", display_filter]
    cmd += ["-T", "fields", "-E", "occurrence=f"]
    for n in names:
        cmd += ["-e", n]
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=120,
                       env=dict(os.environ, LC_ALL="C"))
    assert r.returncode == 0, f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr}"
    return [line.split("\t") for line in r.stdout.split("\n") if line]
