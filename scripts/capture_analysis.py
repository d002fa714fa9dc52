"""The analysis of scripts/capture-compare.sh: tshark dissects each capture
(with and without the key log, and the pcapng with embedded secrets); this
gathers the facts into report.json, the self-checks into checks.json, and
writes report.md and report.html from the same facts.

    python3 scripts/capture_analysis.py modes [--port MODE=PORT]... \\
        [--unavailable MODE=REASON]... [--public-name NAME] OUT_DIR MARKER CERT_NAME
    python3 scripts/capture_analysis.py exchange OUT_DIR PCAP [--port PORT]
        [--keylog FILE] [--marker TEXT] [--command-exit N] [-- COMMAND...]

"modes": the built-in exchanges, OUT_DIR/MODE.pcap and MODE.keylog, one
--port per mode that ran; --unavailable for a mode the build lacks (the
report says why); --public-name, the ECH public name of tls13-ech.
"exchange": one capture of the user's own exchange with the server on
PORT (guessed from the first SYN or datagram when not given), decrypted
with the key log or the secrets embedded in a pcapng.

Exits 0 when every check holds, 3 when one fails (the reports are written
either way), anything else when the analysis itself failed.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys

import capture_dissect as dis
import capture_keyex as keyex
import capture_pcapng as pcapng
import capture_report_html
import capture_report_md
import capture_tshark as tshark

MODES = [
    # mode, title, transport, encrypted, plaintext counterpart
    ("tcp", "TCP, plaintext", "tcp", False, None),
    ("tls12", "TLS 1.2", "tcp", True, "tcp"),
    ("tls13", "TLS 1.3", "tcp", True, "tcp"),
    # Where the build has them (capture-compare.sh leaves them out otherwise).
    ("tls13-pq", "TLS 1.3, post-quantum key share", "tcp", True, "tcp"),
    ("tls13-ech", "TLS 1.3 with ECH", "tcp", True, "tcp"),
    ("udp", "UDP, plaintext", "udp", False, None),
    ("dtls12", "DTLS 1.2", "udp", True, "udp"),
]
SHORT = {"tcp": "TCP", "udp": "UDP", "tls13-pq": "TLS 1.3 PQ", "tls13-ech": "TLS 1.3 ECH"}
# The name the client asks for (its SNI, the certificate's SAN); tls13-ech
# hides it behind the ECH public name.
REAL_NAME = "localhost"
# The dissector a port is decoded as, by what the capture carries.
DECODE = {("tcp", False): "http", ("tcp", True): "tls", ("udp", False): None,
          ("udp", True): "dtls"}


def decode_as(transport, encrypted, port):
    """-d so tshark dissects the (random) port as the right protocol."""
    proto = DECODE[(transport, encrypted)]
    return ["-d", f"{transport}.port=={port},{proto}"] if proto and port else []


def keylog_opts(keylog):
    return ["-o", f"tls.keylog_file:{keylog}"] if keylog else []


def client_json(out, mode):
    """The client's --json session object (logs/MODE.client.err), if any."""
    path = os.path.join(out, "logs", f"{mode}.client.err")
    if not os.path.isfile(path):
        return None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("{"):
                try:
                    o = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if "event" not in o:
                    return {k: o.get(k) for k in ("handshake_ms", "total_ms", "bytes_sent",
                                                  "bytes_received", "version", "cipher",
                                                  "group", "sni", "ech", "ech_outer_sni",
                                                  "ech_inner_sni")}
    return None


def files_and_options(specs):
    """Every (file, options) the report dissects, to run tshark on them at
    once."""
    for s in specs:
        yield s["pcap"], s["da"]
        if s["keylog"] or s["secrets"]:
            yield s["pcap"], s["da"] + keylog_opts(s["keylog"])
        if s["secrets"]:
            yield s["secrets"], s["da"]


def prefetch(specs):
    fo = list(files_and_options(specs))
    tshark.prefetch([["--version"]] + [["-r", f, *o, "-x"] for f, o in fo]
                    + [["-r", f, *o, "-T", "pdml"] for f, o in fo])


