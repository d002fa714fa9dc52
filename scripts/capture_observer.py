"""The teaching text of the capture report, drawn from report.json's facts:
for each capture, what an observer without the keys sees (one row per
item: the value, visible or hidden, and why), and the few lines a student
should look at first. report.md and report.html both render these.

Text may hold `code` in backquotes; the renderers format it.
"""

import shlex

VISIBLE, HIDDEN, PARTLY, NONE = "visible", "hidden", "partly", "n/a"
SIDE = {"c2s": "client", "s2c": "server"}


def ms(x):
    return "—" if x is None else f"{x:.2f} ms"


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def version_of(c):
    return (c.get("handshake_in_clear") or {}).get("negotiated_version")


def kind(c):
    """tcp, udp, tls12, tls13, dtls12 (or the version's name)."""
    if not c["encrypted"]:
        return c["transport"]
    v = version_of(c) or ""
    return {"TLS 1.2": "tls12", "TLS 1.3": "tls13", "DTLS 1.2": "dtls12"}.get(v, v or "tls")


def frames_list(ns):
    ns = list(ns)
    if not ns:
        return ""
    return ("frame " if len(ns) == 1 else "frames ") + ", ".join(str(n) for n in ns)


def _row(what, seen, state, why, decrypted=None):
    return {"what": what, "seen": seen, "state": state, "why": why, "decrypted": decrypted}


def rows(c, report):
    """What an observer sees in capture c."""
    out = []
    k = kind(c)
    secure = c["encrypted"]
    d = c.get("decrypted_with_keylog") or {}
    keys = secure and c["ladder"]["decrypted"] and (d.get("keylog")
                                                    or c["embedded_secrets"].get("exists"))
    no_keys = "" if keys else " No key log was given, so it stays unreadable here."
    h = c.get("handshake_in_clear") or {}
    marker = report.get("marker")
    if marker:
        if not secure:
            where = frames_list(c["frames_with_marker"])
            out.append(_row("Marker", c["marker_context"] or "not found",
                            VISIBLE if c["marker_visible"] else NONE,
                            f"Plain {c['transport'].upper()} carries the bytes as the program "
                            f"wrote them: anyone who sees the packets reads them"
                            + (f" ({where})." if where else ".")))
        else:
            out.append(_row("Marker", None, VISIBLE if c["marker_visible"] else HIDDEN,
                            "Encrypted inside application-data records, with keys only the two "
                            "ends have; the key log hands tshark those keys and the marker "
                            "reads again." + no_keys,
                            decrypted=d.get("marker_context")))
    out += _http_rows(c, d, marker, no_keys)
    if secure:
        out += _handshake_rows(c, h, d, k)
    else:
        out.append(_row("Certificate", "none", NONE,
                        "Without TLS nothing proves who the server is: whoever answers on "
                        "that address is believed."))
    out.append(_round_trips_row(c, k))
    out.append(_bytes_row(c, k))
    end = _ending_row(c)
    if end:
        out.append(end)
    return out


def _http_rows(c, d, marker, no_keys):
    req = c.get("http_request")
    dreq = d.get("http_request") if c["encrypted"] else None
    if not req and not dreq:
        return []
    out = []
    items = [("Request line", "request_line", "The whole HTTP request is in the TCP payload, "
              "headers and all.", "HTTP runs inside TLS: the request is application data, "
              "encrypted."),
             ("User-Agent", "user_agent", "Names the client software"
              + (" (and here carries the marker)." if marker else " and its version."),
              "A header like any other: encrypted."),
             ("Host", "host", "The site's name. Without TLS there is no SNI: this header is "
              "where an observer reads the name.", "Encrypted, but the same name travels in "
              "the SNI, in clear (below).")]
    if (c.get("ech") or {}).get("offered"):
        items[2] = items[2][:3] + ("Encrypted, and with ECH the SNI is the public name: the "
                                   "name asked for is hidden too.",)
    for what, key, why_clear, why_enc in items:
        if req:
            out.append(_row(what, req.get(key) or "—", VISIBLE, why_clear))
        else:
            out.append(_row(what, None, HIDDEN, why_enc + no_keys,
                            decrypted=(dreq or {}).get(key)))
    return out


