"""The analysis of scripts/capture-compare.sh: tshark dissects each capture
(with and without the key log, and the pcapng with embedded secrets); this
gathers the facts into report.json and report.md in OUT_DIR.

    python3 scripts/capture_analysis.py OUT_DIR MARKER CERT_NAME \\
        TCP_PORT TLS12_PORT TLS13_PORT UDP_PORT DTLS12_PORT

Exits 0 when every check holds, 3 when one fails (the report is written
either way), anything else when the analysis itself failed.
"""

import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET

out, marker, cert_name = sys.argv[1], sys.argv[2], sys.argv[3]
ports = dict(zip(["tcp", "tls12", "tls13", "udp", "dtls12"], map(int, sys.argv[4:9])))

MODES = [
    # mode, title, transport, encrypted, plaintext counterpart
    ("tcp", "TCP, plaintext", "tcp", False, None),
    ("tls12", "TLS 1.2", "tcp", True, "tcp"),
    ("tls13", "TLS 1.3", "tcp", True, "tcp"),
    ("udp", "UDP, plaintext", "udp", False, None),
    ("dtls12", "DTLS 1.2", "udp", True, "udp"),
]


def decode_as(mode, transport):
    """-d so tshark dissects the random port as the right protocol."""
    proto = {"tcp": "http", "tls12": "tls", "tls13": "tls", "udp": "data", "dtls12": "dtls"}[mode]
    if proto == "data":
        return []
    return ["-d", f"{transport}.port=={ports[mode]},{proto}"]


_tshark_cache = {}


def tshark(args):
    key = tuple(args)
    if key in _tshark_cache:
        return _tshark_cache[key]
    cmd = ["tshark", "-n", *args]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       errors="replace", timeout=120)
    if p.returncode != 0:
        sys.exit(f"capture-compare.sh: {shlex.join(cmd)} failed ({p.returncode}): "
                 f"{p.stderr.strip()}")
    _tshark_cache[key] = p.stdout
    return p.stdout


def prefetch(runs):
    """Runs these tshark invocations in parallel (most of their time is
    start-up), so that tshark() then finds their output."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        for f in [pool.submit(tshark, r) for r in runs]:
            f.result()


HEX_LINE = re.compile(r"^[0-9a-f]{4,}  ")
SOURCE_LINE = re.compile(r"^(.+) \((\d+) bytes\):$")


def data_sources(path, opts):
    """tshark -x: every data source of every frame (the frame's own bytes,
    reassembled and decrypted data), as (frame number, source name, bytes)."""
    text = tshark(["-r", path, *opts, "-x"])
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


def printable(b):
    return "".join(chr(c) if 32 <= c < 127 else "." for c in b)


def marker_facts(path, opts):
    """Searches the raw bytes of every data source for the marker, and for
    the certificate's name (its subject CN, which is not the SNI)."""
    srcs = data_sources(path, opts)
    m = marker.encode()
    hits = [(f, n, b) for f, n, b in srcs if m in b]
    context = None
    if hits:
        # The line that holds the marker (as much of it as fits 80 bytes).
        b = hits[0][2]
        i = b.index(m)
        start = max(b.rfind(b"\n", 0, i) + 1, i - 40)
        end = b.find(b"\r", i)
        end = len(b) if end < 0 else end
        nl = b.find(b"\n", i)
        end = min(end, nl if nl >= 0 else len(b), start + 80)
        context = printable(b[start:end])
    return {
        "marker_visible": bool(hits),
        "frames_with_marker": sorted({f for f, _, _ in hits}),
        "sources_with_marker": sorted({n for _, n, _ in hits}),
        "marker_context": context,
        "certificate_name_bytes_visible": any(cert_name.encode() in b for _, _, b in srcs),
    }


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


HS_TYPES = {1: "ClientHello", 2: "ServerHello", 3: "HelloVerifyRequest", 4: "NewSessionTicket",
            8: "EncryptedExtensions", 11: "Certificate", 12: "ServerKeyExchange",
            13: "CertificateRequest", 14: "ServerHelloDone", 15: "CertificateVerify",
            16: "ClientKeyExchange", 20: "Finished"}


