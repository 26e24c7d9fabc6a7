# TEMPORARY STUB (not committed): the helper's module replaces it.
def authn_request_url(f, **kw): raise NotImplementedError
async def verified_identity(session, f, **kw): raise NotImplementedError
def sp_metadata_xml(o): return ""