def _sni_row(c, h):
    sni = h.get("sni")
    e = c.get("ech")
    if e and e.get("offered"):
        seen = f"{sni or 'none sent'} (the ECH public name)"
        where = {False: "nowhere in the capture", True: "in the capture's bytes"}.get(
            e.get("real_name_in_capture"))
        if e.get("inner_sni") and where:
            seen += f"; the real name {e['inner_sni']}: {where}"
        return _row("SNI", seen, PARTLY,
                    "Encrypted Client Hello: what crosses the wire is an outer ClientHello "
                    "whose SNI is the public name the server published with its ECH key; "
                    "the real ClientHello, real name included, travels inside it encrypted "
                    "to that key (the ECH extension). The key log does not open it: it "
                    "holds the session's keys, not the server's ECH key."
                    + (f" The server accepted it (the client's --json says {e['status']}; "
                       "an observer cannot tell, the confirmation being a hash over the "
                       "inner ClientHello)." if e.get("status") else ""))
    return _row("SNI", sni or "none sent", VISIBLE if sni else NONE,
                "The ClientHello leaves before any key exists, so the server name the "
                "client asks for is in clear: an observer learns the site even when "
                "everything else is hidden. Encrypted Client Hello (ECH) hides it: an "
                "OpenSSL 4 build shows it (mode tls13-ech).")


def _key_share_row(c):
    """TLS 1.3's key shares: which group, how many bytes each way."""
    k = c.get("key_exchange") or {}
    offered, chosen = k.get("key_shares_offered") or [], k.get("key_share_chosen")
    if not offered and not chosen:
        return None
    share = "; ".join(f"{s['name']} {s['bytes']} B" for s in offered) or "none"
    seen = (f"client: {share}\nserver: "
            + (f"{chosen['name']} {chosen['bytes']} B" if chosen else "none"))
    ch = k.get("client_hello") or {}
    why = ("Each side sends its half of the key exchange in clear (key_share), before any "
           "key exists: an observer sees which group and how big, never the secret.")
    if any("MLKEM" in s["name"] for s in offered):
        why += (" The hybrid X25519MLKEM768 joins X25519 to ML-KEM-768, a key exchange "
                "believed to resist a quantum computer: the client's share is an ML-KEM "
                "public key (1,184 B) and an X25519 key (32 B), the server's an ML-KEM "
                f"ciphertext (1,088 B) and its X25519 key; the ClientHello is "
                f"{ch.get('message_bytes')} B.")
    if any(s.get("named_by") == "codepoint" for s in offered + ([chosen] if chosen else [])):
        why += " (tshark 4.0 shows the group as Unknown: named here from its codepoint.)"
    return _row("Key share", seen, VISIBLE, why)


def _ech_row(c):
    ext = (c.get("key_exchange") or {}).get("ech_extension")
    if not ext:
        return None
    seen = f"extension {ext['code']}, {ext['bytes']} B"
    if ext.get("payload_bytes") is not None:
        seen += (f": config {ext['config_id']}, {ext['kdf']}, {ext['aead']}, "
                 f"{ext['enc_bytes']} B key, {ext['payload_bytes']} B of encrypted "
                 f"ClientHello")
    return _row("ECH", seen, PARTLY,
                "That ECH is used shows (the extension, its size, which of the server's "
                "keys); what it carries does not. tshark 4.0 shows it as an unknown "
                "extension: its fields are read from its bytes (RFC 9849).")