def dissect(path, opts, proto):
    """tshark -T pdml: frames, bytes, HTTP and handshake facts."""
    root = ET.fromstring(tshark(["-r", path, *opts, "-T", "pdml"]))
    packets = root.findall("packet")
    frame_lens = []
    payload = 0
    http_req = None
    http_resp_body = None
    hs = []  # (frame, handshake element)
    for i, pkt in enumerate(packets, 1):
        fl = first(pkt, "frame.len")
        frame_lens.append(int(fl.get("show")) if fl is not None else 0)
        tl = first(pkt, "tcp.len")
        if tl is not None:
            payload += int(tl.get("show"))
        ul = first(pkt, "udp.length")
        if ul is not None:
            payload += int(ul.get("show")) - 8
        if http_req is None and first(pkt, "http.request") is not None:
            def show(name):
                f = first(pkt, name)
                return f.get("show") if f is not None else None
            http_req = {
                "request_line": " ".join(x for x in (show("http.request.method"),
                                                     show("http.request.uri"),
                                                     show("http.request.version")) if x),
                "host": show("http.host"),
                "user_agent": show("http.user_agent"),
            }
        fd = first(pkt, "http.file_data")
        if fd is not None and http_resp_body is None and first(pkt, "http.response") is not None:
            http_resp_body = fd.get("show")
        for f in fields_of(pkt):
            if (f.get("name") == f"{proto}.handshake"
                    and first(f, f"{proto}.handshake.type") is not None):
                hs.append((i, f))
    facts = {
        "frames": len(packets),
        "bytes": sum(frame_lens),
        "payload_bytes": payload,
        "http_request_visible": http_req is not None,
        "http_request": http_req,
        "http_response_body": http_resp_body,
    }
    if proto is None:
        return facts, None
    h = {
        "messages_seen": [],
        "sni": None,
        "alpn_offered": [],
        "alpn_selected": None,
        "client_hello_version": None,
        "supported_versions_offered": [],
        "negotiated_version": None,
        "cipher_suites_offered": 0,
        "cipher_chosen": None,
        "certificate_visible": False,
        "certificate_subject": None,
        "certificate_issuer": None,
        "certificate_san": [],
        "hello_verify_requests": 0,
        "cookie_exchange": False,
    }
    for frame, e in hs:
        t = int(first(e, f"{proto}.handshake.type").get("show"))
        name = HS_TYPES.get(t, f"type {t}")
        h["messages_seen"].append(f"{name} (frame {frame})")
        if t == 1:
            sni = first(e, f"{proto}.handshake.extensions_server_name")
            if sni is not None and h["sni"] is None:
                h["sni"] = sni.get("show")
            if not h["alpn_offered"]:
                h["alpn_offered"] = [a.get("show") for a in
                                     all_named(e, f"{proto}.handshake.extensions_alpn_str")]
            v = first(e, f"{proto}.handshake.version")
            if v is not None:
                h["client_hello_version"] = paren(v.get("showname"))
            if not h["supported_versions_offered"]:
                h["supported_versions_offered"] = [
                    paren(a.get("showname")) for a in
                    all_named(e, f"{proto}.handshake.extensions.supported_version")]
            cs = all_named(e, f"{proto}.handshake.ciphersuite")
            h["cipher_suites_offered"] = max(h["cipher_suites_offered"], len(cs))
            cookie = first(e, f"{proto}.handshake.cookie_length")
            if cookie is not None and int(cookie.get("show")) > 0:
                h["client_hello_with_cookie"] = True
        elif t == 2:
            c = first(e, f"{proto}.handshake.ciphersuite")
            if c is not None:
                h["cipher_chosen"] = paren(c.get("showname"))
            sv = first(e, f"{proto}.handshake.extensions.supported_version")
            v = first(e, f"{proto}.handshake.version")
            if sv is not None:
                h["negotiated_version"] = paren(sv.get("showname"))
            elif v is not None:
                h["negotiated_version"] = paren(v.get("showname"))
            a = first(e, f"{proto}.handshake.extensions_alpn_str")
            if a is not None:
                h["alpn_selected"] = a.get("show")
        elif t == 3:
            h["hello_verify_requests"] += 1
        elif t == 8:
            a = first(e, f"{proto}.handshake.extensions_alpn_str")
            if a is not None:
                h["alpn_selected"] = a.get("show")
        elif t == 11:
            subj = first(e, "x509af.subject")
            if subj is not None and not h["certificate_visible"]:
                h["certificate_visible"] = True
                h["certificate_subject"] = dn(subj)
                iss = first(e, "x509af.issuer")
                h["certificate_issuer"] = dn(iss) if iss is not None else None
                h["certificate_san"] = [f.get("show") for f in all_named(e, "x509ce.dNSName")] + \
                    [f.get("show") for f in all_named(e, "x509ce.iPAddress")]
    h["cookie_exchange"] = (h["hello_verify_requests"] > 0
                            and h.pop("client_hello_with_cookie", False))
    h.pop("client_hello_with_cookie", None)
    return facts, h


