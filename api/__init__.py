"""The HTTP API (Graph-shaped, under /v1.0/) and the web pages. Thin: authenticate, authorize,
validate, then start / update a workflow or read and write the directory."""
