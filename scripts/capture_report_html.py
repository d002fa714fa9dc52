"""report.html of scripts/capture-compare.sh: one self-contained page (inline
CSS and SVG; no script, and nothing fetched: it reads offline and prints)
drawn from report.json's facts. One section per capture: a ladder diagram
of every frame, what an observer sees, and the request's bytes as
plaintext beside the record that carried them.

    python3 scripts/capture_report_html.py REPORT.json > report.html
"""

import html
import json
import shlex
import sys

import capture_keyex as keyex
import capture_observer as obs

CSS = """
:root { --ink:#1e293b; --muted:#64748b; --line:#e2e8f0; --bg:#f8fafc;
  --tcp:#94a3b8; --hs:#2563eb; --enc:#7c3aed; --plain:#ea580c; --rst:#dc2626;
  --vis:#c2410c; --vis-bg:#ffedd5; --hid:#15803d; --hid-bg:#dcfce7;
  --part:#a16207; --part-bg:#fef9c3; --na:#64748b; --na-bg:#f1f5f9; --rt:#0f766e; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: var(--bg); color: var(--ink); line-height: 1.45;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 48px; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
code { font-size: .88em; background: #eef2f7; padding: .05em .3em; border-radius: 4px;
  overflow-wrap: anywhere; }
h1 { font-size: 30px; margin: 0 0 4px; letter-spacing: -.01em; }
h2 { font-size: 22px; margin: 0; }
h3 { font-size: 16px; margin: 26px 0 10px; color: #334155; text-transform: uppercase;
  letter-spacing: .04em; }
.sub { color: var(--muted); margin: 0 0 22px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 12px;
  padding: 22px 26px; margin: 0 0 26px; }
.first { border-left: 6px solid var(--hs); }
.first ol { margin: 10px 0 18px; padding-left: 22px; }
.first li { margin: 6px 0; }
.first li::marker { font-weight: 700; color: var(--hs); }
nav { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 14px; }
nav a { text-decoration: none; color: var(--ink); border: 1px solid var(--line);
  border-radius: 999px; padding: 3px 12px; font-size: 14px; background: var(--bg); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 7px 10px;
  border-bottom: 1px solid var(--line); }
th { font-size: 13px; color: var(--muted); font-weight: 600; }
.overview td, .overview th { text-align: center; }
.overview td:first-child, .overview th:first-child { text-align: left; }
.overview td { font-size: 14px; }
.badge { display: inline-block; font-size: 12px; font-weight: 700; padding: 2px 9px;
  border-radius: 999px; white-space: nowrap; }
.b-visible { color: var(--vis); background: var(--vis-bg); }
.b-hidden { color: var(--hid); background: var(--hid-bg); }
.b-partly { color: var(--part); background: var(--part-bg); }
.b-na { color: var(--na); background: var(--na-bg); }
.num { font-weight: 700; font-size: 15px; }
.mode-head { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
.pill { font-size: 12px; font-weight: 700; border-radius: 6px; padding: 2px 8px;
  text-transform: uppercase; letter-spacing: .05em; }
.pill.plain { color: var(--vis); background: var(--vis-bg); }
.pill.enc { color: var(--hid); background: var(--hid-bg); }
.lede { color: var(--muted); margin: 6px 0 0; }
.lede b { color: var(--ink); }
.ladder { margin-top: 14px; border: 1px solid var(--line); border-radius: 10px;
  background: #fcfdff; padding: 6px 4px; }
.ladder svg { display: block; width: 100%; height: auto; }
.legend { display: flex; flex-wrap: wrap; gap: 16px; font-size: 13px; color: var(--muted);
  margin: 12px 0 0; }
.legend span::before { content: ""; display: inline-block; width: 22px; height: 0;
  border-top: 3px solid currentColor; vertical-align: middle; margin-right: 6px; }
.legend .l-tcp { color: var(--tcp); } .legend .l-hs { color: var(--hs); }
.legend .l-enc { color: var(--enc); } .legend .l-plain { color: var(--plain); }
.legend .l-rst { color: var(--rst); }
.legend .l-rt::before { width: 12px; height: 12px; border: 0; border-radius: 50%;
  background: var(--rt); }
.observer { table-layout: fixed; }
.observer th:first-child { width: 15%; } .observer th:nth-child(2) { width: 33%; }
.observer th:nth-child(3) { width: 82px; }
.observer td:first-child { font-weight: 600; }
.observer td:nth-child(2) { overflow-wrap: anywhere; }
.observer .list { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px;
  overflow-wrap: normal; white-space: pre-line; }
.observer td:last-child { color: #334155; font-size: 14px; }
details summary { cursor: pointer; color: var(--hs); font-size: 13px; }
.print-only { display: none; }
@media print { details { display: none; } .observer .print-only { display: block; }
  .observer .list { font-size: 9px; overflow-wrap: anywhere; } }
.dec { display: block; margin-top: 3px; font-size: 13px; color: var(--enc); }
.enc-word { color: var(--muted); font-style: italic; }
.sbs { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
.sbs.single { grid-template-columns: 1fr; max-width: 560px; }
.panel h4 { margin: 0 0 6px; font-size: 14px; }
.panel p { margin: 8px 0 0; font-size: 13px; color: #334155; }
pre.hex { margin: 0; font-size: 11px; line-height: 1.5; background: #0f172a; color: #cbd5e1;
  padding: 10px 12px; border-radius: 8px; overflow-x: auto; }
pre.hex .off { color: #64748b; }
pre.hex .mark { background: #facc15; color: #111827; font-weight: 700; }
pre.hex .hdr { background: #1d4ed8; color: #fff; }
pre.hex .nonce { background: #334155; color: #fff; }
pre.hex .tag { background: #6d28d9; color: #fff; }
pre.hex .ct { color: #a78bfa; }
.key { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  vertical-align: middle; margin: 0 4px 0 8px; }
pre.cmds { background: #0f172a; color: #e2e8f0; padding: 12px 14px; border-radius: 8px;
  font-size: 12px; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
footer { color: var(--muted); font-size: 13px; }
.changes td { font-size: 14px; overflow-wrap: anywhere; }
.changes td:first-child { font-weight: 600; width: 22%; }
.changes td.diff { background: var(--part-bg); font-weight: 600; }
.missing { margin: 10px 0 14px; padding-left: 20px; color: var(--muted); }
.note { color: var(--muted); font-size: 13px; margin: 10px 0 0; }
@media print {
  body { background: #fff; font-size: 12px; }
  main { max-width: none; padding: 0; }
  .card { break-inside: avoid-page; border: 0; padding: 0 0 12px; }
  section.mode { break-before: page; }
  nav { display: none; }
  pre.hex, pre.cmds { white-space: pre-wrap; }
}
@media (max-width: 900px) { .sbs { grid-template-columns: 1fr; } }
"""

