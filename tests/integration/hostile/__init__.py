"""Peers that misbehave on purpose (hostile clients and servers, hordes,
flooders) and stand-ins, each a module runnable as a script:
python3 -m hostile.NAME ... (from tests/integration), or imported."""
