"""The starter side of each process (samples-python's `starter.py`): start, update-with-start,
signal and query its workflows, retry past a run that is closing, and turn what a workflow or
its activities refused into `foyer.errors.Refused`. Used by the API, by activities that start
workflows (campaigns), by bench and by tests; it imports no web code."""