def _handshake_rows(c, h, d, k):
    out = [_sni_row(c, h)]
    for extra in (_ech_row(c), _key_share_row(c)):
        if extra:
            out.append(extra)
    offered = h.get("alpn_offered") or []
    if offered:
        sel = h.get("alpn_selected")
        if sel:
            out.append(_row("ALPN offered / selected", f"{', '.join(offered)} / {sel}", VISIBLE,
                            "The client offers protocols in its ClientHello and a (D)TLS 1.2 "
                            "server answers in its ServerHello: both in clear."))
        else:
            dsel = d.get("alpn_selected") or (
                "none selected" if d.get("messages_seen") else None)
            out.append(_row("ALPN offered / selected", f"{', '.join(offered)} / encrypted",
                            PARTLY, "Offered in clear in the ClientHello; a TLS 1.3 server "
                            "answers in EncryptedExtensions, its first encrypted message, so "
                            "the choice (or that there is none) is hidden.", decrypted=dsel))
    else:
        out.append(_row("ALPN offered / selected", "none offered", NONE,
                        "The client offered no application protocol."))
    out.append(_certificate_row(c, h, d, k))
    out.append(_row("Version, cipher", f"{h.get('negotiated_version') or '—'}\n"
                    f"{h.get('cipher_chosen') or '—'}", VISIBLE,
                    "The ServerHello names both in clear: an observer knows how the data is "
                    "protected, not what it is."))
    names = h.get("cipher_suites_offered_names") or []
    out.append(_row("Cipher suites offered", "\n".join(names) or "—", VISIBLE,
                    f"The ClientHello lists all {len(names)} the client accepts, in its order "
                    f"of preference."))
    if h.get("ja3"):
        agree = (" tshark's own tls.handshake.ja3 agrees." if h.get("ja3_tshark") == h["ja3"]
                 else "")
        out.append(_row("JA3", f"`{h['ja3']}` from `{h['ja3_full']}`", VISIBLE,
                        "The MD5 of the ClientHello's version, cipher suites, extensions, "
                        "groups and point formats: the same for every connection this client "
                        "build makes, so an observer tells it from curl or a browser without "
                        "decrypting anything." + agree))
    if h.get("hello_verify_requests"):
        out.append(_row("Cookie exchange", "HelloVerifyRequest, then the ClientHello again "
                        "with the cookie" if h.get("cookie_exchange") else "HelloVerifyRequest",
                        VISIBLE, "Before it spends any work the DTLS server makes the client "
                        "prove it receives at its source address (UDP addresses are easy to "
                        "forge): one more round trip."))
    out.append(_tickets_row(c, k, c["mode"] != "exchange"))
    return out


def _server_flight(c):
    """The server's frame that carries its ServerHello."""
    for f in c["ladder"]["frames"]:
        if f["dir"] == "s2c" and any("ServerHello" in x for x in f["clear"]):
            return f
    return None


def _certificate_row(c, h, d, k):
    if h.get("certificate_visible"):
        issuer = h.get("certificate_issuer")
        return _row("Certificate", h["certificate_subject"]
                    + (f", issued by {issuer}" if issuer else ""), VISIBLE,
                    "In (D)TLS 1.2 the server sends its Certificate before any key exists (the "
                    "key exchange after it is signed with that certificate's key), so it goes "
                    "in clear: anyone sees which certificate, hence which site, the server "
                    "proved.")
    flight = _server_flight(c)
    size = f" Only its size shows: the server's first flight is {flight['len']} B." \
        if flight else ""
    if k == "tls13":
        why = ("TLS 1.3 agrees on keys in the ClientHello and ServerHello themselves "
               "(key_share) and encrypts everything after the ServerHello, the Certificate "
               "included." + size)
    else:
        why = "No certificate could be read in clear." + size
    return _row("Certificate", None, HIDDEN, why, decrypted=d.get("certificate_subject"))


