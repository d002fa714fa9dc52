"""What tshark's dissection of one capture says, as plain data for the
capture report: the marker in the raw bytes, the HTTP request, the TLS or
DTLS handshake in clear, every frame for the ladder diagram (with the
records it carries, read with and without the key log), JA3, the session
tickets, how the connection ended, and the bytes of the request.
"""

import hashlib
import re

from capture_tshark import all_named, data_sources, dn, fields_of, first, packets, paren, show

HS_TYPES = {1: "ClientHello", 2: "ServerHello", 3: "HelloVerifyRequest", 4: "NewSessionTicket",
            5: "EndOfEarlyData", 8: "EncryptedExtensions", 11: "Certificate",
            12: "ServerKeyExchange", 13: "CertificateRequest", 14: "ServerHelloDone",
            15: "CertificateVerify", 16: "ClientKeyExchange", 20: "Finished", 24: "KeyUpdate"}
CCS, ALERT, HANDSHAKE, APP_DATA = 20, 21, 22, 23
# Handshake messages that are not a reply the client waits for.
NOT_A_REPLY = {"NewSessionTicket", "KeyUpdate"}
TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK = 0x01, 0x02, 0x04, 0x10


def printable(b):
    return "".join(chr(c) if 32 <= c < 127 else "." for c in b)


def marker_facts(path, opts, marker, cert_name):
    """Searches the raw bytes of every data source for the marker, and for
    the certificate's name (its subject CN, which is not the SNI)."""
    srcs = data_sources(path, opts)
    m = marker.encode() if marker else None
    hits = [(f, n, b) for f, n, b in srcs if m and m in b]
    context = None
    if hits:
        # The line that holds the marker (as much of it as fits 80 bytes).
        b = hits[0][2]
        i = b.index(m)
        start = max(b.rfind(b"\n", 0, i) + 1, i - 40)
        # From the last unprintable byte on: not the frame's headers.
        start = max([start] + [j + 1 for j in range(start, i) if not 32 <= b[j] < 127])
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
        "certificate_name_bytes_visible": bool(cert_name) and any(
            cert_name.encode() in b for _, _, b in srcs),
    }


def _http_request(pkt):
    if first(pkt, "http.request") is None:
        return None
    return {
        "request_line": " ".join(x for x in (show(pkt, "http.request.method"),
                                             show(pkt, "http.request.uri"),
                                             show(pkt, "http.request.version")) if x),
        "host": show(pkt, "http.host"),
        "user_agent": show(pkt, "http.user_agent"),
    }


def _grease(v):
    """RFC 8701's reserved values (0x0a0a, 0x1a1a, ...), which JA3 leaves out."""
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


def ja3(client_hello, proto):
    """JA3 of a ClientHello, computed here from its fields (not tshark's):
    version, cipher suites, extensions, groups and point formats in
    decimal, GREASE left out; the MD5 of that string."""
    def values(name):
        fields = all_named(client_hello, f"{proto}.handshake.{name}")
        return [int(f.get("value"), 16) for f in fields if f.get("value")]

    version = values("version")[:1]
    parts = [version,
             [v for v in values("ciphersuite") if not _grease(v)],
             [v for v in values("extension.type") if not _grease(v)],
             [v for v in values("extensions_supported_group") if not _grease(v)],
             values("extensions_ec_point_format")]
    full = ",".join("-".join(str(v) for v in p) for p in parts)
    return hashlib.md5(full.encode()).hexdigest(), full


def handshake_facts(pkts, proto):
    """What the handshake messages tshark could read in pkts say."""
    h = {
        "messages_seen": [],
        "sni": None,
        "alpn_offered": [],
        "alpn_selected": None,
        "client_hello_version": None,
        "supported_versions_offered": [],
        "negotiated_version": None,
        "cipher_suites_offered": 0,
        "cipher_suites_offered_names": [],
        "cipher_chosen": None,
        "ja3": None,
        "ja3_full": None,
        "ja3_tshark": None,
        "certificate_visible": False,
        "certificate_subject": None,
        "certificate_issuer": None,
        "certificate_san": [],
        "hello_verify_requests": 0,
        "cookie_exchange": False,
    }
    with_cookie = False
    for frame, pkt in enumerate(pkts, 1):
        for e in fields_of(pkt):
            if e.get("name") != f"{proto}.handshake":
                continue
            ht = first(e, f"{proto}.handshake.type")
            if ht is None:
                continue
            t = int(ht.get("show"))
            h["messages_seen"].append(f"{HS_TYPES.get(t, f'type {t}')} (frame {frame})")
            if t == 1:
                _client_hello(h, e, proto)
                cookie = first(e, f"{proto}.handshake.cookie_length")
                with_cookie |= cookie is not None and int(cookie.get("show")) > 0
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
                    h["certificate_san"] = (
                        [f.get("show") for f in all_named(e, "x509ce.dNSName")]
                        + [f.get("show") for f in all_named(e, "x509ce.iPAddress")])
    h["cookie_exchange"] = h["hello_verify_requests"] > 0 and with_cookie
    return h


