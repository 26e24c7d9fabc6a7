"""Foyer's benchmark (`python -m bench`, `make bench`) and the history recorder for the replay test.

Nothing here imports Foyer modules at import time: settings are environment variables read once,
so each entry point sets them first (see `bench.env.configure`).
"""