def _tickets_row(c, k, own):
    t = c.get("tickets")
    if t is None:
        return _row("Session tickets", None, HIDDEN,
                    "TLS 1.3 sends tickets encrypted: without the key log they look like any "
                    "other application data.")
    if not t["count"]:
        return _row("Session tickets", "none", NONE, "The server sent no session ticket.")
    seen = f"{plural(t['count'], 'NewSessionTicket')}, {t['record_bytes']} B of records"
    if t["frames"]:
        pct = round(100 * t["frame_bytes"] / c["bytes"]) if c["bytes"] else 0
        seen += (f" in {plural(len(t['frames']), 'frame')} of {t['frame_bytes']} B "
                 f"({pct}% of the capture)")
    why = ("A ticket is the server's session state sealed with a key only the server has; the "
           "client may show it next time to resume without a full handshake. ")
    if k == "tls13":
        why += ("TLS 1.3 sends them after the handshake, encrypted (OpenSSL sends two by "
                "default). " + ("A client that never resumes, like this one, pays for them "
                                "for nothing." if own else "A client that never resumes pays "
                                "for them for nothing."))
    else:
        why += ("(D)TLS 1.2 sends it before the server's ChangeCipherSpec, in clear, but its "
                "content is sealed all the same.")
    if t["encrypted"]:
        return _row("Session tickets", None, HIDDEN, why, decrypted=seen)
    return _row("Session tickets", seen, VISIBLE, why)


RT_WHY = {
    "tcp": "TCP's handshake (SYN, then SYN-ACK) before the request.",
    "udp": "None: the first datagram carries the data.",
    "tls12": "TCP's, then two for a full TLS 1.2 handshake: the client waits for the server's "
             "Finished before it sends.",
    "tls13": "TCP's, then one: the TLS 1.3 client sends its key share in the ClientHello and "
             "may send as soon as the server's first flight arrives.",
    "dtls12": "The cookie exchange, then the two of a full DTLS 1.2 handshake.",
}


def _round_trips_row(c, k):
    lad = c["ladder"]
    n = lad["round_trips_before_first_app_byte"]
    if n is None:
        return _row("Round trips before data", "no application data",
                    NONE, "No frame carried application data.")
    seen = (f"{n}; the first application byte in frame {lad['first_app_frame']}, "
            f"{ms(lad['time_to_first_app_byte_ms'])} after the first frame")
    j = c.get("programs_json") or {}
    why = RT_WHY.get(k, "Counted from the capture: a server reply the client waited for.")
    if c["encrypted"]:
        why += (" On loopback a round trip costs microseconds: the time is the CPU of key "
                "exchange and signatures")
        why += (f" (the client's --json: handshake {ms(j['handshake_ms'])})."
                if j.get("handshake_ms") is not None else ".")
    return _row("Round trips before data", seen, VISIBLE, why)


def _bytes_row(c, k):
    app = c.get("app_bytes")
    seen = (f"{c['bytes']} B in {plural(c['frames'], 'frame')} on the wire for "
            + (f"{app} B of application data" if app is not None else "an unknown amount of "
               "application data"))
    o = c.get("overhead")
    if o:
        seen += f" (×{o['bytes_ratio']} the plaintext capture)"
    if not c["encrypted"]:
        why = ("Each frame adds its link (14 B on lo), IP and " + c["transport"].upper()
               + " headers" + (", and TCP its handshake, ACKs and close." if c["transport"]
                               == "tcp" else "."))
        return _row("Bytes and frames", seen, VISIBLE, why)
    why = "Encryption hides the content, not its size or its timing"
    rb = c.get("request_bytes") or {}
    if rb.get("plaintext_hex"):
        size, pt = len(rb["hex"]) // 2, len(rb["plaintext_hex"]) // 2
        why += (f": the request's record is {size} B on the wire for {pt} B of request, "
                f"{size - pt} B of record header and authentication tag"
                + (" (and one content-type byte)" if k == "tls13" else "") + ".")
    else:
        why += "."
    return _row("Bytes and frames", seen, VISIBLE, why)


def _alert_name(lab):
    """What a frame's label says it carried, in a few words."""
    if not lab:
        return "data"
    if "close notify" in lab:
        return "close_notify alert"
    if "Alert" in lab:
        return "alert"
    if lab.startswith("encrypted:"):
        return "encrypted record"
    return lab