LIST_SHOWN = 8  # names of a longer list (cipher suites) fold away
STATE_CLASS = {obs.VISIBLE: "b-visible", obs.HIDDEN: "b-hidden", obs.PARTLY: "b-partly",
               obs.NONE: "b-na"}


def e(s):
    return html.escape(str(s), quote=True)


def rich(text):
    """Text with `code` in backquotes, escaped."""
    parts = str(text).split("`")
    return "".join(f"<code>{e(p)}</code>" if i % 2 else e(p) for i, p in enumerate(parts))


def badge(state, text=None):
    return f'<span class="badge {STATE_CLASS[state]}">{e(text or state)}</span>'


# ---- the ladder diagram

W = 1000
CLIENT_X, SERVER_X = 200, 800
TOP = 64
ROW, EXTRA_LINE, SLANT = 34, 15, 9
FONT = 12.5
MAX_CHARS = 88


def frame_class(f):
    if f.get("rst"):
        return "rst"
    if f["encrypted"]:
        return "enc"
    if f.get("records"):
        return "hs"
    if f["app"]:
        return "plain"
    return "ack" if f["flags"] == "ACK" else "tcp"


def split_label(f):
    """The label's lines: (text, is_encrypted_part)."""
    head = ", ".join([p for p in (f["flags"],) if p] + f["clear"])
    enc = "encrypted: " + ", ".join(f["encrypted"]) if f["encrypted"] else ""
    if head and enc and len(head) + len(enc) + 2 > 62:
        return [(head, False), (enc, True)]
    if head and enc:
        return [(head + ", ", False, enc)]
    return [(head or enc or "(empty)", bool(enc and not head))]


def clip(s):
    return s if len(s) <= MAX_CHARS else s[:MAX_CHARS - 1] + "…"


