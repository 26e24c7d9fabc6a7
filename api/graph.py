"""What every Graph-shaped router shares: the router class that sends only what a handler set."""

from typing import Any

from fastapi import APIRouter


class GraphRouter(APIRouter):
    """An APIRouter whose routes serialize their response_model with exclude_unset: handlers
    return dicts, the declared shape (api/schemas/) documents and checks them, and a property the
    handler did not set ($select, optional properties) is left out rather than sent as null."""

    def add_api_route(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        kwargs["response_model_exclude_unset"] = True
        super().add_api_route(path, endpoint, **kwargs)
