"""The key exchange and ECH as an observer reads them, for the capture
report's TLS 1.3 modes (tls13, tls13-pq, tls13-ech): the ClientHello's
size, the key shares the client offers and the one the server picks, the
groups by name, the ECH extension, and which server names are in the
capture's bytes; then the comparison table of those modes ("what changes
on the wire") that report.md and report.html both render.

tshark 4.0 (Debian 12) knows neither the hybrid group X25519MLKEM768
(0x11ec: "Unknown (4588)") nor ECH's extension (0xfe0d: "Unknown type
65037"), so both are named here from their codepoints (IANA's TLS
registries), and the extension's fields read from its bytes (RFC 9849,
5: ECHClientHello).
"""

from capture_tshark import all_named, data_sources, fields_of, first, packets, paren, show

# TLS Supported Groups (IANA), the ones a client of ours may offer.
GROUPS = {
    23: "secp256r1", 24: "secp384r1", 25: "secp521r1", 29: "x25519", 30: "x448",
    256: "ffdhe2048", 257: "ffdhe3072", 258: "ffdhe4096", 259: "ffdhe6144",
    260: "ffdhe8192", 512: "MLKEM512", 513: "MLKEM768", 514: "MLKEM1024",
    0x11EB: "SecP256r1MLKEM768", 0x11EC: "X25519MLKEM768", 0x11ED: "SecP384r1MLKEM1024",
}
GROUP_CODES = {name: f"0x{code:04x}" for code, name in GROUPS.items()}
ECH_EXT = 0xFE0D
# RFC 9180's KDF and AEAD identifiers, as an ECH cipher suite names them.
HPKE_KDF = {1: "HKDF-SHA256", 2: "HKDF-SHA384", 3: "HKDF-SHA512"}
HPKE_AEAD = {1: "AES-128-GCM", 2: "AES-256-GCM", 3: "ChaCha20Poly1305"}
VARIANTS = ("tls13", "tls13-pq", "tls13-ech")


def group(code, tshark_name=None):
    """A group by its codepoint: {code, name, named_by}; named_by says
    whether tshark knew it or the name came from the table above."""
    known = tshark_name and not tshark_name.startswith("Unknown")
    name = tshark_name if known else GROUPS.get(code, f"0x{code:04x}")
    return {"code": f"0x{code:04x}", "name": name,
            "named_by": "tshark" if known else "codepoint"}


def _key_shares(hs, proto):
    out = []
    groups = all_named(hs, f"{proto}.handshake.extensions_key_share_group")
    lengths = all_named(hs, f"{proto}.handshake.extensions_key_share_key_exchange_length")
    for g, n in zip(groups, lengths):
        entry = group(int(g.get("show")), paren(g.get("showname") or "").rsplit(" (", 1)[0])
        entry["bytes"] = int(n.get("show"))
        out.append(entry)
    return out


def _extension(hs, ext_type):
    """The bytes of the extension of that type (its 4-byte header too), or
    None."""
    for f in fields_of(hs):
        t = next((c for c in f if c.get("name", "").endswith(".handshake.extension.type")), None)
        if t is not None and int(t.get("show")) == ext_type:
            value = f.get("value") or ""
            b = bytes.fromhex(value)
            return b if len(b) == int(f.get("size", "-1")) else None
    return None


def ech_extension(ext):
    """RFC 9849's ECHClientHello, from the extension's bytes: an outer one
    carries the config id, the HPKE suite, the encapsulated key and the
    encrypted inner ClientHello (payload)."""
    body = ext[4:]
    facts = {"code": f"0x{ECH_EXT:04x}", "bytes": len(ext), "type": None}
    if len(body) < 1:
        return facts
    facts["type"] = "outer" if body[0] == 0 else ("inner" if body[0] == 1 else body[0])
    if body[0] != 0 or len(body) < 10:
        return facts
    kdf, aead = int.from_bytes(body[1:3], "big"), int.from_bytes(body[3:5], "big")
    enc_len = int.from_bytes(body[6:8], "big")
    p = 8 + enc_len
    payload_len = int.from_bytes(body[p:p + 2], "big") if len(body) >= p + 2 else None
    facts.update(config_id=body[5], kdf=HPKE_KDF.get(kdf, kdf), aead=HPKE_AEAD.get(aead, aead),
                 enc_bytes=enc_len, payload_bytes=payload_len)
    return facts


def facts(path, opts, proto, names):
    """What the ClientHello and ServerHello of one capture say about the key
    exchange, and which of names ({what: name}) its bytes hold."""
    k = {"client_hello": None, "server_hello": None, "key_shares_offered": [],
         "supported_groups_offered": [], "key_share_chosen": None, "negotiated_group": None,
         "ech_extension": None, "names_in_capture": {}}
    for pkt in packets(path, opts):
        for hs in all_named(pkt, f"{proto}.handshake"):
            t = first(hs, f"{proto}.handshake.type")
            length = first(hs, f"{proto}.handshake.length")
            if t is None or length is None:
                continue
            t = int(t.get("show"))
            msg = {"frame": int(show(pkt, "frame.number", "0")),
                   "frame_bytes": int(show(pkt, "frame.len", "0")),
                   # The whole message, its 4-byte header (type, length) too.
                   "message_bytes": 4 + int(length.get("show"))}
            if t == 1 and k["client_hello"] is None:
                k["client_hello"] = msg
                k["key_shares_offered"] = _key_shares(hs, proto)
                k["supported_groups_offered"] = [
                    group(int(g.get("value"), 16), paren(g.get("showname") or ""))
                    for g in all_named(hs, f"{proto}.handshake.extensions_supported_group")]
                ext = _extension(hs, ECH_EXT)
                k["ech_extension"] = ech_extension(ext) if ext else None
            elif t == 2 and k["server_hello"] is None:
                k["server_hello"] = msg
                chosen = _key_shares(hs, proto)
                k["key_share_chosen"] = chosen[0] if chosen else None
                k["negotiated_group"] = chosen[0]["name"] if chosen else None
    frames_ = [b for _, n, b in data_sources(path, opts) if n == "Frame"]
    for what, name in names.items():
        if name:
            hits = [i for i, b in enumerate(frames_, 1) if name.encode() in b]
            k["names_in_capture"][what] = {"name": name, "visible": bool(hits), "frames": hits}
    return k


