"""The official Microsoft Graph SDK for Python (`msgraph-sdk`), unmodified, pointed at the test
server: what an Entra admin's script does, with Foyer's base URL instead of graph.microsoft.com.

The SDK asks an AccessTokenProvider for a bearer token per request; here it hands back a Foyer
API token (from the `make_token`/`admin` fixtures). Nothing in the SDK insists on https: its
default middleware (retry, redirect, telemetry, …) stays on, only the base URL and the allowed
hosts change.
"""

from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
from kiota_abstractions.authentication import (
    AccessTokenProvider, AllowedHostsValidator, BaseBearerTokenAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.graph_request_adapter import options as graph_default_options
from msgraph_core import GraphClientFactory


class FoyerTokenProvider(AccessTokenProvider):
    """Hands the SDK a Foyer API token, and only for the test server's host."""

    def __init__(self, headers: dict, host: str) -> None:
        scheme, _, token = headers["Authorization"].partition(" ")
        assert scheme == "Bearer" and token
        self._token = token
        self._hosts = AllowedHostsValidator([host])

    async def get_authorization_token(self, uri: str,
                                      additional_authentication_context: dict[str, Any] = {}) -> str:
        return self._token if self._hosts.is_url_host_valid(uri) else ""

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


@asynccontextmanager
async def graph_client(server: str, headers: dict):
    """A GraphServiceClient calling `{server}/v1.0` with the token in `headers`."""
    base_url = f"{server}/v1.0"
    auth = BaseBearerTokenAuthenticationProvider(FoyerTokenProvider(headers, urlsplit(server).hostname))
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        # The SDK's own middleware pipeline on an http client of ours (so it is closed after).
        client = GraphClientFactory.create_with_default_middleware(client=http, options=graph_default_options)
        adapter = GraphRequestAdapter(auth, client=client)
        adapter.base_url = base_url
        yield GraphServiceClient(request_adapter=adapter)