def commands(s, marker):
    q = shlex.quote
    pcap, da = s["pcap"], s["da"]
    find = f"frame contains {json.dumps(marker)}" if marker else "frame"
    c = {
        "tshark": f"tshark -r {q(pcap)} {shlex.join(da)} -Y {q(find)}".replace("  ", " "),
        "wireshark": f"wireshark {shlex.join(da)} {q(pcap)}".replace("  ", " "),
    }
    if not s["encrypted"]:
        return c
    if s["transport"] == "tcp":
        view = ["-Y", "http", "-T", "fields", "-e", "http.request.line", "-e", "http.file_data"]
    else:
        view = ["-x", "-Y", "dtls.app_data"]
    if s["keylog"]:
        ko = keylog_opts(s["keylog"])
        c["tshark_with_keylog"] = shlex.join(["tshark", "-r", pcap, *da, *ko, *view])
        c["wireshark_with_keylog"] = shlex.join(["wireshark", *da, *ko, pcap])
    if s["secrets"]:
        c["tshark_with_embedded_secrets"] = shlex.join(["tshark", "-r", s["secrets"], *da, *view])
        c["wireshark_with_embedded_secrets"] = shlex.join(["wireshark", *da, s["secrets"]])
    return c


def analyse(s, marker, cert_name, names=None):
    """The facts of one capture (spec s); names: {what: server name} to
    look for in its bytes (the real name, the ECH public name)."""
    pcap, da, proto = s["pcap"], s["da"], s["proto"]
    c = {k: s[k] for k in ("mode", "title", "transport", "encrypted", "port", "pcap")}
    c["name"] = SHORT.get(s["mode"], s["title"])
    c.update(dis.marker_facts(pcap, da, marker, cert_name))
    facts, hs = dis.dissect(pcap, da, proto)
    c.update(facts)
    c["handshake_in_clear"] = hs
    if proto:
        c["key_exchange"] = keyex.facts(pcap, da, proto, names or {})
    c["plaintext_counterpart"] = s["plain"]
    c["commands"] = commands(s, marker)
    c["programs_json"] = s.get("client_json")
    keyed_file, keyed_opts = None, None
    if s["encrypted"] and (s["keylog"] or s["secrets"]):
        keyed_file = pcap if s["keylog"] else s["secrets"]
        keyed_opts = da + keylog_opts(s["keylog"])
    if s["encrypted"]:
        d = {"keylog": s["keylog"]}
        if keyed_file:
            d.update(dis.marker_facts(keyed_file, keyed_opts, marker, cert_name))
            dfacts, dhs = dis.dissect(keyed_file, keyed_opts, proto)
        else:
            d.update(marker_visible=False, sources_with_marker=[], frames_with_marker=[],
                     marker_context=None)
            dfacts, dhs = {"http_request_visible": False, "http_request": None,
                           "http_response_body": None}, None
        d["http_request_visible"] = dfacts["http_request_visible"]
        d["http_request"] = dfacts["http_request"]
        d["http_response_body"] = dfacts["http_response_body"]
        d["certificate_subject"] = dhs["certificate_subject"] if dhs else None
        d["alpn_selected"] = dhs["alpn_selected"] if dhs else None
        d["messages_seen"] = dhs["messages_seen"] if dhs else []
        c["decrypted_with_keylog"] = d
        e = {"pcapng": s["secrets"], "exists": bool(s["secrets"]) and os.path.isfile(s["secrets"])}
        if e["exists"]:
            e.update(dis.marker_facts(s["secrets"], da, marker, cert_name))
            efacts, ehs = dis.dissect(s["secrets"], da, proto)
            e["http_request_visible"] = efacts["http_request_visible"]
            e["certificate_subject"] = ehs["certificate_subject"] if ehs else None
        else:
            e["marker_visible"] = False
        c["embedded_secrets"] = e
        # TLS 1.3 answers ALPN in EncryptedExtensions: there is a choice,
        # but not in clear.
        hs["alpn_selected_encrypted"] = (hs["alpn_selected"] is None and bool(hs["alpn_offered"])
                                         and hs["negotiated_version"] == "TLS 1.3")
    ladder(c, s, keyed_file, keyed_opts)
    if c.get("key_exchange", {}).get("ech_extension") or s["mode"] == "tls13-ech":
        c["ech"] = keyex.ech_facts(c, (names or {}).get("public_name"))
    return c