def _ending_row(c):
    e = c.get("ending")
    if e is None:
        alerts = [f["n"] for f in c["ladder"]["frames"]
                  if any("Alert" in x for x in f["clear"] + f["encrypted"])]
        if c["encrypted"] and alerts:
            return _row("End of the exchange", f"alerts in {frames_list(alerts)}", VISIBLE,
                        "UDP has no connection: the close_notify alerts are the only goodbye, "
                        "and nothing resets.")
        return None
    by_side = {}  # a FIN sent again is the same FIN
    for d, n in zip(e["fin_by"], e["fin_frames"]):
        by_side.setdefault(d, []).append(n)
    fins = ", ".join(f"FIN from the {SIDE[d]} ({frames_list(ns)})" for d, ns in by_side.items())
    if e["how"] == "FIN":
        return _row("End of the connection", fins, VISIBLE,
                    "An orderly close: each side says it has nothing more to send, and the "
                    "other acknowledges.")
    if e["how"] == "open":
        return _row("End of the connection", "still open at the end of the capture", NONE,
                    "Neither FIN nor RST was captured.")
    r = e["rst"]
    by, other = SIDE[r["by"]], SIDE["s2c" if r["by"] == "c2s" else "c2s"]
    seen = (fins + ", then " if fins else "") + f"RST from the {by} (frame {r['frame']})"
    why = ""
    if r["after_own_fin"] and r["trigger_frame"] and r["trigger_frame"] > r["own_fin_frame"]:
        why = (f"The {by} sent its {_alert_name(r['own_last_label'])} (frame "
               f"{r['own_last_frame']}) and closed its socket (FIN, frame "
               f"{r['own_fin_frame']}) without waiting for the {other}'s; the {other}'s "
               f"{_alert_name(r['trigger_label'])} (frame {r['trigger_frame']}, "
               f"{r['trigger_payload']} B) then reached a socket that no longer exists, and "
               f"the kernel answered with a reset. ")
    elif r["trigger_frame"]:
        why = (f"The {by}'s kernel reset the connection after the {other}'s frame "
               f"{r['trigger_frame']}, which its program did not read before closing. ")
    lost_app = r["trigger_app_bytes"]
    if r["unacknowledged_bytes"]:
        why += (f"{r['unacknowledged_bytes']} B the {by} sent were never acknowledged: they "
                f"are lost.")
    elif lost_app is None:
        why += (f"The reset discards only those {r['trigger_payload']} B (an encrypted record "
                f"the size of an alert), and the {other} had acknowledged every byte the {by} "
                f"sent.")
    elif lost_app:
        why += (f"The reset discards {lost_app} B of application data the {by} never read.")
    else:
        why += (f"No data is lost: the reset discards only that alert, and the {other} had "
                f"acknowledged every byte the {by} sent.")
    return _row("End of the connection", seen, VISIBLE, why)


def summary(report):
    """What to look at first: a few sentences from the facts."""
    caps = report["captures"]
    if report.get("kind") == "exchange":
        return _exchange_summary(report, caps["exchange"])
    marker = report["marker"]
    plain = [c["name"] for c in caps.values() if c["marker_visible"]]
    hidden = [c["name"] for c in caps.values() if c["encrypted"] and not c["marker_visible"]]
    out = [f"The marker `{marker}` reads in clear in {' and '.join(plain) or 'no capture'} "
           f"(highlighted in the bytes of each section), and nowhere in "
           f"{', '.join(hidden) or 'no capture'} until the key log decrypts them."]
    t12 = caps.get("tls12", {}).get("handshake_in_clear") or {}
    t13 = caps.get("tls13", {}).get("handshake_in_clear") or {}
    if t12 and t13:
        out.append(f"Who the server is: TLS 1.2 shows its certificate "
                   f"(`{t12.get('certificate_subject')}`) to anyone, TLS 1.3 hides it; both "
                   f"show the name asked for, SNI `{t13.get('sni')}`, in the ClientHello.")
    rts = [(c["name"], c["ladder"]["round_trips_before_first_app_byte"]) for c in caps.values()]
    cost = "What it costs, in round trips before the first application byte: " + \
        " · ".join(f"{t} {n}" for t, n in rts if n is not None)
    ratios = [f"{c['name']} ×{c['overhead']['bytes_ratio']}" for c in caps.values()
              if c.get("overhead")]
    if ratios:
        cost += "; in bytes on the wire against plaintext: " + " · ".join(ratios)
    out.append(cost + ".")
    t = caps.get("tls13", {}).get("tickets")
    if t and t.get("frames") and caps["tls13"]["bytes"]:
        out[-1] += (f" {round(100 * t['frame_bytes'] / caps['tls13']['bytes'])}% of TLS 1.3's "
                    f"bytes are its {plural(t['count'], 'session ticket')}, which this client "
                    f"never uses.")
    out += _variants_summary(caps)
    resets = [c["name"] for c in caps.values() if (c.get("ending") or {}).get("how") == "RST"]
    fins = [c["name"] for c in caps.values() if (c.get("ending") or {}).get("how") == "FIN"]
    if resets:
        out.append(f"{' and '.join(resets)} end in a reset, {' and '.join(fins) or 'none'} with "
                   f"FIN: the row \"End of the connection\" says why, and whether it loses data.")
    return out


