"""Writes of the loop, one module per job; see docs/architecture.md for who may call what."""
