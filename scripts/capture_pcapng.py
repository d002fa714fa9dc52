"""The Decryption Secrets Blocks of a pcapng file (the key log that makes
it open decrypted): whether a file holds one, and a copy without them, for
the report's view of what an observer without the keys sees (editcap and
tshark 4.0 refuse to write such a file with --discard-all-secrets).

    python3 capture_pcapng.py has-secrets FILE        exit 0 if it has, 1 if not
    python3 capture_pcapng.py without-secrets SRC DST
"""

import sys

SHB = 0x0A0D0D0A   # Section Header Block: its byte-order magic sets the order
DSB = 0x0000000A   # Decryption Secrets Block


def blocks(data):
    """(type, bytes) of each block of a pcapng file; [] when it is not one."""
    out = []
    pos, order = 0, "little"
    while pos + 12 <= len(data):
        if int.from_bytes(data[pos:pos + 4], "little") == SHB:
            order = "little" if data[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else "big"
        elif not out:
            return []
        btype = int.from_bytes(data[pos:pos + 4], order)
        blen = int.from_bytes(data[pos + 4:pos + 8], order)
        if blen < 12 or blen % 4 or pos + blen > len(data):
            return out  # truncated or damaged: the blocks before it
        out.append((btype, data[pos:pos + blen]))
        pos += blen
    return out


def has_secrets(path):
    with open(path, "rb") as f:
        return any(t == DSB for t, _ in blocks(f.read()))


def without_secrets(src, dst):
    """Writes src to dst less its Decryption Secrets Blocks."""
    with open(src, "rb") as f:
        kept = [b for t, b in blocks(f.read()) if t != DSB]
    with open(dst, "wb") as f:
        f.write(b"".join(kept))


def main(argv):
    if len(argv) == 3 and argv[1] == "has-secrets":
        return 0 if has_secrets(argv[2]) else 1
    if len(argv) == 4 and argv[1] == "without-secrets":
        without_secrets(argv[2], argv[3])
        return 0
    print("usage: capture_pcapng.py has-secrets FILE | without-secrets SRC DST", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