def q(s):
    return shlex.quote(s)


def files_and_options():
    """Every (file, options) the report dissects."""
    for mode, title, transport, encrypted, plain in MODES:
        da = decode_as(mode, transport)
        yield os.path.join(out, f"{mode}.pcap"), da
        if encrypted:
            keylog = os.path.join(out, mode + ".keylog")
            yield os.path.join(out, f"{mode}.pcap"), da + ["-o", f"tls.keylog_file:{keylog}"]
            secrets = os.path.join(out, f"{mode}-secrets.pcapng")
            if os.path.isfile(secrets):
                yield secrets, da


prefetch([["--version"]] + [["-r", f, *o, "-x"] for f, o in files_and_options()]
         + [["-r", f, *o, "-T", "pdml"] for f, o in files_and_options()])

report = {
    "generated_by": "scripts/capture-compare.sh",
    "tshark_version": re.sub(r"^TShark \(Wireshark\) (\S+).*", r"\1",
                             tshark(["--version"]).splitlines()[0]),
    "certificate_name": cert_name,
    "marker": marker,
    "out_dir": out,
    "captures": {},
    "checks": [],
}

for mode, title, transport, encrypted, plain in MODES:
    pcap = os.path.join(out, f"{mode}.pcap")
    proto = None if not encrypted else ("dtls" if transport == "udp" else "tls")
    da = decode_as(mode, transport)
    c = {
        "mode": mode,
        "title": title,
        "transport": transport,
        "encrypted": encrypted,
        "port": ports[mode],
        "pcap": pcap,
    }
    c.update(marker_facts(pcap, da))
    facts, hs = dissect(pcap, da, proto)
    c.update(facts)
    c["handshake_in_clear"] = hs
    c["plaintext_counterpart"] = plain
    c["commands"] = {
        "tshark": (f"tshark -r {q(pcap)} {shlex.join(da)} "
                   f"-Y {q('frame contains ' + json.dumps(marker))}").replace("  ", " "),
        "wireshark": f"wireshark {shlex.join(da)} {q(pcap)}".replace("  ", " "),
    }
    if encrypted:
        keylog = os.path.join(out, f"{mode}.keylog")
        secrets = os.path.join(out, f"{mode}-secrets.pcapng")
        ko = ["-o", f"tls.keylog_file:{keylog}"]
        d = {"keylog": keylog}
        d.update(marker_facts(pcap, da + ko))
        dfacts, dhs = dissect(pcap, da + ko, proto)
        d["http_request_visible"] = dfacts["http_request_visible"]
        d["http_request"] = dfacts["http_request"]
        d["http_response_body"] = dfacts["http_response_body"]
        d["certificate_subject"] = dhs["certificate_subject"] if dhs else None
        d["alpn_selected"] = dhs["alpn_selected"] if dhs else None
        d["messages_seen"] = dhs["messages_seen"] if dhs else []
        c["decrypted_with_keylog"] = d
        e = {"pcapng": secrets, "exists": os.path.isfile(secrets)}
        if e["exists"]:
            e.update(marker_facts(secrets, da))
            efacts, ehs = dissect(secrets, da, proto)
            e["http_request_visible"] = efacts["http_request_visible"]
            e["certificate_subject"] = ehs["certificate_subject"] if ehs else None
        else:
            e["marker_visible"] = False
        c["embedded_secrets"] = e
        if transport == "tcp":
            show = ["-Y", "http", "-T", "fields", "-e", "http.request.line", "-e", "http.file_data"]
        else:
            show = ["-x", "-Y", "dtls.app_data"]
        c["commands"].update({
            "tshark_with_keylog": shlex.join(["tshark", "-r", pcap, *da, *ko, *show]),
            "tshark_with_embedded_secrets": shlex.join(["tshark", "-r", secrets, *da, *show]),
            "wireshark_with_keylog": shlex.join(["wireshark", *da, *ko, pcap]),
            "wireshark_with_embedded_secrets": shlex.join(["wireshark", *da, secrets]),
        })
    report["captures"][mode] = c

