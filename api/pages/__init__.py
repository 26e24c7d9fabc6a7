"""HTML pages (redemption, sign-in, sign-up, My Access, approvals, campaigns): the browser edge,
beside the Graph-shaped routers in api/routers/. Pages never import routers, nor each other."""