def _variants_summary(caps):
    """TLS 1.3's post-quantum key share and ECH against the baseline."""
    out = []
    base = (caps.get("tls13") or {}).get("key_exchange") or {}
    pq = (caps.get("tls13-pq") or {}).get("key_exchange")
    if pq and base.get("client_hello") and pq.get("client_hello"):
        cs, ss = pq["key_shares_offered"], pq["key_share_chosen"] or {}
        out.append(f"The post-quantum key share ({pq['negotiated_group']}) is "
                   f"{', '.join(str(x['bytes']) for x in cs)} B from the client and "
                   f"{ss.get('bytes')} B from the server, against 32 B each for x25519: the "
                   f"ClientHello grows from {base['client_hello']['message_bytes']} B to "
                   f"{pq['client_hello']['message_bytes']} B, the ServerHello from "
                   f"{(base.get('server_hello') or {}).get('message_bytes')} B to "
                   f"{(pq.get('server_hello') or {}).get('message_bytes')} B; the round "
                   f"trips stay the same.")
    e = (caps.get("tls13-ech") or {}).get("ech")
    if e:
        out.append(f"With ECH the SNI an observer reads is the public name `{e['outer_sni']}`; "
                   f"the real one, `{e['inner_sni']}`, is "
                   + ("nowhere in the capture's bytes" if e["real_name_in_capture"] is False
                      else "still in the capture's bytes")
                   + f" (ECH {e['status'] or 'status unknown'}, the client's --json).")
    return out


def _exchange_summary(report, c):
    what = shlex.join(c["command"]) if c.get("command") else c.get("source_pcap")
    out = [f"The exchange of `{what}` with port {c['port']}: "
           f"{plural(c['frames'], 'frame')}, {c['bytes']} B on the wire."]
    if c["encrypted"]:
        h = c["handshake_in_clear"] or {}
        dec = c["ladder"]["decrypted"] and (c["decrypted_with_keylog"].get("keylog")
                                            or c["embedded_secrets"].get("exists"))
        out.append(f"{h.get('negotiated_version') or 'TLS'}: an observer sees the SNI "
                   f"`{h.get('sni') or 'none'}`, the cipher suites and the JA3 "
                   f"`{h.get('ja3')}`"
                   + (", and the certificate" if h.get("certificate_visible") else
                      ", not the certificate") + ".")
        if dec:
            req = (c["decrypted_with_keylog"].get("http_request") or {})
            out.append("Decrypted with the key log: every record reads again"
                       + (f", the request `{req.get('request_line')}` with User-Agent "
                          f"`{req.get('user_agent')}`" if req else "") + ".")
        else:
            out.append("No key log decrypted it: the application data stays unreadable.")
    else:
        req = c.get("http_request")
        out.append("Plaintext: everything is readable"
                   + (f", the request `{req.get('request_line')}` with User-Agent "
                      f"`{req.get('user_agent')}`" if req else "") + ".")
    lad = c["ladder"]
    if lad["round_trips_before_first_app_byte"] is not None:
        out.append(f"{plural(lad['round_trips_before_first_app_byte'], 'round trip')} before "
                   f"the first application byte, {ms(lad['time_to_first_app_byte_ms'])} after "
                   f"the first frame.")
    return out