caps = report["captures"]
for mode, title, transport, encrypted, plain in MODES:
    c = caps[mode]
    if plain:
        p = caps[plain]
        c["overhead"] = {
            "vs": plain,
            "extra_frames": c["frames"] - p["frames"],
            "extra_bytes": c["bytes"] - p["bytes"],
            "bytes_ratio": round(c["bytes"] / p["bytes"], 2) if p["bytes"] else None,
        }
    else:
        c["overhead"] = None


def check(what, ok):
    report["checks"].append({"check": what, "ok": bool(ok)})


for mode in ("tcp", "udp"):
    check(f"{mode}: the marker is visible in the plaintext capture", caps[mode]["marker_visible"])
check("tcp: the HTTP request line, Host and User-Agent are visible",
      caps["tcp"]["http_request_visible"]
      and marker in (caps["tcp"]["http_request"] or {}).get("user_agent", ""))
for mode in ("tls12", "tls13", "dtls12"):
    c = caps[mode]
    check(f"{mode}: the marker is not visible in the capture", not c["marker_visible"])
    check(f"{mode}: no HTTP request visible without the key log", not c["http_request_visible"])
    check(f"{mode}: the marker is visible again with the key log",
          c["decrypted_with_keylog"]["marker_visible"])
    check(f"{mode}: the marker is visible in the pcapng with embedded secrets",
          c["embedded_secrets"]["marker_visible"])
    check(f"{mode}: the SNI travels in clear",
          (c["handshake_in_clear"] or {}).get("sni") == "localhost")
check("tls12: the certificate subject travels in clear",
      caps["tls12"]["handshake_in_clear"]["certificate_visible"])
check("dtls12: the certificate subject travels in clear",
      caps["dtls12"]["handshake_in_clear"]["certificate_visible"])
check("tls13: the certificate subject does not travel in clear",
      not caps["tls13"]["handshake_in_clear"]["certificate_visible"]
      and not caps["tls13"]["certificate_name_bytes_visible"])
check("tls13: the certificate subject is visible with the key log",
      caps["tls13"]["decrypted_with_keylog"]["certificate_subject"] is not None)
check("dtls12: a cookie exchange (HelloVerifyRequest) took place",
      caps["dtls12"]["handshake_in_clear"]["cookie_exchange"])
check("tls12, tls13: the negotiated versions are TLS 1.2 and TLS 1.3",
      caps["tls12"]["handshake_in_clear"]["negotiated_version"] == "TLS 1.2"
      and caps["tls13"]["handshake_in_clear"]["negotiated_version"] == "TLS 1.3")

with open(os.path.join(out, "report.json"), "w") as f:
    json.dump(report, f, indent=2)
    f.write("\n")


# ---- report.md: the same facts, for people
def yn(b):
    return "**yes**" if b else "no"


def v(x):
    if x is None or x == [] or x == "":
        return "—"
    if isinstance(x, list):
        return ", ".join(str(i) for i in x)
    return str(x)


order = [m[0] for m in MODES]
L = []
L.append("# What the wire shows")
L.append("")
L.append(f"The same exchange once per mode on 127.0.0.1, each captured by tshark into "
         f"`{out}/MODE.pcap`. "
         f"Marker `{marker}`: in the User-Agent and the reply body (TCP, an HTTP GET), in the "
         f"datagram and the reply (UDP). Server certificate: CN={cert_name}, SNI localhost. Every "
         f"fact below comes from tshark {report['tshark_version']}'s dissection of the captures, "
         f"not from the programs' logs; \"visible\" means found in the raw bytes (every frame, "
         f"reassembled and decrypted data source of `tshark -x`).")
L.append("")
L.append("## An observer without the keys")
L.append("")
L.append("| | " + " | ".join(caps[m]["title"] for m in order) + " |")
L.append("|---" * (len(order) + 1) + "|")