def ech_facts(c, public_name):
    """ECH in one capture: the SNI an observer sees (the outer ClientHello's)
    against the real one (the inner, from the client's --json), whether
    the server accepted it (the client's --json: an observer cannot tell,
    the confirmation being a hash over the inner ClientHello), and whether
    each name is in the capture's bytes."""
    j = c.get("programs_json") or {}
    k = c["key_exchange"]
    names = k["names_in_capture"]
    return {
        "offered": k["ech_extension"] is not None,
        "public_name": public_name,
        "outer_sni": (c["handshake_in_clear"] or {}).get("sni"),
        "inner_sni": j.get("ech_inner_sni"),
        "status": j.get("ech"),
        "accepted": j.get("ech") == "accepted",
        "real_name_in_capture": names.get("real_name", {}).get("visible"),
        "public_name_in_capture": names.get("public_name", {}).get("visible"),
    }


# ---- the comparison of the TLS 1.3 variants

def _share(s):
    if not s:
        return "—"
    return f"{s['name']} ({s['code']}), {s['bytes']} B"


def _hello(m):
    return "—" if not m else f"{m['message_bytes']} B (frame {m['frame_bytes']} B)"


def _ech(c):
    e = c.get("ech")
    ext = c["key_exchange"]["ech_extension"]
    if not ext:
        return "not offered"
    parts = [f"extension {ext['code']}, {ext['bytes']} B"]
    if ext.get("payload_bytes") is not None:
        parts.append(f"{ext['payload_bytes']} B of encrypted ClientHello")
    if e and e.get("status"):
        parts.append(f"{e['status']} (the client's --json)")
    return "; ".join(parts)


def comparison(report):
    """The TLS 1.3 variants side by side: (modes, rows); a row is (what,
    [value per mode]). Values are plain text (the renderers escape them)."""
    caps = report["captures"]
    modes = [m for m in VARIANTS if m in caps]
    if len(modes) < 2:
        return modes, []  # nothing to compare (the renderers say what is missing)
    cs = [caps[m] for m in modes]
    real = report.get("real_name") or "localhost"

    def row(what, fn):
        return (what, [fn(c) for c in cs])

    def name_seen(c):
        n = c["key_exchange"]["names_in_capture"].get("real_name")
        return "—" if n is None else ("yes" if n["visible"] else "no")

    def kx(key, fn):
        return lambda c: fn(c["key_exchange"][key])

    rows = [
        row("ClientHello: message (the frame carrying it)", kx("client_hello", _hello)),
        row("key share offered by the client",
            kx("key_shares_offered", lambda ss: "; ".join(_share(s) for s in ss) or "—")),
        row("key share chosen by the server", kx("key_share_chosen", _share)),
        row("ServerHello: message (the frame carrying it)", kx("server_hello", _hello)),
        row("negotiated group", lambda c: c["key_exchange"]["negotiated_group"] or "—"),
        row("SNI an observer sees", lambda c: (c["handshake_in_clear"] or {}).get("sni") or "none"),
        row("the real name (the client's)",
            lambda c: ((c.get("programs_json") or {}).get("sni") or real)),
        row(f"the real name ({real}) anywhere in the capture's bytes", name_seen),
        row("ECH", _ech),
        row("bytes on the wire (frames)", lambda c: f"{c['bytes']} B ({c['frames']} frames)"),
    ]
    return modes, rows


def naming_note(report, modes):
    """What tshark could not name, and that it is named here."""
    caps = report["captures"]
    named = sorted({s["name"] for m in modes
                    for s in caps[m]["key_exchange"]["key_shares_offered"]
                    + [caps[m]["key_exchange"]["key_share_chosen"] or {}]
                    if s.get("named_by") == "codepoint"})
    items = [f"the group {n} ({GROUP_CODES.get(n, '?')})" for n in named]
    if any(caps[m]["key_exchange"]["ech_extension"] for m in modes):
        items.append(f"ECH's extension (0x{ECH_EXT:04x})")
    if not items:
        return None
    what = (f"does not name {items[0]}" if len(items) == 1
            else "names neither " + ", ".join(items[:-1]) + f" nor {items[-1]}")
    return (f"tshark {report['tshark_version']} {what} (\"Unknown\"): the report names "
            f"{'it' if len(items) == 1 else 'them'} from the codepoint"
            f"{'' if len(items) == 1 else 's'} (IANA's TLS registries).")


def not_on_this_build(report):
    """One line per mode the build does not have: 'MODE: not on this build:
    REASON' (the server's own words)."""
    missing = report.get("unavailable") or {}
    return [f"{m}: not on this build: {missing[m]}"
            for m in sorted(missing, key=lambda m: (VARIANTS + (m,)).index(m))]
