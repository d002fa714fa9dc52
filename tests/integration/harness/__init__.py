"""Support for the integration suite: processes, waits, the test PKI.

Tests use it through conftest.py's fixtures (server, start, run, pki);
the modules are importable for the peers and hostile clients too.
"""