def _client_hello(h, e, proto):
    """The first ClientHello's facts (a DTLS client sends it twice)."""
    if h["ja3"] is not None:
        return
    sni = first(e, f"{proto}.handshake.extensions_server_name")
    h["sni"] = sni.get("show") if sni is not None else None
    h["alpn_offered"] = [a.get("show") for a in
                         all_named(e, f"{proto}.handshake.extensions_alpn_str")]
    v = first(e, f"{proto}.handshake.version")
    if v is not None:
        h["client_hello_version"] = paren(v.get("showname"))
    h["supported_versions_offered"] = [
        paren(a.get("showname")) for a in
        all_named(e, f"{proto}.handshake.extensions.supported_version")]
    names = [paren(c.get("showname")) for c in all_named(e, f"{proto}.handshake.ciphersuite")]
    h["cipher_suites_offered"] = len(names)
    h["cipher_suites_offered_names"] = names
    h["ja3"], h["ja3_full"] = ja3(e, proto)
    h["ja3_tshark"] = show(e, f"{proto}.handshake.ja3")


def dissect(path, opts, proto):
    """Frames, bytes, HTTP and handshake facts of one capture."""
    pkts = packets(path, opts)
    payload = 0
    http_req = None
    http_resp_body = None
    for pkt in pkts:
        tl = first(pkt, "tcp.len")
        if tl is not None:
            payload += int(tl.get("show"))
        ul = first(pkt, "udp.length")
        if ul is not None:
            payload += int(ul.get("show")) - 8
        if http_req is None:
            http_req = _http_request(pkt)
        fd = first(pkt, "http.file_data")
        if fd is not None and http_resp_body is None and first(pkt, "http.response") is not None:
            http_resp_body = fd.get("show")
    facts = {
        "frames": len(pkts),
        "bytes": sum(int(show(p, "frame.len", "0")) for p in pkts),
        "payload_bytes": payload,
        "http_request_visible": http_req is not None,
        "http_request": http_req,
        "http_response_body": http_resp_body,
    }
    return facts, (handshake_facts(pkts, proto) if proto else None)


# ---- the frames, for the ladder diagram

def _records(pkt, proto):
    """The TLS or DTLS records of one frame, as tshark dissected them."""
    out = []
    for r in all_named(pkt, f"{proto}.record"):
        opaque = first(r, f"{proto}.record.opaque_type")
        ctype = first(r, f"{proto}.record.content_type")
        wire = int((opaque if opaque is not None else ctype).get("show")) \
            if opaque is not None or ctype is not None else None
        # Without the keys a TLS 1.3 record shows only its opaque type.
        inner = int(ctype.get("show")) if ctype is not None else wire
        names = [HS_TYPES.get(int(t.get("show")), f"type {t.get('show')}")
                 for t in all_named(r, f"{proto}.handshake.type")]
        desc = first(r, f"{proto}.alert_message.desc")
        length = first(r, f"{proto}.record.length")
        out.append({
            "wire_type": wire,
            "type": inner,
            "length": int(length.get("show")) if length is not None else 0,
            "pos": int(r.get("pos", "-1")),
            "size": int(r.get("size", "0")),
            "handshake": names,
            "alert": (re.sub(r"\s*\(\d+\)$", "", paren(desc.get("showname"))).lower()
                      if desc is not None else None),
        })
    return out


def _readable(rec):
    """Whether tshark could read this record's content (it was in clear, or
    decrypted with the key log)."""
    if rec["type"] == HANDSHAKE:
        return bool(rec["handshake"])
    if rec["type"] == ALERT:
        return rec["alert"] is not None
    return rec["type"] == CCS


def _encrypted_on_wire(rec):
    """Without the keys: an application-data record, or a handshake or alert
    record tshark cannot read (after ChangeCipherSpec in (D)TLS 1.2)."""
    return rec["wire_type"] == APP_DATA or (
        rec["wire_type"] in (HANDSHAKE, ALERT) and not _readable(rec))


