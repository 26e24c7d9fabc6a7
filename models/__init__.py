"""The directory: SQLModel tables (one module per area) and the enums they share with workflows.

Workflows import only `models.enums` (plain Python); table models never cross a workflow or
activity boundary.
"""
