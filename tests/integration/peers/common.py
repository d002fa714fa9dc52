"""What the providers share: host:port spelling and the versions each
implementation can be forced to."""


def hostport(host, port):
    """host:port, with an IPv6 address in brackets ([::1]:443)."""
    host = str(host)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check(peer, protocol, version, versions):
    """Fails early on a protocol or version the peer cannot be made to
    speak, so a test does not run a command that means something else.
    versions maps each protocol to the versions that can be forced."""
    if protocol not in peer.protocols:
        raise ValueError(f"{peer.name} does not speak {protocol} (only {peer.protocols})")
    if version is not None and version not in versions.get(protocol, ()):
        raise ValueError(f"{peer.name} cannot force {protocol} {version} "
                         f"(only {versions.get(protocol, ())})")
