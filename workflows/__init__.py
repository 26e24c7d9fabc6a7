"""Temporal workflows: one business process per module, each with one typed input."""