def ladder_svg(c):
    lad = c["ladder"]
    frames = lad["frames"]
    rt_frames = set(lad.get("round_trip_frames") or [])
    first_app = lad["first_app_frame"]
    rows, y = [], TOP + 26
    for f in frames:
        lines = split_label(f)
        if f["n"] == first_app:
            y += 20
        y += EXTRA_LINE * (len(lines) - 1)
        rows.append((f, lines, y))
        y += ROW
    height = y + 10
    mid = (CLIENT_X + SERVER_X) / 2
    out = [f'<svg viewBox="0 0 {W} {height}" role="img" class="ladder-svg" '
           f'data-mode="{e(c["mode"])}" aria-label="ladder diagram of {e(c["title"])}">']
    heads = (("tcp", "#94a3b8"), ("ack", "#cbd5e1"), ("hs", "#2563eb"), ("enc", "#7c3aed"),
             ("plain", "#ea580c"), ("rst", "#dc2626"))
    out.append('<defs>' + "".join(
        f'<marker id="ah-{k}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="11" '
        f'markerHeight="11" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{col}"/></marker>' for k, col in heads)
        + '</defs>')
    out.append('<style>'
               f'text {{ font-family: system-ui, "DejaVu Sans", sans-serif; font-size: {FONT}px;'
               ' fill: #1e293b; }'
               '.t { fill: #64748b; font-size: 11.5px; } .n { fill: #94a3b8; font-size: 11px; }'
               '.sz { fill: #475569; font-size: 11.5px; } .enc { fill: #6d28d9; }'
               '.who { font-weight: 700; font-size: 14px; } .whos { fill: #64748b; }'
               '.a-tcp { stroke: #94a3b8; stroke-width: 2; }'
               '.a-ack { stroke: #cbd5e1; stroke-width: 1.5; stroke-dasharray: 5 4; }'
               '.a-hs { stroke: #2563eb; stroke-width: 2.5; }'
               '.a-enc { stroke: #7c3aed; stroke-width: 2.5; }'
               '.a-plain { stroke: #ea580c; stroke-width: 3; }'
               '.a-rst { stroke: #dc2626; stroke-width: 2.5; stroke-dasharray: 7 4; }'
               '.l-ack text { fill: #94a3b8; }'
               '.first-app { stroke: #0f766e; stroke-width: 1.5; stroke-dasharray: 4 4; }'
               '.fa { fill: #0f766e; font-weight: 700; font-size: 12px; }'
               '.rt { fill: #0f766e; } .rtn { fill: #fff; font-weight: 700; font-size: 11px; }'
               '</style>')
    # The two ends.
    server = f"port {c['port']}" if c.get("port") else ""
    ends = ((CLIENT_X, "client", "connects, sends first"), (SERVER_X, "server", server))
    for x, who, sub in ends:
        out.append(f'<rect x="{x - 90}" y="8" width="180" height="42" rx="8" fill="#f1f5f9" '
                   f'stroke="#cbd5e1"/><text x="{x}" y="27" text-anchor="middle" '
                   f'class="who">{who}</text><text x="{x}" y="43" text-anchor="middle" '
                   f'class="whos" font-size="11.5">{e(sub)}</text>')
        out.append(f'<line x1="{x}" y1="50" x2="{x}" y2="{height - 6}" stroke="#cbd5e1" '
                   f'stroke-width="2"/>')
    out.append(f'<text x="16" y="{TOP + 4}" class="t">frame · time</text>'
               f'<text x="{W - 16}" y="{TOP + 4}" class="t" text-anchor="end">bytes</text>')
    rt_no = 0
    for f, lines, y in rows:
        k = frame_class(f)
        if f["n"] == first_app:
            fy = y - 24
            n = lad["round_trips_before_first_app_byte"]
            out.append(f'<line x1="10" y1="{fy}" x2="{W - 10}" y2="{fy}" class="first-app"/>'
                       f'<text x="{mid}" y="{fy - 5}" text-anchor="middle" class="fa">first '
                       f'application byte · after {obs.plural(n, "round trip")} · '
                       f'{obs.ms(lad["time_to_first_app_byte_ms"])}</text>')
        x1, x2 = (CLIENT_X, SERVER_X) if f["dir"] == "c2s" else (SERVER_X, CLIENT_X)
        out.append(f'<g class="arrow l-{k}" data-frame="{f["n"]}">')
        out.append(f'<line x1="{x1}" y1="{y}" x2="{x2 + (-3 if x2 > x1 else 3)}" '
                   f'y2="{y + SLANT}" class="a-{k}" marker-end="url(#ah-{k})"/>')
        ty = y - 6 - EXTRA_LINE * (len(lines) - 1)
        for ln in lines:
            if len(ln) == 3:
                out.append(f'<text x="{mid}" y="{ty}" text-anchor="middle">{e(ln[0])}'
                           f'<tspan class="enc">{e(clip(ln[2]))}</tspan></text>')
            else:
                cls = ' class="enc"' if ln[1] else ""
                out.append(f'<text x="{mid}" y="{ty}" text-anchor="middle"{cls}>'
                           f'{e(clip(ln[0]))}</text>')
            ty += EXTRA_LINE
        out.append(f'<text x="16" y="{y + 8}" class="n">#{f["n"]}</text>'
                   f'<text x="{CLIENT_X - 100}" y="{y + 8}" class="t" text-anchor="end">'
                   f'{obs.ms(f["t"] * 1000)}</text>'
                   f'<text x="{W - 16}" y="{y + 8}" class="sz" text-anchor="end">'
                   f'{f["len"]} B</text>')
        if f["n"] in rt_frames:
            rt_no += 1
            cx = CLIENT_X - 22
            out.append(f'<circle cx="{cx}" cy="{y + SLANT}" r="10" class="rt"/>'
                       f'<text x="{cx}" y="{y + SLANT + 4}" text-anchor="middle" '
                       f'class="rtn">{rt_no}</text>')
        out.append('</g>')
    out.append('</svg>')
    return "".join(out)


