"""The report of scripts/bench.sh: medians, ratios, goals (report.md,
report.csv) and the chart's data and gnuplot script (ratios.dat, ratios.gp,
which gnuplot turns into report.png).

    python3 scripts/bench_report.py RAW_TSV META OUT_DIR

RAW_TSV holds one repetition's result a line (ITEM KEY METRIC VALUE, tab
separated); META one KEY=VALUE a line about the run (machine, versions,
parameters).
"""

import csv
import statistics
import sys
from collections import defaultdict

raw_path, meta_path, out = sys.argv[1:4]
meta = {}
for line in open(meta_path):
    k, _, v = line.rstrip("\n").partition("=")
    meta[k] = v
vals = defaultdict(list)
for line in open(raw_path):
    item, key, metric, value = line.rstrip("\n").split("\t")
    vals[(key, metric)].append(float(value))

# (key, metric, measurement, program, unit, better, compared with)
HS = "1 TLS 1.3 handshakes (full)"
CPU = "1 server CPU per handshake"
BEFORE = " (before: %s)" % meta["baseline"]
HS_MAIN = meta["hs_label"]  # tcp-server as run for the main row
HS_PROGRAMS = [
    ("hs.tcp-server", HS_MAIN),
    # effect rows: one option changed from the main row
    ("hs.tcp-server-tickets2", "tcp-server --tls --tickets 2 (the default)"),
    ("hs.tcp-server-1thread", HS_MAIN + " --accept-threads 1"),
    # --trace-cost: the trace hooks compiled out, and -v asked for
    ("hs.tcp-server-nohooks", HS_MAIN + " (trace hooks compiled out)"),
    ("hs.tcp-server-v", HS_MAIN + " -v (to /dev/null)"),
    ("hs.tcp-server-before", meta["baseline_hs_label"] + BEFORE),
    ("hs.nginx-1w", "nginx, 1 worker"),
    ("hs.nginx-2w", "nginx, 2 workers"),
    ("hs.s_server", "openssl s_server -www"),
]
ROWS = []
for metric, M, unit, better in (("rate", HS, "handshakes/s", "high"),
                                ("cpu", CPU, "µs CPU/handshake", "low")):
    ROWS += [(k, metric, M, p, unit, better, None if k == "hs.tcp-server" else "hs.tcp-server")
             for k, p in HS_PROGRAMS]
BULK_TLS = "2 bulk, TLS"
BULK_TCP = "2 bulk, plaintext"
ROWS += [
    ("bulk.secsock-tls", "mbps", BULK_TLS,
     "tcp-client --send-file → tcp-server --sink", "MB/s", "high", None),
    ("bulk.secsock-tls-nohooks", "mbps", BULK_TLS,
     "the same, trace hooks compiled out", "MB/s", "high", "bulk.secsock-tls"),
    ("bulk.secsock-tls-v", "mbps", BULK_TLS,
     "the same, both with -v (to /dev/null)", "MB/s", "high", "bulk.secsock-tls"),
    ("bulk.socat-tls", "mbps", BULK_TLS,
     "socat OPENSSL → OPENSSL-LISTEN → /dev/null", "MB/s", "high", "bulk.secsock-tls"),
    ("bulk.ncat-tls", "mbps", BULK_TLS,
     "ncat --ssl --send-only → ncat --ssl -l", "MB/s", "high", "bulk.secsock-tls"),
    ("bulk.speed-aes-128-gcm", "mbps", BULK_TLS,
     "limit: openssl speed aes-128-gcm, 16 KiB, 1 core", "MB/s", "high", "bulk.secsock-tls"),
    ("bulk.speed-aes-256-gcm", "mbps", BULK_TLS,
     "limit: openssl speed aes-256-gcm, 16 KiB, 1 core", "MB/s", "high", "bulk.secsock-tls"),
    ("bulk.speed-sha256", "mbps", BULK_TLS,
     "limit: openssl speed sha256 (--sink hashes every byte)", "MB/s", "high",
     "bulk.secsock-tls"),
    ("bulk.secsock-tcp", "mbps", BULK_TCP,
     "tcp-client --send-file → tcp-server --sink", "MB/s", "high", None),
    ("bulk.socat-tcp", "mbps", BULK_TCP,
     "socat TCP → TCP-LISTEN → /dev/null", "MB/s", "high", "bulk.secsock-tcp"),
    ("bulk.ncat-tcp", "mbps", BULK_TCP,
     "ncat --send-only → ncat -l", "MB/s", "high", "bulk.secsock-tcp"),
]
idle_counts = sorted({int(k[4:].split(".")[0]) for k, m in vals if k.startswith("idle")})
for n in idle_counts:
    M = "3 idle TLS connections: %d" % n
    ours, nginx = "idle%d.tcp-server" % n, "idle%d.nginx-1w" % n
    RSS = "KiB RSS/connection"
    ROWS += [
        (ours, "rss", M, "tcp-server --tls", RSS, "low", None),
        (nginx, "rss", M, "nginx, 1 worker", RSS, "low", ours),
        (ours, "open", M + ", opened at", "tcp-server --tls", "connections/s", "high", None),
        (nginx, "open", M + ", opened at", "nginx, 1 worker", "connections/s", "high", ours),
        (ours, "replies", M + ", then a request on each", "tcp-server --tls --http",
         "replies", "high", None),
        (nginx, "replies", M + ", then a request on each", "nginx, 1 worker",
         "replies", "high", ours),
    ]
