"""Real peers as providers with one interface (s2n-tls's integrationv2
shape): each module holds one implementation's client and/or server.
See base.py for the interface."""