LEGEND = ('<div class="legend"><span class="l-tcp">TCP SYN, FIN, ACK</span>'
          '<span class="l-hs">handshake in clear</span>'
          '<span class="l-enc">encrypted</span>'
          '<span class="l-plain">application data in clear</span>'
          '<span class="l-rst">reset</span>'
          '<span class="l-rt">a reply the client waited for (round trip)</span></div>')


# ---- the bytes, side by side

def hexdump(b, classes, limit=512):
    """b as offset, hex and ASCII lines; classes[i]: the CSS class of byte i."""
    lines = []
    shown = b[:limit]
    for off in range(0, len(shown), 16):
        chunk = shown[off:off + 16]
        hx, asc = [], []
        for i, byte in enumerate(chunk):
            cls = classes.get(off + i)
            h = f"{byte:02x}"
            a = e(chr(byte)) if 32 <= byte < 127 else "."
            hx.append(f'<span class="{cls}">{h}</span>' if cls else h)
            asc.append(f'<span class="{cls}">{a}</span>' if cls else a)
        pad = "   " * (16 - len(chunk))
        lines.append(f'<span class="off">{off:04x}</span>  {" ".join(hx)}{pad}  {"".join(asc)}')
    if len(b) > limit:
        lines.append(f'<span class="off">… {len(b) - limit} more bytes</span>')
    return '<pre class="hex">' + "\n".join(lines) + "</pre>"


def user_agent(b):
    """The User-Agent header's value in an HTTP request's bytes, if any."""
    i = b.lower().find(b"\r\nuser-agent: ")
    if i < 0:
        return None
    start = i + len("\r\nuser-agent: ")
    end = b.find(b"\r\n", start)
    return b[start:end if end >= 0 else len(b)].decode("latin-1")


def marked(b, needle):
    classes = {}
    if needle:
        n = needle.encode("latin-1", "replace")
        i = b.find(n)
        while i >= 0:
            for j in range(i, i + len(n)):
                classes[j] = "mark"
            i = b.find(n, i + 1)
    return classes


def record_parts(b, c):
    """Classes of a (D)TLS record's bytes: header, explicit nonce, tag."""
    dtls = c["transport"] == "udp"
    hl = 13 if dtls else 5
    h = c.get("handshake_in_clear") or {}
    cipher = h.get("cipher_chosen") or ""
    aead = any(x in cipher for x in ("GCM", "CCM", "CHACHA20"))
    tag = 8 if cipher.endswith("CCM_8") else (16 if aead else 0)
    nonce = 8 if ("GCM" in cipher or "CCM" in cipher) and h.get("negotiated_version") in (
        "TLS 1.2", "DTLS 1.2") else 0
    classes = {i: "hdr" for i in range(min(hl, len(b)))}
    for i in range(hl, min(hl + nonce, len(b))):
        classes[i] = "nonce"
    for i in range(max(hl + nonce, len(b) - tag), len(b)):
        classes[i] = "tag"
    for i in range(hl + nonce, max(hl + nonce, len(b) - tag)):
        classes[i] = "ct"
    return classes, hl, nonce, tag


