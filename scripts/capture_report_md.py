"""report.md of scripts/capture-compare.sh: report.json's facts as Markdown
tables (the self-checks are in checks.json, the teaching text in
report.html)."""

import capture_keyex as keyex
import capture_observer as obs


def yn(b):
    return "**yes**" if b else "no"


def v(x):
    if x is None or x == [] or x == "":
        return "—"
    if isinstance(x, list):
        return ", ".join(str(i) for i in x)
    return str(x).replace("|", "\\|")


def cell(x):
    """A value from the wire in a table cell: code, with backquotes and
    pipes that cannot end it."""
    if x is None or x == "":
        return "—"
    s = str(x).replace("`", "'").replace("|", "\\|")
    return f"`{s}`"


def hsget(key):
    return lambda c: (v((c["handshake_in_clear"] or {}).get(key)) if c["encrypted"]
                      else "(no handshake)")


def http_get(key):
    return lambda c: (cell((c["http_request"] or {}).get(key)) if c["transport"] == "tcp"
                      else "n/a")


def messages_in_clear(c):
    if not c["encrypted"]:
        return "(no handshake)"
    return v(list(dict.fromkeys(
        x.split(" (")[0] for x in c["handshake_in_clear"]["messages_seen"])))


def alpn(c):
    if not c["encrypted"]:
        return "(no handshake)"
    h = c["handshake_in_clear"]
    sel = h["alpn_selected"] or ("encrypted" if h.get("alpn_selected_encrypted") else None)
    return v(h["alpn_offered"]) + " / " + v(sel)


def certificate_subject(c):
    if not c["encrypted"]:
        return "(no certificate)"
    h = c["handshake_in_clear"]
    return v(h["certificate_subject"]) if h["certificate_visible"] else "encrypted"


def cookie_exchange(c):
    if c["transport"] == "udp" and c["encrypted"]:
        return yn(c["handshake_in_clear"]["cookie_exchange"])
    return "n/a"


def key_share(c):
    k = c.get("key_exchange")
    if not k or not (k["key_shares_offered"] or k["key_share_chosen"]):
        return "n/a"
    ch = k["key_share_chosen"]
    return (", ".join(f"{s['name']} {s['bytes']} B" for s in k["key_shares_offered"]) + " / "
            + (f"{ch['name']} {ch['bytes']} B" if ch else "—"))


def overhead(c):
    o = c.get("overhead")
    if not o:
        return "—"
    return f"×{o['bytes_ratio']} (+{o['extra_bytes']} B, +{o['extra_frames']} frames)"


def tickets(c):
    if not c["encrypted"]:
        return "n/a"
    t = c.get("tickets")
    if t is None:
        return "unknown (encrypted)"
    if not t["count"]:
        return "none"
    return (f"{t['count']}, {t['record_bytes']} B of records"
            + (f" ({len(t['frames'])} frames, {t['frame_bytes']} B)" if t["frames"] else "")
            + (", encrypted" if t["encrypted"] else ", in clear"))


def ending(c):
    e = c.get("ending")
    if e is None:
        return "n/a (UDP)"
    parts = [f"FIN by {obs.SIDE[d]} (frame {n})" for d, n in zip(e["fin_by"], e["fin_frames"])]
    r = e["rst"]
    if r:
        parts.append(f"RST by {obs.SIDE[r['by']]} (frame {r['frame']}, after frame "
                     f"{r['trigger_frame']}; {r['unacknowledged_bytes']} B unacknowledged)")
    return "; ".join(parts) or "still open"


def round_trips(c):
    lad = c["ladder"]
    n = lad["round_trips_before_first_app_byte"]
    if n is None:
        return "—"
    return f"{n} (frame {lad['first_app_frame']}, {obs.ms(lad['time_to_first_app_byte_ms'])})"


def handshake_ms(c):
    j = c.get("programs_json") or {}
    return obs.ms(j.get("handshake_ms")) if j.get("handshake_ms") is not None else "—"


def app_bytes(c):
    return "unknown (encrypted)" if c.get("app_bytes") is None else str(c["app_bytes"])


def what_changes(report):
    """TLS 1.3, its post-quantum key share and ECH side by side, and the
    modes this build does not have."""
    modes, rows = keyex.comparison(report)
    missing = keyex.not_on_this_build(report)
    if not rows and not missing:
        return []
    caps = report["captures"]
    L = ["## What changes on the wire: TLS 1.3, post-quantum, ECH", ""]
    L += [f"- {v(line)}" for line in missing]
    if missing:
        L.append("")
    if not rows:
        return L
    L.append("| | " + " | ".join(v(caps[m]["title"]) for m in modes) + " |")
    L.append("|---" * (len(modes) + 1) + "|")
    for what, values in rows:
        L.append(f"| {v(what)} | " + " | ".join(v(x) for x in values) + " |")
    L.append("")
    note = keyex.naming_note(report, modes)
    if note:
        L += [note, ""]
    return L