ROWS += [
    ("udp.udp-server", "rate", "4 UDP round trips",
     "udp-client --count → udp-server --echo", "round trips/s", "high", None),
    ("udp.socat-udp", "rate", "4 UDP round trips",
     "udp-client --count → socat UDP-LISTEN PIPE", "round trips/s", "high", "udp.udp-server"),
    ("udp.udp-server-dtls", "rate", "4 DTLS 1.2 round trips",
     "udp-client --dtls --count → udp-server --dtls --echo", "round trips/s", "high", None),
    ("udp.socat-dtls", "rate", "4 DTLS 1.2 round trips",
     "udp-client --dtls --count → socat OPENSSL-DTLS-SERVER PIPE", "round trips/s", "high",
     "udp.udp-server-dtls"),
    ("udp.udp-server", "rtt", "4 UDP median round trip",
     "udp-server --echo", "µs", "low", None),
    ("udp.socat-udp", "rtt", "4 UDP median round trip",
     "socat UDP-LISTEN PIPE", "µs", "low", "udp.udp-server"),
    ("udp.udp-server-dtls", "rtt", "4 DTLS median round trip",
     "udp-server --dtls --echo", "µs", "low", "udp.udp-server-dtls"),
    ("udp.socat-dtls", "rtt", "4 DTLS median round trip",
     "socat OPENSSL-DTLS-SERVER PIPE", "µs", "low", "udp.udp-server-dtls"),
    ("client.tcp-client", "ms", "5 HTTPS GET from Apache2, whole process",
     "tcp-client --tls", "ms", "low", None),
    ("client.curl", "ms", "5 HTTPS GET from Apache2, whole process",
     "curl", "ms", "low", "client.tcp-client"),
]
# The DTLS RTT of udp-server is a reference row, not compared with itself.
ROWS = [r if not (r[0] == "udp.udp-server-dtls" and r[1] == "rtt") else r[:6] + (None,)
        for r in ROWS]
# --baseline: the commit's programs, right after the project's row of each
# group (measurement 1 has its own, above), compared with it.
with_before = []
for r in ROWS:
    with_before.append(r)
    b = r[0] + "-before"
    if r[6] is None and (b, r[1]) in vals and not any(x[0] == b for x in ROWS):
        with_before.append((b, r[1], r[2], r[3] + BEFORE, r[4], r[5], r[0]))
ROWS = with_before


def med(key, metric):
    v = vals.get((key, metric))
    return statistics.median(v) if v else None


def fmt(x):
    if x is None:
        return "—"
    a = abs(x)
    if a >= 100:
        return "{:,.0f}".format(x)
    if a >= 10:
        return "%.1f" % x
    return "%.2f" % x


def ratio(row):
    key, metric, _, _, _, better, ref = row
    if ref is None:
        return None
    a, b = med(ref, metric), med(key, metric)
    if a is None or b is None or a == 0 or b == 0:
        return None
    return a / b if better == "high" else b / a


present = [r for r in ROWS if (r[0], r[1]) in vals]

# CSV
with open(out + "/report.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["item", "measurement", "program", "metric", "unit", "better",
                "median", "min", "max", "runs", "compared_with", "ratio"])
    for r in present:
        v = vals[(r[0], r[1])]
        rt = ratio(r)
        w.writerow([r[2].split()[0], r[2], r[3], r[1], r[4], r[5] + "er",
                    "%.3f" % statistics.median(v), "%.3f" % min(v), "%.3f" % max(v), len(v),
                    r[6] or "", "" if rt is None else "%.3f" % rt])

