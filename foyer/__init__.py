"""Foyer's cross-cutting pieces: settings, database engine, security helpers, CLI and dev stack."""
