"""Security regressions: one file per finding of the "Close the holes" issue, each a test that
failed before its fix. They run in `make test` with the rest of the suite, on both databases."""
