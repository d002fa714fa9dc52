"""tshark for the capture report (scripts/capture_analysis.py): runs it
(cached, several at once), and reads what it prints: the data sources of
`tshark -x` and the fields of `tshark -T pdml`.
"""

import concurrent.futures
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET

_cache = {}


def run(args):
    """tshark -n ARGS; its stdout. Exits the analysis when tshark fails."""
    key = tuple(args)
    if key in _cache:
        return _cache[key]
    cmd = ["tshark", "-n", *args]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       errors="replace", timeout=180)
    if p.returncode != 0:
        sys.exit(f"capture-compare.sh: {shlex.join(cmd)} failed ({p.returncode}): "
                 f"{p.stderr.strip()}")
    _cache[key] = p.stdout
    return p.stdout


def prefetch(runs):
    """Runs these tshark invocations in parallel (most of their time is
    start-up), so that run() then finds their output."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        for f in [pool.submit(run, r) for r in runs]:
            f.result()


def version():
    return re.sub(r"^TShark \(Wireshark\) (\S+).*", r"\1", run(["--version"]).splitlines()[0])


HEX_LINE = re.compile(r"^[0-9a-f]{4,}  ")
SOURCE_LINE = re.compile(r"^(.+) \((\d+) bytes\):$")


def data_sources(path, opts):
    """tshark -x: every data source of every frame (the frame's own bytes,
    reassembled and decrypted data), as (frame number, source name, bytes)."""
    text = run(["-r", path, *opts, "-x"])
    result = []
    frame = 0
    name = None
    buf = bytearray()

    def flush():
        if name is not None:
            result.append((frame, name, bytes(buf)))

    for line in text.splitlines():
        if HEX_LINE.match(line):
            if name is None:  # a frame with a single source has no header
                name, frame = "Frame", frame + 1
            hexpart = line[6:6 + 47]
            buf.extend(bytes.fromhex(hexpart.replace(" ", "")))
            continue
        m = SOURCE_LINE.match(line)
        if m:
            flush()
            if m.group(1) == "Frame":
                frame += 1
            name, buf = m.group(1), bytearray()
            continue
        if not line.strip():
            flush()
            name, buf = None, bytearray()
    flush()
    return result


_parsed = {}


def packets(path, opts):
    """tshark -T pdml: one element per frame, in capture order (parsed once;
    read only)."""
    key = (path, tuple(opts))
    if key not in _parsed:
        _parsed[key] = ET.fromstring(run(["-r", path, *opts, "-T", "pdml"])).findall("packet")
    return _parsed[key]


def fields_of(elem):
    """All field elements below elem (depth first)."""
    for child in elem:
        if child.tag == "field":
            yield child
            yield from fields_of(child)
        elif child.tag == "proto":
            yield from fields_of(child)


def first(elem, name):
    for f in fields_of(elem):
        if f.get("name") == name:
            return f
    return None


def all_named(elem, name):
    return [f for f in fields_of(elem) if f.get("name") == name]


def show(elem, name, default=None):
    """The show attribute of the first field called name below elem."""
    f = first(elem, name)
    return f.get("show") if f is not None else default


def paren(showname):
    """'Cipher Suite: TLS_X (0x1301)' -> 'TLS_X'; 'Version: TLS 1.2 (0x0303)' -> 'TLS 1.2'."""
    s = showname.split(": ", 1)[-1]
    return re.sub(r"\s*\(0x[0-9a-fA-F]+\)$", "", s)


RDN_NAMES = {"id-at-commonName": "CN", "id-at-organizationName": "O",
             "id-at-organizationalUnitName": "OU", "id-at-countryName": "C",
             "id-at-localityName": "L", "id-at-stateOrProvinceName": "ST"}


def dn(elem):
    """The distinguished name under an x509af.subject/issuer element."""
    seq = next((f for f in fields_of(elem) if f.get("name", "").endswith(".rdnSequence")), None)
    if seq is None:
        return None
    m = re.search(r"\((.*)\)$", seq.get("showname", ""))
    if not m:
        return None
    parts = []
    for rdn in m.group(1).split(","):
        k, _, v = rdn.partition("=")
        parts.append(f"{RDN_NAMES.get(k, k)}={v}")
    return ",".join(parts)