def _record_label(rec, http_label, app_bytes=None):
    if rec["type"] == HANDSHAKE and rec["handshake"]:
        return ", ".join(rec["handshake"])
    if rec["type"] == CCS:
        return "ChangeCipherSpec"
    if rec["type"] == ALERT:
        return f"Alert ({rec['alert']})" if rec["alert"] else "Encrypted Alert"
    if rec["type"] == HANDSHAKE:
        return "Encrypted Handshake Message"
    if rec["type"] == APP_DATA:
        if http_label:
            return http_label
        if app_bytes is not None:
            return f"data ({app_bytes} B)"
        return "Application Data"
    return f"record type {rec['type']}"


def _collapse(labels):
    """'Application Data, Application Data' -> 'Application Data ×2'."""
    out = []
    for lab in labels:
        if out and out[-1][0] == lab:
            out[-1][1] += 1
        else:
            out.append([lab, 1])
    return [lab if n == 1 else f"{lab} ×{n}" for lab, n in out]


def _http_label(pkt):
    req = _http_request(pkt)
    if req is not None:
        return req["request_line"]
    if first(pkt, "http.response") is not None:
        return " ".join(x for x in (show(pkt, "http.response.version"),
                                    show(pkt, "http.response.code"),
                                    show(pkt, "http.response.phrase")) if x)
    return None


def _tcp_flags_label(flags, payload):
    names = [n for bit, n in ((TCP_SYN, "SYN"), (TCP_FIN, "FIN"), (TCP_RST, "RST")) if flags & bit]
    if names and flags & TCP_ACK:
        names.append("ACK")
    if not names and not payload and flags & TCP_ACK:
        names.append("ACK")
    return ", ".join(names)


def frames(path, opts, key_opts, proto, server_port, frame_sources=None, keyed_path=None):
    """Every frame in capture order: time, direction, sizes, TCP flags and
    sequence numbers, and what it carries, read without the key log and
    (key_opts not None) with it, from keyed_path when the keys are in
    another file (a pcapng with its secrets) of the same frames.
    frame_sources: the (frame, name, bytes) of tshark -x with the keys,
    for the decrypted records' sizes."""
    clear = packets(path, opts)
    keyed = packets(keyed_path or path, key_opts) if key_opts is not None else None
    decrypted_by_frame = {}
    for n, name, b in frame_sources or []:
        if name.startswith("Decrypted"):
            decrypted_by_frame.setdefault(n, []).append(b)
    out = []
    for i, pkt in enumerate(clear, 1):
        kpkt = keyed[i - 1] if keyed is not None and len(keyed) == len(clear) else None
        out.append(_frame(i, pkt, kpkt, proto, server_port, decrypted_by_frame.get(i, [])))
    return out


def _frame(n, pkt, kpkt, proto, server_port, decrypted):
    tcp = first(pkt, "tcp.srcport") is not None
    srcport = show(pkt, "tcp.srcport") or show(pkt, "udp.srcport")
    if tcp:
        payload = int(show(pkt, "tcp.len", "0"))
        flags = int(show(pkt, "tcp.flags", "0x0"), 16)
    else:
        payload = int(show(pkt, "udp.length", "8")) - 8
        flags = 0
    f = {
        "n": n,
        "t": float(show(pkt, "frame.time_relative", "0")),
        "dir": "s2c" if srcport == str(server_port) else "c2s",
        "len": int(show(pkt, "frame.len", "0")),
        "payload": payload,
        "flags": _tcp_flags_label(flags, payload) if tcp else "",
        "clear": [],
        "encrypted": [],
        "decrypted": None,
        "app": False,
        "app_bytes": 0,
        "reply": bool(flags & TCP_SYN and flags & TCP_ACK),
    }
    if tcp:
        f["stream"] = int(show(pkt, "tcp.stream", "0"))
        f["seq"] = int(show(pkt, "tcp.seq", "0"))
        f["nxtseq"] = int(show(pkt, "tcp.nxtseq", show(pkt, "tcp.seq", "0")))
        f["ack"] = int(show(pkt, "tcp.ack", "0"))
        f["fin"] = bool(flags & TCP_FIN)
        f["rst"] = bool(flags & TCP_RST)
        f["syn"] = bool(flags & TCP_SYN)
    else:
        f["stream"] = int(show(pkt, "udp.stream", "0"))
    if proto is None:
        _plain_frame(f, pkt, tcp)
    else:
        _secure_frame(f, pkt, kpkt, proto, decrypted)
    return f


def _plain_frame(f, pkt, tcp):
    if f["payload"]:
        f["app"] = True
        f["app_bytes"] = f["payload"]
        f["clear"].append(_http_label(pkt) or (f"data ({f['payload']} B)" if tcp
                                               else f"datagram ({f['payload']} B)"))