def record_caption(b, c, hl, nonce, tag, plain_len):
    dtls = c["transport"] == "udp"
    if len(b) < hl:
        return ""
    rtype, ver = b[0], b[1:3].hex()
    length = int.from_bytes(b[hl - 2:hl], "big")
    k = obs.kind(c)
    parts = [f'<span class="key" style="background:#1d4ed8"></span>{hl} bytes of header in '
             f'clear: type {rtype} (application data), version 0x{ver}'
             + (", epoch and sequence number" if dtls else "") + f", length {length}."]
    if nonce:
        parts.append(f'<span class="key" style="background:#334155"></span>{nonce} bytes of '
                     f'explicit nonce.')
    body = length - nonce - tag
    detail = ""
    if plain_len is not None:
        extra = body - plain_len
        word = "request" if c["transport"] == "tcp" else "message"
        detail = (f" = {plain_len} bytes of {word}"
                  + (" + 1 byte of content type" if k == "tls13" and extra == 1 else
                     (f" + {extra} bytes" if extra else "")))
    parts.append(f'<span class="key" style="background:#a78bfa"></span>{body} bytes of '
                 f'ciphertext{detail}.')
    if tag:
        parts.append(f'<span class="key" style="background:#6d28d9"></span>{tag} bytes of '
                     f'authentication tag.')
    return " ".join(parts)


def side_by_side(c, caps, marker):
    rb = c.get("request_bytes")
    if not rb:
        return ""
    b = bytes.fromhex(rb["hex"])
    if not c["encrypted"]:
        where = ""
        if marker and marker.encode() in b:
            i = b.index(marker.encode())
            where = (f" The marker is bytes {i}–{i + len(marker) - 1}, highlighted: anyone "
                     f"on the path reads it.")
        return ('<h3>The request on the wire</h3><div class="sbs single"><div class="panel">'
                f'<h4>{e(c["name"])}: the {"TCP" if c["transport"] == "tcp" else "UDP"} payload '
                f'of frame {rb["frame"]}, {len(b)} bytes</h4>'
                + hexdump(b, marked(b, marker))
                + f'<p>The bytes exactly as the program wrote them.{e(where)}</p></div></div>')
    # The plaintext: the counterpart's request, or this record decrypted.
    p = caps.get(c.get("plaintext_counterpart") or "", {}).get("request_bytes")
    if p:
        left_title = (f'{e(caps[c["plaintext_counterpart"]]["name"])}: the same request in '
                      f'plaintext (frame {p["frame"]})')
        pb = bytes.fromhex(p["hex"])
    elif rb.get("plaintext_hex"):
        left_title = "the record's content, decrypted with the key log"
        pb = bytes.fromhex(rb["plaintext_hex"])
    else:
        pb = None
    classes, hl, nonce, tag = record_parts(b, c)
    own_len = len(rb["plaintext_hex"]) // 2 if rb.get("plaintext_hex") else None
    right = ('<div class="panel">'
             f'<h4>{e(c["name"])}: the record that carried it (frame {rb["frame"]}, '
             f'{len(b)} bytes)</h4>' + hexdump(b, classes)
             + f'<p>{record_caption(b, c, hl, nonce, tag, own_len)} '
             + ("The marker is in there, but no byte of it can be found." if marker else
                "Not one byte of the request can be read in it.") + '</p></div>')
    if pb is None:
        return '<h3>The request on the wire</h3><div class="sbs single">' + right + "</div>"
    find, what = (marker, "The marker") if marker and marker.encode() in pb else \
        (user_agent(pb), "The User-Agent")
    left = ('<div class="panel">' f'<h4>{left_title}, {len(pb)} bytes</h4>'
            + hexdump(pb, marked(pb, find))
            + "<p>" + (f"{what}, highlighted, reads in clear." if find else
                       "What the record carries.") + "</p></div>")
    return ('<h3>The same request: plaintext and ciphertext</h3><div class="sbs">'
            + left + right + "</div>")


# ---- the page