# Goals
goals = []


def goal(text, ok, detail):
    goals.append((text, "not measured" if ok is None else ("PASS" if ok else "FAIL"), detail))


c_t, c_n1, c_n2 = med("hs.tcp-server", "cpu"), med("hs.nginx-1w", "cpu"), med("hs.nginx-2w", "cpu")
if None in (c_t, c_n1):
    goal("tcp-server spends no more CPU per handshake than nginx", None, "")
else:
    # Strict: the default (one admission thread per CPU) against nginx's
    # cheapest, 1 worker; the like-for-like pairs are in the detail.
    c_1 = med("hs.tcp-server-1thread", "cpu")
    goal("tcp-server spends no more CPU per handshake than nginx", c_t <= c_n1,
         "%s µs (%s) vs nginx 1 worker %s µs; like for like: a thread per CPU %s vs "
         "2 workers %s µs, 1 thread %s vs 1 worker %s µs" % (
             fmt(c_t), HS_MAIN, fmt(c_n1), fmt(c_t), fmt(c_n2), fmt(c_1), fmt(c_n1)))
r_t = med("hs.tcp-server", "rate")
r_n = [x for x in (med("hs.nginx-1w", "rate"), med("hs.nginx-2w", "rate")) if x is not None]
if r_t is None or not r_n:
    goal("tcp-server reaches at least nginx's handshake rate", None, "")
else:
    goal("tcp-server reaches at least nginx's handshake rate", r_t >= max(r_n),
         "%s/s (%s) vs nginx's best %s/s (1 worker %s, 2 workers %s)" % (
             fmt(r_t), HS_MAIN, fmt(max(r_n)), fmt(med("hs.nginx-1w", "rate")),
             fmt(med("hs.nginx-2w", "rate"))))
b_t, b_s = med("bulk.secsock-tls", "mbps"), med("bulk.socat-tls", "mbps")
if None in (b_t, b_s):
    goal("TLS bulk throughput at least twice socat's", None, "")
else:
    goal("TLS bulk throughput at least twice socat's", b_t >= 2 * b_s,
         "%s MB/s vs 2 × %s MB/s = %s MB/s (×%.2f)" % (
             fmt(b_t), fmt(b_s), fmt(2 * b_s), b_t / b_s))
if not idle_counts:
    goal("at most 32 KiB per idle TLS connection, every held connection answered", None, "")
for n in idle_counts:
    rss, rep = med("idle%d.tcp-server" % n, "rss"), med("idle%d.tcp-server" % n, "replies")
    goal("at most 32 KiB per idle TLS connection at %d, every one answered" % n,
         rss is not None and rss <= 32 and rep == n,
         "%s KiB per connection (nginx: %s KiB); %d of %d replies" % (
             fmt(rss), fmt(med("idle%d.nginx-1w" % n, "rss")), rep or 0, n))
m_t, m_c = med("client.tcp-client", "ms"), med("client.curl", "ms")
if None in (m_t, m_c):
    goal("tcp-client no slower than curl", None, "")
else:
    goal("tcp-client no slower than curl", m_t <= m_c,
         "%s ms vs curl %s ms (median of %d runs)" % (
             fmt(m_t), fmt(m_c), len(vals[("client.tcp-client", "ms")])))

# Markdown
L = []
L.append("# secsock benchmarks")
L.append("")
L.append("%s, %s mode, %s s. Machine: %s, %s cores, %s GiB RAM, Linux %s, %s. "
         "Load average %s before, %s after (other work on the machine shares the cores)." % (
             meta["date"], meta["mode"], meta["duration_s"], meta["cpu"], meta["cores"],
             meta["mem_gib"], meta["kernel"], meta["openssl"], meta["load_before"],
             meta["load_after"]))
L.append("")
L.append("Every server uses the same ECDSA P-256 certificate and every program the same "
         "OpenSSL; all on 127.0.0.1. Programs: %s; tcp-client ↔ tcp-server negotiate %s. "
         "Peers: nginx %s, socat %s, ncat %s, %s, %s, %s." % (
             meta["build"], meta["negotiated"] or "?", meta["nginx"], meta["socat"],
             meta["ncat"], meta["curl"], meta["apache"], meta["hyperfine"] or "no hyperfine"))