def _secure_frame(f, pkt, kpkt, proto, decrypted):
    recs = _records(pkt, proto)
    krecs = _records(kpkt, proto) if kpkt is not None else None
    if krecs is not None and len(krecs) != len(recs):
        krecs = None  # the two dissections disagree: keep what is in clear
    http_label = _http_label(kpkt) if kpkt is not None else None
    enc_index = 0
    f["records"] = []
    all_decrypted = True
    for j, rec in enumerate(recs):
        if rec["handshake"] and set(rec["handshake"]) - NOT_A_REPLY:
            f["reply"] = True
        if not _encrypted_on_wire(rec):
            f["clear"].append(_record_label(rec, None))
            if rec["type"] == CCS and f["dir"] == "s2c":
                f["reply"] = True
            f["records"].append(dict(rec, encrypted=False))
            continue
        # tshark makes one "Decrypted" data source per record it decrypts.
        k = krecs[j] if krecs is not None else None
        d = decrypted[enc_index] if enc_index < len(decrypted) else None
        enc_index += 1
        if k is None or d is None:
            all_decrypted = False
            f["records"].append(dict(rec, encrypted=True, decrypted=False,
                                     label=_record_label(rec, None)))
            if rec["wire_type"] == APP_DATA and f["app"] is not True:
                f["app"] = None  # application data or, in TLS 1.3, handshake
            continue
        plain = k
        if plain["handshake"] and set(plain["handshake"]) - NOT_A_REPLY and f["dir"] == "s2c":
            f["reply"] = True
        entry = dict(rec, encrypted=True, decrypted=True, type=plain["type"],
                     handshake=plain["handshake"], alert=plain["alert"],
                     label=_record_label(plain, http_label if plain["type"] == APP_DATA
                                         else None, len(d)))
        if plain["type"] == APP_DATA:
            f["app"] = True
            entry["app_bytes"] = len(d)
            f["app_bytes"] += len(d)
            entry["plaintext_hex"] = d.hex()
            http_label = None  # the HTTP summary names the first record only
        f["records"].append(entry)
    f["encrypted"] = _encrypted_labels(f)
    f["decrypted"] = all_decrypted if f["encrypted"] else None
    if f["app"] is None and not f["app_bytes"]:
        f["app_bytes"] = None


def _encrypted_labels(f):
    return _collapse([r["label"] for r in f.get("records", []) if r["encrypted"]])


def label(f):
    """One line for a frame: TCP flags, what is in clear, what is encrypted."""
    parts = [p for p in (f["flags"],) if p] + f["clear"]
    if f["encrypted"]:
        parts.append("encrypted: " + ", ".join(f["encrypted"]))
    return ", ".join(parts) if parts else "(empty)"


def tls13_client_finished(frames_, negotiated):
    """Without the keys a TLS 1.3 client's first encrypted record is its
    Finished, not application data: marks it so (RFC 8446, 4.4.4)."""
    if negotiated != "TLS 1.3":
        return
    for f in frames_:
        if f["dir"] != "c2s":
            continue
        for rec in f.get("records", []):
            if rec.get("encrypted") and not rec.get("decrypted"):
                rec["presumed"] = "Finished"
                rec["label"] += " (its Finished, presumably)"
                f["encrypted"] = _encrypted_labels(f)
                others = any(r.get("encrypted") and not r.get("decrypted") and r is not rec
                             for r in f["records"])
                f["app"] = None if others else False
                return
            if rec.get("encrypted"):
                return  # decrypted: known anyway


def first_app_frame(frames_):
    """The first frame that carries application data, presumed so where
    undecrypted TLS 1.3 leaves it open (a client's record after its
    Finished)."""
    for f in frames_:
        if f["app"] is True or (f["app"] is None and f["dir"] == "c2s"):
            return f
    return None


def round_trips(frames_, first_app):
    """The replies the client waited for before the first application byte,
    as the first frame of each: a server flight (frames in a row from the
    server) after the client spoke, holding SYN-ACK or a handshake message
    other than a ticket. Pure ACKs do not count as speaking."""
    if first_app is None:
        return None
    replies, last, counted = [], None, False
    for f in frames_:
        if f["n"] >= first_app["n"]:
            break
        if f["stream"] != first_app["stream"]:
            continue
        if not (f["payload"] or f.get("syn") or f.get("fin")):
            continue
        if f["dir"] != last:
            counted = False
            last = f["dir"]
        if f["dir"] == "s2c" and f["reply"] and not counted:
            replies.append(f["n"])
            counted = True
    return replies


