"""The TCP programs' two modes, "plain" and "tls", as tests parametrize
them: what each side is given, and what tcp-server answers by default."""


def reply_of(mode):
    """tcp-server's default reply in each mode."""
    return "tcp-server over TLS is working" if mode == "tls" else "tcp-server over TCP is working"


def server_tls_args(pki, mode, name="server"):
    """tcp-server's options for mode, serving pki's named certificate."""
    return ["--tls"] + pki.server_args(name) if mode == "tls" else []


def client_tls_args(pki, mode):
    """tcp-client's options for mode, trusting pki's CA."""
    return ["--tls", "--cafile", pki.ca] if mode == "tls" else []