L.append("")
L.append("Median of the runs; **secsock ÷ this** compares the project's program in the same "
         "group with that row: above 1 the project is better (faster, or less CPU, memory or "
         "time), below 1 it is behind; for a `limit:` row it is the fraction of the limit "
         "reached.")
L.append("")
L.append("| measurement | program | median | unit | runs | secsock ÷ this |")
L.append("|---|---|---:|---|---:|---:|")
for r in present:
    v = vals[(r[0], r[1])]
    rt = ratio(r)
    L.append("| %s | %s | %s | %s | %d | %s |" % (
        r[2], r[3], fmt(statistics.median(v)), r[4], len(v),
        "" if rt is None else "%.2f" % rt))
L.append("")
L.append("## Goals")
L.append("")
L.append("| goal | result | numbers |")
L.append("|---|---|---|")
for text, res, detail in goals:
    shown = "**%s**" % res if res != "not measured" else res
    L.append("| %s | %s | %s |" % (text, shown, detail))
L.append("")
L.append("## How")
L.append("")
if meta["hs_tickets"] == "1":
    hs_main_note = (
        "The main tcp-server row runs `%s`: no session tickets and no session cache, as nginx "
        "here (the goals compare it); `--tickets 2 (the default)` shows what the tickets "
        "cost" % HS_MAIN)
else:
    hs_main_note = ("tcp-server (no --tickets option in this build) sends its default TLS 1.3 "
                    "session tickets")
if meta["hs_threads"] == "1":
    hs_threads_note = (
        " `--accept-threads 1`: one admission thread accepting and running every handshake "
        "(the default: one per online CPU, %s here)." % meta["cores"])
else:
    hs_threads_note = ""
notes = [
    "1: %s `openssl s_time -connect 127.0.0.1:PORT -new -tls1_3 -time %s` processes at once, "
    "%s repetitions interleaved across the servers; handshakes/s = all their connections ÷ the "
    "wall time; CPU = utime+stime from /proc/PID/stat of the server and its worker processes, "
    "before and after, ÷ handshakes. nginx: a private configuration, "
    "`ssl_session_cache off; ssl_session_tickets off;`. s_time sends nothing after the "
    "handshake. %s; s_server sends its default 2 TLS 1.3 session tickets, nginx none.%s" % (
        meta["hs_procs"], meta["hs_time"], meta["hs_reps"], hs_main_note, hs_threads_note),
    "2: %s MiB of fixed pseudo-random bytes from a file in the page cache, %s repetitions; "
    "MB = 10^6 bytes; the time runs from the client's start until the reply (tcp-server --sink: "
    "byte count and SHA-256, checked) or until both socat or ncat processes have exited. "
    "tcp-server --sink hashes every byte with SHA-256, socat and ncat write to /dev/null (ncat's "
    "server reports its client's missing close_notify as an error at the end; such a run counts "
    "once the client has sent everything). "
    "`openssl speed -evp ALG -bytes 16384 -seconds %s` runs on one core; the suite tcp-client and "
    "tcp-server negotiate: %s." % (
        meta["bulk_mib"], meta["bulk_reps"], meta["speed_seconds"], meta["negotiated"] or "?"),
    "3: %s connections held open by two python3 (ssl) processes: TCP and TLS handshake done, "
    "nothing sent (nginx: worker_connections N + N/8 + 256, as it closes idle connections when "
    "fewer than 1/16 are free); opened at = N ÷ the time to open them all (two processes, one "
    "handshake at a time each); RSS = VmRSS of the server (nginx: master and worker) with them "
    "held minus before, ÷ N. tcp-server keeps such clients in its non-blocking admission loop, "
    "without a thread. Then every connection sends `GET / HTTP/1.0` and the `HTTP/1.1 200` "
    "replies are counted." % meta["idle_counts"].replace(" ", " and "),
    "4: `udp-client --count %s` with a 64-byte message, %s repetitions; round trips/s = replies "
    "÷ the client's wall time (DTLS handshake included). socat %s supports DTLS "
    "(OPENSSL-DTLS-SERVER); its UDP-LISTEN and DTLS server serve one peer, which is all the "
    "test needs." % (meta["udp_count"], meta["udp_reps"], meta["socat"]),
    "5: `tcp-client --tls --cafile CA -o /dev/null 127.0.0.1 PORT` and "
    "`curl -sSf -o /dev/null --cacert CA https://127.0.0.1:PORT/` against the private Apache2 of "
    "scripts/apache.sh (index.html), %s runs each, timed by %s." % (
        meta["client_runs"], meta["client_tool"] or "-"),
]
if meta["baseline"]:
    notes.append(
        "(before: %s): the programs of commit %s (%s), built (Release) from `git archive` in "
        "%s, run as the project's row of the group with the same options, except those its "
        "--help does not list (measurement 1: `%s`); in 2 and 4 its own client too. The ratio "
        "column of such a row is the effect of the changes since that commit." % (
            meta["baseline"], meta["baseline"], meta["baseline_subject"], meta["baseline_dir"],
            meta["baseline_hs_label"]))