def ladder(c, s, keyed_file, keyed_opts):
    """The frames for the ladder diagram, the round trips before the first
    application byte, the tickets, how TCP ended, the request's bytes."""
    pcap, da, proto = s["pcap"], s["da"], s["proto"]
    sources = tshark.data_sources(keyed_file, keyed_opts) if keyed_file else None
    frames = dis.frames(pcap, da, keyed_opts, proto, s["port"], sources, keyed_path=keyed_file)
    hs = c["handshake_in_clear"] or {}
    decrypted = all(f["decrypted"] is not False for f in frames)
    if proto and not decrypted:
        dis.tls13_client_finished(frames, hs.get("negotiated_version"))
    for f in frames:
        f["label"] = dis.label(f)
    first_app = dis.first_app_frame(frames)
    replies = dis.round_trips(frames, first_app)
    c["ladder"] = {
        "frames": frames,
        "server_port": s["port"],
        "streams": len({f["stream"] for f in frames}),
        "decrypted": decrypted,
        "first_app_frame": first_app["n"] if first_app else None,
        "round_trips_before_first_app_byte": None if replies is None else len(replies),
        "round_trip_frames": replies or [],
        "time_to_first_app_byte_ms": round(first_app["t"] * 1000, 3) if first_app else None,
    }
    if not s["encrypted"]:
        c["app_bytes"] = c["payload_bytes"]
    elif decrypted:
        c["app_bytes"] = sum(f["app_bytes"] or 0 for f in frames)
    else:
        c["app_bytes"] = None
    c["tickets"] = dis.tickets(frames, proto) if proto else None
    c["ending"] = dis.ending(frames, first_app) if s["transport"] == "tcp" else None
    c["request_bytes"] = dis.request_bytes(frames, keyed_file or pcap, keyed_opts or da)


def overheads(caps):
    for c in caps.values():
        p = caps.get(c["plaintext_counterpart"]) if c["plaintext_counterpart"] else None
        if p is None:
            c["overhead"] = None
            continue
        c["overhead"] = {
            "vs": p["mode"],
            "extra_frames": c["frames"] - p["frames"],
            "extra_bytes": c["bytes"] - p["bytes"],
            "bytes_ratio": round(c["bytes"] / p["bytes"], 2) if p["bytes"] else None,
        }


def mode_checks(caps, marker, public_name=None):
    """What encryption should give, for the built-in exchanges (tls13-pq and
    tls13-ech when the build has them: a mode left out checks nothing)."""
    checks = []

    def check(what, ok):
        checks.append({"check": what, "ok": bool(ok)})

    for mode in ("tcp", "udp"):
        check(f"{mode}: the marker is visible in the plaintext capture",
              caps[mode]["marker_visible"])
    check("tcp: the HTTP request line, Host and User-Agent are visible",
          caps["tcp"]["http_request_visible"]
          and marker in (caps["tcp"]["http_request"] or {}).get("user_agent", ""))
    for mode in [m for m in ("tls12", "tls13", "tls13-pq", "tls13-ech", "dtls12") if m in caps]:
        c = caps[mode]
        check(f"{mode}: the marker is not visible in the capture", not c["marker_visible"])
        check(f"{mode}: no HTTP request visible without the key log",
              not c["http_request_visible"])
        check(f"{mode}: the marker is visible again with the key log",
              c["decrypted_with_keylog"]["marker_visible"])
        check(f"{mode}: the marker is visible in the pcapng with embedded secrets",
              c["embedded_secrets"]["marker_visible"])
        if mode != "tls13-ech":
            check(f"{mode}: the SNI travels in clear",
                  (c["handshake_in_clear"] or {}).get("sni") == REAL_NAME)
        check(f"{mode}: every encrypted record was decrypted with the key log",
              c["ladder"]["decrypted"])
    t12, t13 = caps["tls12"]["handshake_in_clear"], caps["tls13"]["handshake_in_clear"]
    check("tls12: the certificate subject travels in clear", t12["certificate_visible"])
    check("dtls12: the certificate subject travels in clear",
          caps["dtls12"]["handshake_in_clear"]["certificate_visible"])
    check("tls13: the certificate subject does not travel in clear",
          not t13["certificate_visible"] and not caps["tls13"]["certificate_name_bytes_visible"])
    check("tls13: the certificate subject is visible with the key log",
          caps["tls13"]["decrypted_with_keylog"]["certificate_subject"] is not None)
    check("tls12: the selected ALPN travels in clear", t12["alpn_selected"] == "http/1.1")
    check("tls13: the selected ALPN is encrypted (EncryptedExtensions)",
          t13["alpn_selected_encrypted"]
          and caps["tls13"]["decrypted_with_keylog"]["alpn_selected"] == "http/1.1")
    check("tls13: the NewSessionTickets are encrypted",
          (caps["tls13"]["tickets"] or {}).get("count", 0) > 0
          and caps["tls13"]["tickets"]["encrypted"])
    check("dtls12: a cookie exchange (HelloVerifyRequest) took place",
          caps["dtls12"]["handshake_in_clear"]["cookie_exchange"])
    check("tls12, tls13: the negotiated versions are TLS 1.2 and TLS 1.3",
          t12["negotiated_version"] == "TLS 1.2" and t13["negotiated_version"] == "TLS 1.3")
    # Round trips before the first application byte: TCP's handshake, then
    # two for a full TLS 1.2 handshake, one for TLS 1.3, and DTLS 1.2's
    # cookie exchange before its two.
    want = {"tcp": 1, "tls12": 3, "tls13": 2, "tls13-pq": 2, "tls13-ech": 2, "udp": 0,
            "dtls12": 3}
    for mode, n in [(m, n) for m, n in want.items() if m in caps]:
        got = caps[mode]["ladder"]["round_trips_before_first_app_byte"]
        check(f"{mode}: {n} round trips before the first application byte (counted {got})",
              got == n)
    checks += keyex_checks(caps, public_name)
    for mode, c in caps.items():
        j = c["programs_json"]
        if j and isinstance(j.get("bytes_sent"), int):
            want_bytes = j["bytes_sent"] + (j.get("bytes_received") or 0)
            check(f"{mode}: the application bytes read from the capture ({c['app_bytes']}) are "
                  f"the client's --json bytes_sent + bytes_received ({want_bytes})",
                  c["app_bytes"] == want_bytes)
    return checks


