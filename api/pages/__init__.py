"""HTML pages (redemption, sign-in, sign-up, My Access, approvals, campaigns, the dev mail viewer):
the browser edge, beside the Graph-shaped routers in api/routers/. Pages never import routers, nor
each other, nor activities/: what they share is api/pages/deps.py (the signed-in user, CSRF,
rendering); they start and steer workflows through workflows/client/ and read or check the
database through foyer/usecases/."""