failed = [(k, m) for (k, m) in vals if m == "failed"]
if failed:
    notes.append(
        "Failed runs, not counted in the medians: " + "; ".join(
            "%s %d (exit status %s)" % (k, len(vals[(k, m)]),
                                        ", ".join("%d" % v for v in vals[(k, m)]))
            for k, m in failed)
        + ". A failed ncat --ssl run is one where its server saw the connection reset before "
        "the end of the stream (`SSL_read error`; under strace, ECONNRESET with the last few MB "
        "never received): the --send-only client closes without reading what the server sent, "
        "presumably the TLS 1.3 session tickets.")
lost = [(k, m) for (k, m) in vals if m == "lost" and sum(vals[(k, m)]) > 0]
if lost:
    notes.append("Lost datagrams: "
                 + ", ".join("%s %d" % (k, sum(vals[(k, m)])) for k, m in lost) + ".")
for n in notes:
    L.append("- " + n)
L.append("")
L.append("The chart report.png shows the secsock ÷ this column (log scale; 1 = par).")
open(out + "/report.md", "w").write("\n".join(L) + "\n")

# Chart data: one bar per compared row.
PEER = {"nginx-1w": "nginx 1 worker", "nginx-2w": "nginx 2 workers", "s_server": "s_server",
        "tcp-server-tickets2": "--tickets 2", "tcp-server-1thread": "--accept-threads 1",
        "socat-tls": "socat", "ncat-tls": "ncat", "speed-aes-128-gcm": "AES-128-GCM limit",
        "speed-aes-256-gcm": "AES-256-GCM limit", "speed-sha256": "SHA-256 limit",
        "socat-tcp": "socat", "ncat-tcp": "ncat", "socat-udp": "socat", "socat-dtls": "socat",
        "curl": "curl"}


def chart_label(r):
    key, metric = r[0], r[1]
    group, _, peer = key.partition(".")
    before = peer.endswith("-before")
    if before:
        peer = peer[:-len("-before")]
    what = {("hs", "rate"): "handshakes/s", ("hs", "cpu"): "CPU/handshake",
            ("udp", "rate"): "DTLS round trips/s" if "dtls" in peer else "UDP round trips/s",
            ("udp", "rtt"): "DTLS RTT" if "dtls" in peer else "UDP RTT",
            ("client", "ms"): "HTTPS fetch time"}.get((group, metric))
    if group == "bulk":
        what = "plaintext MB/s" if peer.endswith("-tcp") else "TLS MB/s"
    if group.startswith("idle"):
        what = ("RSS/conn at %s" if metric == "rss" else "opening rate at %s") % group[4:]
    return "%s vs %s" % (what, "before " + meta["baseline"] if before else PEER.get(peer, peer))


with open(out + "/ratios.dat", "w") as f:
    for r in present:
        rt = ratio(r)
        if rt is None or r[1] == "replies":
            continue
        f.write('"%s" %.4f\n' % (chart_label(r).replace('"', "'"), rt))
with open(out + "/ratios.gp", "w") as f:
    f.write('''set terminal pngcairo size 1200,700 noenhanced font ",9"
set output "%s/report.png"
set title "secsock vs each peer (above 1: secsock better) - %s, %s cores, %s"
set style fill solid 0.6
set boxwidth 0.7
set logscale y 2
set yrange [*:*]
set grid ytics
set xtics rotate by -35 left
set bmargin 11
set rmargin 8
set ylabel "secsock / peer (better-is-higher)"
plot "%s/ratios.dat" using 0:2:xtic(1) with boxes notitle, \\
     "" using 0:2:(sprintf("%%.2f", $2)) with labels offset 0,0.7 notitle, \\
     1 with lines lw 2 notitle
''' % (out, meta["date"], meta["cores"], meta["openssl"].split("(")[0].strip(), out))