def tickets(frames_, proto):
    """The NewSessionTicket messages: how many, their records' bytes, the
    frames that carry nothing else; None when TLS 1.3 hides whether there
    are any (no key log)."""
    header = 13 if proto == "dtls" else 5
    count, record_bytes, frame_nums, encrypted, unknown = 0, 0, [], False, False
    for f in frames_:
        recs = f.get("records", [])
        only = bool(recs)
        for rec in recs:
            if "NewSessionTicket" in rec["handshake"]:
                count += rec["handshake"].count("NewSessionTicket")
                record_bytes += header + rec["length"]
                encrypted |= rec["encrypted"]
            else:
                only = False
            if rec["encrypted"] and not rec.get("decrypted") and f["dir"] == "s2c":
                unknown = True
        if only:
            frame_nums.append(f["n"])
    if count == 0 and unknown:
        return None
    return {
        "count": count,
        "encrypted": encrypted,
        "record_bytes": record_bytes,
        "frames": frame_nums,
        "frame_bytes": sum(f["len"] for f in frames_ if f["n"] in frame_nums),
    }


def ending(frames_, first_app):
    """How the TCP connection ended (the one that carried the first
    application byte, else the first): FIN and RST, who sent them, what the
    reset answered, and whether the reset could lose data."""
    which = first_app or (frames_[0] if frames_ else {})
    stream = [f for f in frames_ if f.get("stream", 0) == which.get("stream", 0)]
    fins = [f for f in stream if f.get("fin")]
    rsts = [f for f in stream if f.get("rst")]
    e = {
        "how": "RST" if rsts else ("FIN" if fins else "open"),
        "fin_by": [f["dir"] for f in fins],
        "fin_frames": [f["n"] for f in fins],
        "rst": None,
    }
    if not rsts:
        return e
    r = rsts[0]
    before = [f for f in stream if f["n"] < r["n"]]
    other = [f for f in before if f["dir"] != r["dir"]]
    mine = [f for f in before if f["dir"] == r["dir"]]
    trigger = next((f for f in reversed(other) if f["payload"]), None)
    own_fin = next((f for f in mine if f.get("fin")), None)
    own_last = next((f for f in reversed(mine) if f["payload"]
                     and (own_fin is None or f["n"] <= own_fin["n"])), None)
    sent = max((f["nxtseq"] for f in mine), default=0)
    acked = max((f["ack"] for f in other), default=0)
    e["rst"] = {
        "frame": r["n"],
        "by": r["dir"],
        "after_own_fin": own_fin is not None,
        "own_fin_frame": own_fin["n"] if own_fin else None,
        "own_last_frame": own_last["n"] if own_last else None,
        "own_last_label": label(own_last) if own_last else None,
        "trigger_frame": trigger["n"] if trigger else None,
        "trigger_label": label(trigger) if trigger else None,
        "trigger_payload": trigger["payload"] if trigger else 0,
        "trigger_app_bytes": trigger["app_bytes"] if trigger else 0,
        # What the resetting side sent and the other never acknowledged:
        # lost with the reset.
        "unacknowledged_bytes": max(0, sent - acked),
    }
    return e


def request_bytes(frames_, path, opts):
    """The first application bytes the client sent, as they crossed the
    wire: the TCP or UDP payload, or the (D)TLS record that carried them
    with its decrypted plaintext when the key log allowed."""
    raw = {n: b for n, name, b in data_sources(path, opts) if name == "Frame"}
    pkts = packets(path, opts)
    for f in frames_:
        if f["dir"] != "c2s":
            continue
        if "records" not in f:
            if not f["payload"]:
                continue
            p = first(pkts[f["n"] - 1], "tcp.payload")
            if p is None:  # (an Element without children is false: no "or")
                p = first(pkts[f["n"] - 1], "udp.payload")
            if p is None:
                continue
            start, size = int(p.get("pos")), int(p.get("size"))
            return {"frame": f["n"], "hex": raw[f["n"]][start:start + size].hex()}
        for rec in f["records"]:
            app = rec.get("decrypted") and rec["type"] == APP_DATA
            if not (app or (not rec.get("decrypted") and rec["wire_type"] == APP_DATA
                            and rec["encrypted"] and not rec.get("presumed"))):
                continue
            b = raw.get(f["n"], b"")
            if rec["pos"] < 0 or rec["pos"] + rec["size"] > len(b):
                return None  # reassembled across segments: not one frame's bytes
            return {"frame": f["n"], "hex": b[rec["pos"]:rec["pos"] + rec["size"]].hex(),
                    "plaintext_hex": rec.get("plaintext_hex")}
    return None