def render(report):
    caps = report["captures"]
    order = list(caps)
    L = []
    L.append("# What the wire shows")
    L.append("")
    if report.get("kind") == "exchange":
        c = caps["exchange"]
        how = ("captured by the program itself (`--pcap`, no root)"
               if report.get("captured_by") == "pcap" else "on the loopback interface")
        L.append(f"One exchange with port {c['port']} {how} "
                 f"(`{c['title']}`), from `{c['source_pcap']}`. Every fact below comes from "
                 f"tshark {report['tshark_version']}'s dissection of the capture.")
    else:
        how = ("by the client itself (`--pcap`: no root; the bytes it sent and received, "
               "the headers synthesized)" if report.get("captured_by") == "pcap" else "by tshark")
        L.append(f"The same exchange once per mode on 127.0.0.1, each captured {how} into "
                 f"`{report['out_dir']}/MODE.pcap`. Marker `{report['marker']}`: in the "
                 f"User-Agent and the reply body (TCP, an HTTP GET), in the datagram and the "
                 f"reply (UDP). Server certificate: CN={report['certificate_name']}, SNI "
                 f"localhost. Every fact below comes from tshark {report['tshark_version']}'s "
                 f"dissection of the captures, not from the programs' logs; \"visible\" means "
                 f"found in the raw bytes (every frame, reassembled and decrypted data source "
                 f"of `tshark -x`). The same facts, explained, with ladder diagrams: "
                 f"`{report['out_dir']}/report.html`.")
    L.append("")
    for s in obs.summary(report):
        L.append(f"- {s}")
    L.append("")
    L += what_changes(report)
    L.append("## An observer without the keys")
    L.append("")
    L.append("| | " + " | ".join(v(caps[m]["title"]) for m in order) + " |")
    L.append("|---" * (len(order) + 1) + "|")

    def row(label, fn):
        L.append(f"| {label} | " + " | ".join(fn(caps[m]) for m in order) + " |")

    if report.get("marker"):
        row("marker visible", lambda c: yn(c["marker_visible"]))
    row("HTTP request line", http_get("request_line"))
    row("Host", http_get("host"))
    row("User-Agent", http_get("user_agent"))
    if report.get("certificate_name"):
        row("certificate name bytes visible",
            lambda c: yn(c["certificate_name_bytes_visible"]))
    row("handshake messages in clear", messages_in_clear)
    row("SNI", hsget("sni"))
    row("ALPN offered / selected", alpn)
    row("version (negotiated)", hsget("negotiated_version"))
    row("cipher suites offered", hsget("cipher_suites_offered_names"))
    row("cipher chosen", hsget("cipher_chosen"))
    row("key share, client / server (TLS 1.3)", key_share)
    row("JA3", lambda c: (cell((c["handshake_in_clear"] or {}).get("ja3")) if c["encrypted"]
                          else "(no handshake)"))
    row("certificate subject", certificate_subject)
    row("cookie exchange (HelloVerifyRequest)", cookie_exchange)
    row("session tickets", tickets)
    row("round trips before the first application byte", round_trips)
    row("handshake time (the client's --json)", handshake_ms)
    row("end of the connection", ending)
    row("frames", lambda c: str(c["frames"]))
    row("bytes on the wire (frame.len, with a 14-byte loopback link header)",
        lambda c: str(c["bytes"]))
    row("payload bytes (TCP/UDP)", lambda c: str(c["payload_bytes"]))
    row("application bytes", app_bytes)
    row("overhead vs plaintext", overhead)
    L.append("")
    if any(c["encrypted"] for c in caps.values()):
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
            request = (cell((d["http_request"] or {}).get("request_line"))
                       if c["transport"] == "tcp" else "n/a")
            mv = yn(d["marker_visible"]) if report.get("marker") else "n/a"
            ev = yn(e["marker_visible"]) if report.get("marker") else "n/a"
            L.append(f"| {v(c['title'])} | {mv} | "
                     f"{v(d['sources_with_marker'])}: {cell(d['marker_context'])} | "
                     f"{request} | {v(d['certificate_subject'])} | {v(d['alpn_selected'])} | "
                     f"{ev} |")
        L.append("")
    L.append("## Frame by frame")
    for m in order:
        c = caps[m]
        lad = c["ladder"]
        L.append("")
        L.append(f"### {v(c['title'])}")
        L.append("")
        L.append("| # | time | | what tshark dissects | bytes |")
        L.append("|---:|---:|---|---|---:|")
        for f in lad["frames"]:
            arrow = "client → server" if f["dir"] == "c2s" else "client ← server"
            first = " **(first application byte)**" if f["n"] == lad["first_app_frame"] else ""
            L.append(f"| {f['n']} | {obs.ms(f['t'] * 1000)} | {arrow} | "
                     f"{cell(f['label'])}{first} | {f['len']} |")
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
    return "\n".join(L)