# X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem): the client's share is an
# ML-KEM-768 encapsulation key (1,184 B) and an X25519 key (32 B); the
# server's, an ML-KEM-768 ciphertext (1,088 B) and an X25519 key (32 B).
PQ_GROUP, PQ_CLIENT_SHARE, PQ_SERVER_SHARE = "X25519MLKEM768", 1216, 1120


def keyex_checks(caps, public_name):
    checks = []

    def check(what, ok):
        checks.append({"check": what, "ok": bool(ok)})

    if "tls13-pq" in caps:
        k = caps["tls13-pq"]["key_exchange"]
        offered = [(s["name"], s["bytes"]) for s in k["key_shares_offered"]]
        chosen = k["key_share_chosen"] or {}
        check(f"tls13-pq: the client's key share is {PQ_GROUP}, {PQ_CLIENT_SHARE} bytes "
              f"(offered {offered})", offered == [(PQ_GROUP, PQ_CLIENT_SHARE)])
        check(f"tls13-pq: the server's key share is {PQ_GROUP}, {PQ_SERVER_SHARE} bytes "
              f"(chose {chosen.get('name')}, {chosen.get('bytes')} bytes)",
              (chosen.get("name"), chosen.get("bytes")) == (PQ_GROUP, PQ_SERVER_SHARE))
        k13 = caps["tls13"]["key_exchange"]
        check("tls13: the classical baseline's key share is x25519, 32 bytes each way",
              [(s["name"], s["bytes"]) for s in k13["key_shares_offered"]] == [("x25519", 32)]
              and (k13["key_share_chosen"] or {}).get("bytes") == 32)
    if "tls13-ech" in caps:
        c = caps["tls13-ech"]
        e = c["ech"]
        check("tls13-ech: the ClientHello carries an ECH extension (0xfe0d)", e["offered"])
        check(f"tls13-ech: the SNI an observer sees is the public name {public_name} "
              f"(saw {e['outer_sni']})", e["outer_sni"] == public_name)
        check(f"tls13-ech: the real name {REAL_NAME} is nowhere in the capture's bytes",
              e["real_name_in_capture"] is False)
        check(f"tls13-ech: the public name {public_name} is in the capture's bytes",
              e["public_name_in_capture"] is True)
        check(f"tls13-ech: the server accepted ECH (the client's --json: {e['status']}), "
              f"and the real name was the inner SNI ({e['inner_sni']})",
              e["accepted"] and e["inner_sni"] == REAL_NAME)
        check("tls13-ech: the certificate subject is not in the capture's bytes",
              not c["certificate_name_bytes_visible"])
    return checks


