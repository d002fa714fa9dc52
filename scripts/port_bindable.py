"""Exits 0 if 127.0.0.1:PORT can be bound now, as Apache binds it (with
SO_REUSEADDR), else 1; for scripts/apache.sh.

    python3 scripts/port_bindable.py PORT
"""

import socket
import sys


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        return 1
    finally:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
