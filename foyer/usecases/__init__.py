"""Named database use cases: kw-only-ish async functions taking a session, called by routers,
pages, activities, bench and tests alike, so each rule is written once. They import no web code
and no Temporal code."""