def exchange_checks(c):
    checks = [{"check": "the capture holds frames of the exchange", "ok": c["frames"] > 0}]
    if c["encrypted"] and (c["decrypted_with_keylog"]["keylog"]
                           or c["embedded_secrets"]["exists"]):
        checks.append({"check": "the key log decrypts every encrypted record",
                       "ok": c["ladder"]["decrypted"]})
    return checks


def write_reports(out, report, checks):
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    with open(os.path.join(out, "checks.json"), "w") as f:
        json.dump({"checks": checks, "ok": all(ch["ok"] for ch in checks)}, f, indent=2)
        f.write("\n")
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(capture_report_md.render(report))
    with open(os.path.join(out, "report.html"), "w") as f:
        f.write(capture_report_html.render(report))


def base_report(kind, out, marker, cert_name, captured_by="tshark", unavailable=None):
    return {
        "generated_by": "scripts/capture-compare.sh",
        "kind": kind,
        # "tshark": on the loopback interface; "pcap": by the client
        # itself (--pcap FILE), with no capture privilege.
        "captured_by": captured_by,
        "tshark_version": tshark.version(),
        "certificate_name": cert_name,
        "marker": marker,
        "out_dir": out,
        "captures": {},
        # Modes this build does not have: {mode: the server's reason}.
        "unavailable": unavailable or {},
    }


def run_modes(a):
    out = a.out
    ports = {m: int(p) for m, _, p in (x.partition("=") for x in a.ports)}
    unavailable = dict(x.split("=", 1) for x in a.unavailable)
    specs = []
    for mode, title, transport, encrypted, plain in MODES:
        if mode not in ports:
            continue
        secrets = os.path.join(out, f"{mode}-secrets.pcapng")
        specs.append({
            "mode": mode, "title": title, "transport": transport, "encrypted": encrypted,
            "plain": plain, "port": ports[mode], "pcap": os.path.join(out, f"{mode}.pcap"),
            "proto": DECODE[(transport, encrypted)] if encrypted else None,
            "da": decode_as(transport, encrypted, ports[mode]),
            "keylog": os.path.join(out, f"{mode}.keylog") if encrypted else None,
            "secrets": secrets if encrypted and os.path.isfile(secrets) else None,
            "client_json": client_json(out, mode),
        })
    prefetch(specs)
    report = base_report("modes", out, a.marker, a.cert_name, a.captured_by, unavailable)
    report["real_name"] = REAL_NAME
    report["ech_public_name"] = a.public_name
    for s in specs:
        names = {"real_name": REAL_NAME}
        if s["mode"] == "tls13-ech":
            names["public_name"] = a.public_name
        report["captures"][s["mode"]] = analyse(s, a.marker, a.cert_name,
                                                names if s["encrypted"] else None)
    overheads(report["captures"])
    return report, mode_checks(report["captures"], a.marker, a.public_name)


def guess_exchange(pcap, port):
    """The server's port (the first SYN's destination, else the first
    datagram's, when not given), what the exchange is, and how many frames
    are not to or from that port: (port, transport, encrypted, others)."""
    rows = [line.split("\t") for line in tshark.run(
        ["-r", pcap, "-T", "fields", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e",
         "udp.srcport", "-e", "udp.dstport", "-e", "tcp.flags", "-e", "tcp.payload",
         "-e", "udp.payload"]).splitlines()]
    rows = [r + [""] * (7 - len(r)) for r in rows]
    if port is None:
        syn = [int(r[1]) for r in rows if r[4] and int(r[4], 16) & 0x12 == 0x02]
        udp = [int(r[3]) for r in rows if r[3]]
        port = (syn or udp or [None])[0]
    if port is None:
        sys.exit("capture-compare.sh: no TCP SYN or UDP datagram in the capture; pass --port PORT")
    mine = [r for r in rows if str(port) in (r[0], r[1], r[2], r[3])]
    for r in mine:
        tcp = bool(r[0])
        dst = r[1] if tcp else r[3]
        payload = r[5] if tcp else r[6]
        if dst != str(port) or not payload:
            continue
        b = bytes.fromhex(payload.replace(":", ""))
        # A TLS record of type handshake starts 16 03, DTLS 16 fe.
        encrypted = b[:1] == b"\x16" and b[1:2] in (b"\x03", b"\xfe")
        return port, "tcp" if tcp else "udp", encrypted, len(rows) - len(mine)
    transport = "tcp" if any(r[0] for r in mine) else "udp"
    return port, transport, False, len(rows) - len(mine)