def observer_table(c, report):
    out = ['<h3>What an observer sees</h3><table class="observer"><thead><tr><th>item</th>'
           '<th>on the wire</th><th></th><th>why</th></tr></thead><tbody>']
    for r in obs.rows(c, report):
        if r["seen"] is None:
            seen = '<span class="enc-word">encrypted</span>'
        elif "\n" in r["seen"]:
            items = r["seen"].split("\n")
            seen = f'<span class="list">{e(chr(10).join(items[:LIST_SHOWN]))}</span>'
            if len(items) > LIST_SHOWN + 2:
                # Folded on screen; on paper the whole list.
                seen = (f'<span class="list">{e(chr(10).join(items[:LIST_SHOWN]))}</span>'
                        f'<details><summary>and {len(items) - LIST_SHOWN} more</summary>'
                        f'<span class="list">{e(chr(10).join(items[LIST_SHOWN:]))}</span>'
                        '</details><span class="list print-only">'
                        f'{e(chr(10).join(items[LIST_SHOWN:]))}</span>')
            else:
                seen = f'<span class="list">{e(chr(10).join(items))}</span>'
        else:
            seen = rich(r["seen"])
        if r["decrypted"]:
            seen += f'<span class="dec">with the key log: {rich(r["decrypted"])}</span>'
        out.append(f'<tr><td>{e(r["what"])}</td><td>{seen}</td><td>{badge(r["state"])}</td>'
                   f'<td>{rich(r["why"])}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def overview(report):
    caps = report["captures"]
    order = list(caps)
    wanted = ["Marker", "User-Agent", "SNI", "Certificate", "Round trips before data",
              "Bytes and frames"]
    names = {"Round trips before data": "Round trips before data",
             "Bytes and frames": "Bytes on the wire"}
    table = {m: {r["what"]: r for r in obs.rows(caps[m], report)} for m in order}
    out = ['<table class="overview"><thead><tr><th></th>'
           + "".join(f'<th><a href="#{e(m)}">{e(caps[m]["name"])}</a></th>' for m in order)
           + "</tr></thead><tbody>"]
    for w in wanted:
        if not any(w in table[m] for m in order):
            continue
        out.append(f"<tr><td>{e(names.get(w, w))}</td>")
        for m in order:
            r = table[m].get(w)
            c = caps[m]
            if r is None:
                out.append('<td>—</td>')
            elif w.startswith("Round trips"):
                n = c["ladder"]["round_trips_before_first_app_byte"]
                out.append(f'<td><span class="num">{e("—" if n is None else n)}</span><br>'
                           f'{e(obs.ms(c["ladder"]["time_to_first_app_byte_ms"]))}</td>')
            elif w == "Bytes and frames":
                o = c.get("overhead")
                out.append(f'<td><span class="num">{c["bytes"]} B</span><br>'
                           f'{c["frames"]} frames'
                           + (f', ×{o["bytes_ratio"]}' if o else "") + "</td>")
            else:
                out.append(f"<td>{badge(r['state'])}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def what_changes(report):
    """TLS 1.3, its post-quantum key share and ECH side by side; the modes
    this build does not have, one line each."""
    modes, rows = keyex.comparison(report)
    missing = keyex.not_on_this_build(report)
    if not rows and not missing:
        return ""
    caps = report["captures"]
    out = ['<section class="card variants" id="what-changes"><h2>What changes on the wire: '
           'TLS 1.3, post-quantum, ECH</h2>']
    if rows:
        out.append('<p class="lede">The same TLS 1.3 exchange with a classical key share, '
                   'with the hybrid post-quantum one, and with Encrypted Client Hello: what '
                   'an observer reads in each (what differs from TLS 1.3 highlighted).</p>')
    else:
        out.append('<p class="lede">The same TLS 1.3 exchange with the hybrid post-quantum '
                   'key share and with Encrypted Client Hello needs a newer OpenSSL than '
                   'this build has:</p>')
    if missing:
        out.append('<ul class="missing">' + "".join(f"<li>{e(x)}</li>" for x in missing)
                   + "</ul>")
    if rows:
        out.append('<table class="changes"><thead><tr><th></th>'
                   + "".join(f'<th><a href="#{e(m)}">{e(caps[m]["title"])}</a></th>'
                             for m in modes) + "</tr></thead><tbody>")
        for what, values in rows:
            cells = "".join(f'<td class="{"diff" if i and x != values[0] else ""}">{e(x)}</td>'
                            for i, x in enumerate(values))
            out.append(f"<tr><td>{e(what)}</td>{cells}</tr>")
        out.append("</tbody></table>")
        note = keyex.naming_note(report, modes)
        if note:
            out.append(f'<p class="note">{e(note)}</p>')
    out.append("</section>")
    return "".join(out)


def mode_section(c, report):
    lad = c["ladder"]
    n = lad["round_trips_before_first_app_byte"]
    pill = '<span class="pill enc">encrypted</span>' if c["encrypted"] else \
        '<span class="pill plain">plaintext</span>'
    lede = (f'<b>{c["frames"]} frames, {c["bytes"]} B</b> on the wire'
            + (f' for <b>{c["app_bytes"]} B</b> of application data'
               if c.get("app_bytes") is not None else "")
            + (f' · first application byte after <b>{obs.plural(n, "round trip")}</b> '
               f'({e(obs.ms(lad["time_to_first_app_byte_ms"]))})' if n is not None else ""))
    if lad["streams"] > 1:
        lede += f" · {lad['streams']} connections"
    if c["encrypted"] and not lad["decrypted"]:
        lede += " · not decrypted: labels are what tshark reads without the keys"
    cmd = ""
    if c.get("command"):
        cmd = f'<p class="lede">Command: <code>{e(shlex.join(c["command"]))}</code></p>'
    return (f'<section class="card mode" id="{e(c["mode"])}">'
            f'<div class="mode-head"><h2>{e(c["title"])}</h2>{pill}</div>'
            f'<p class="lede">{lede}</p>{cmd}'
            f'<div class="ladder">{ladder_svg(c)}</div>{LEGEND}'
            + observer_table(c, report)
            + side_by_side(c, report["captures"], report.get("marker"))
            + "</section>")


def render(report):
    caps = report["captures"]
    own = report.get("captured_by") == "pcap"
    where = "by the program itself (--pcap, no root)" if own else "on the loopback interface"
    if report.get("kind") == "exchange":
        c = caps["exchange"]
        sub = (f"One exchange with port {e(c['port'])}, captured {where} and "
               f"dissected by tshark {e(report['tshark_version'])}.")
    else:
        tls = ["TCP"] + [caps[m]["name"] for m in ("tls12", "tls13", "tls13-pq", "tls13-ech")
                         if m in caps]
        sub = (f"The same HTTP request over {e(', '.join(tls[:-1]))} and {e(tls[-1])}, and "
               f"the same datagram over "
               f"UDP and DTLS 1.2, captured "
               f"{'by the client itself (--pcap, no root)' if own else 'on loopback'} "
               f"and dissected by tshark "
               f"{e(report['tshark_version'])}. Marker "
               f"<code>{e(report['marker'])}</code>, server certificate "
               f"<code>CN={e(report['certificate_name'])}</code>.")
    first = ('<section class="card first"><h2>Look at this first</h2><ol>'
             + "".join(f"<li>{rich(s)}</li>" for s in obs.summary(report)) + "</ol>"
             + (overview(report) if len(caps) > 1 else "")
             + "<nav>" + "".join(f'<a href="#{e(m)}">{e(c["name"])}</a>'
                                 for m, c in caps.items()) + "</nav></section>")
    cmds = []
    for c in caps.values():
        cmds.append(f"# {c['title']}")
        cmds += [c["commands"][k] for k in ("tshark", "tshark_with_keylog",
                                            "tshark_with_embedded_secrets", "wireshark",
                                            "wireshark_with_keylog",
                                            "wireshark_with_embedded_secrets")
                 if k in c["commands"]]
    tail = ('<section class="card"><h2>See it yourself</h2>'
            '<p>The captures, key logs and this report are in '
            f'<code>{e(report["out_dir"])}</code>; the same facts are in report.md and '
            'report.json.</p>'
            f'<pre class="cmds">{e(chr(10).join(cmds))}</pre></section>')
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>What the wire shows</title>"
            f"<style>{CSS}</style></head><body><main>"
            f"<h1>What the wire shows</h1><p class=\"sub\">{sub}</p>"
            + first
            + what_changes(report)
            + "".join(mode_section(c, report) for c in caps.values())
            + tail
            + "<footer>Generated by scripts/capture-compare.sh from report.json.</footer>"
            + "</main></body></html>\n")


def main():
    with open(sys.argv[1]) as f:
        sys.stdout.write(render(json.load(f)))


if __name__ == "__main__":
    main()