def row(label, fn):
    L.append(f"| {label} | " + " | ".join(fn(caps[m]) for m in order) + " |")


def hsget(key):
    return lambda c: (v((c["handshake_in_clear"] or {}).get(key)) if c["encrypted"]
                      else "(no handshake)")


def http_get(key):
    return lambda c: v((c["http_request"] or {}).get(key)) if c["transport"] == "tcp" else "n/a"


def messages_in_clear(c):
    if not c["encrypted"]:
        return "(no handshake)"
    return v(list(dict.fromkeys(
        x.split(" (")[0] for x in c["handshake_in_clear"]["messages_seen"])))


def alpn(c):
    if not c["encrypted"]:
        return "(no handshake)"
    h = c["handshake_in_clear"]
    return v(h["alpn_offered"]) + " / " + v(h["alpn_selected"])


def certificate_subject(c):
    if not c["encrypted"]:
        return "(no certificate)"
    h = c["handshake_in_clear"]
    return v(h["certificate_subject"]) if h["certificate_visible"] else "not in clear"


def cookie_exchange(c):
    if c["transport"] == "udp" and c["encrypted"]:
        return yn(c["handshake_in_clear"]["cookie_exchange"])
    return "n/a"


def overhead(c):
    o = c["overhead"]
    if not o:
        return "—"
    return f"×{o['bytes_ratio']} (+{o['extra_bytes']} B, +{o['extra_frames']} frames)"


row("marker visible", lambda c: yn(c["marker_visible"]))
row("HTTP request line", http_get("request_line"))
row("Host", http_get("host"))
row("User-Agent", http_get("user_agent"))
row("certificate name bytes visible", lambda c: yn(c["certificate_name_bytes_visible"]))
row("handshake messages in clear", messages_in_clear)
row("SNI", hsget("sni"))
row("ALPN offered / selected", alpn)
row("version (negotiated)", hsget("negotiated_version"))
row("cipher suites offered", hsget("cipher_suites_offered"))
row("cipher chosen", hsget("cipher_chosen"))
row("certificate subject", certificate_subject)
row("cookie exchange (HelloVerifyRequest)", cookie_exchange)
row("frames", lambda c: str(c["frames"]))
row("bytes on the wire (frame.len, with a 14-byte loopback link header)",
    lambda c: str(c["bytes"]))
row("payload bytes (TCP/UDP)", lambda c: str(c["payload_bytes"]))
row("overhead vs plaintext", overhead)
L.append("")
L.append("## With the key log")
L.append("")
L.append("| | marker visible | where | HTTP request | certificate subject | ALPN selected "
         "| pcapng with embedded secrets: marker visible |")
L.append("|---|---|---|---|---|---|---|")
for m in order:
    c = caps[m]
    if not c["encrypted"]:
        continue
    d, e = c["decrypted_with_keylog"], c["embedded_secrets"]
    request = (v((d["http_request"] or {}).get("request_line")) if c["transport"] == "tcp"
               else "n/a")
    L.append(f"| {c['title']} | {yn(d['marker_visible'])} | "
             f"{v(d['sources_with_marker'])}: `{v(d['marker_context'])}` | "
             f"{request} | {v(d['certificate_subject'])} | {v(d['alpn_selected'])} | "
             f"{yn(e['marker_visible'])} |")
L.append("")
L.append("## Checks")
L.append("")
for ch in report["checks"]:
    L.append(f"- [{'x' if ch['ok'] else ' '}] {ch['check']}"
             + ("" if ch["ok"] else "  **FAILED**"))
L.append("")
L.append("## See it yourself")
L.append("")
L.append("```sh")
for m in order:
    c = caps[m]
    L.append(f"# {c['title']}")
    for k in ("tshark", "tshark_with_keylog", "tshark_with_embedded_secrets",
              "wireshark", "wireshark_with_keylog", "wireshark_with_embedded_secrets"):
        if k in c["commands"]:
            L.append(c["commands"][k])
L.append("```")
L.append("")
with open(os.path.join(out, "report.md"), "w") as f:
    f.write("\n".join(L))

failed = [ch["check"] for ch in report["checks"] if not ch["ok"]]
sys.exit(3 if failed else 0)