def run_exchange(a):
    out = a.out
    src = os.path.abspath(a.pcap)
    port, transport, encrypted, others = guess_exchange(src, a.port)
    if others:
        # Only the exchange's frames, numbered as Wireshark numbers them in
        # this copy (tshark keeps a pcapng's secrets).
        mine = os.path.join(out, f"exchange-port-{port}.pcapng")
        tshark.run(["-r", src, "-Y", f"tcp.port == {port} || udp.port == {port}", "-w", mine])
        src = mine
    secrets = None
    pcap = src
    if pcapng.has_secrets(src):
        # The file decrypts by itself: the view without keys is a copy with
        # the secrets left out.
        secrets = src
        pcap = os.path.join(out, "exchange-without-secrets.pcapng")
        pcapng.without_secrets(src, pcap)
    keylog = a.keylog if a.keylog and os.path.getsize(a.keylog) > 0 else None
    if secrets is None and keylog:
        # The capture with its key log embedded: it opens decrypted alone.
        secrets = os.path.join(out, "exchange-secrets.pcapng")
        r = subprocess.run(["editcap", "--inject-secrets", f"tls,{keylog}", pcap, secrets],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"capture-compare.sh: editcap --inject-secrets failed: {r.stderr.strip()}")
    proto = DECODE[(transport, True)] if encrypted else None
    title = shlex.join(a.command) if a.command else os.path.basename(src)
    kind = ("TLS" if transport == "tcp" else "DTLS") if encrypted else transport.upper()
    s = {"mode": "exchange", "title": title, "transport": transport, "encrypted": encrypted,
         "plain": None, "port": port, "pcap": pcap, "proto": proto,
         "da": decode_as(transport, encrypted, port), "keylog": keylog, "secrets": secrets}
    prefetch([s])
    report = base_report("exchange", out, a.marker, None, a.captured_by)
    c = analyse(s, a.marker, None)
    c["kind"] = kind
    version = (c["handshake_in_clear"] or {}).get("negotiated_version")
    c["title"] = f"{version or kind}, port {port}"
    c["name"] = version or kind
    c["command"] = a.command or None
    c["command_exit"] = a.command_exit
    c["source_pcap"] = os.path.abspath(a.pcap)
    c["frames_left_out"] = others
    report["captures"]["exchange"] = c
    overheads(report["captures"])
    return report, exchange_checks(c)


def main():
    ap = argparse.ArgumentParser(prog="capture_analysis.py")
    sub = ap.add_subparsers(dest="what", required=True)
    m = sub.add_parser("modes")
    m.add_argument("out")
    m.add_argument("marker")
    m.add_argument("cert_name")
    m.add_argument("--port", dest="ports", action="append", default=[], metavar="MODE=PORT",
                   help="a mode that ran and its server's port")
    m.add_argument("--unavailable", action="append", default=[], metavar="MODE=REASON",
                   help="a mode this build does not have, and why (the server's words)")
    m.add_argument("--public-name", help="the ECH public name of tls13-ech")
    e = sub.add_parser("exchange")
    e.add_argument("out")
    e.add_argument("pcap")
    e.add_argument("--port", type=int)
    e.add_argument("--keylog")
    e.add_argument("--marker")
    e.add_argument("--command-exit", type=int)
    for p in (m, e):
        p.add_argument("--captured-by", choices=("tshark", "pcap"), default="tshark")
    argv = sys.argv[1:]
    # COMMAND follows "--" (argparse's subparsers mishandle it).
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    a = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    a.command = command
    a.out = os.path.abspath(a.out)
    report, checks = run_modes(a) if a.what == "modes" else run_exchange(a)
    write_reports(a.out, report, checks)
    return 3 if not all(ch["ok"] for ch in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
