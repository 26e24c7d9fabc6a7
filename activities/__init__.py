"""Temporal activities: every side effect (database writes, mail, callouts). Each is safe to retry."""
