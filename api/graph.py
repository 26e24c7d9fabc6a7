"""What every Graph-shaped router shares, HTTP only: the router class that sends only what a
handler set, the entitlement-management prefix, $ref bodies and pre-built collection pages."""

from typing import Any, get_args

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from foyer.api.errors import bad_request
from foyer.api.odata import Page, collection, refuse_unknown_select, selected_names
from foyer.api.schemas import Collection


def shape_properties(model: Any) -> set[str] | None:
    """The property names (as sent) of a route's response shape — of its items, for a
    collection — or None when the route declares no shape."""
    if not isinstance(model, type) or not issubclass(model, BaseModel):
        return None
    if issubclass(model, Collection):
        (model,) = get_args(model.model_fields["value"].annotation)
    return {field.alias or name for name, field in model.model_fields.items()}


def _select_check(properties: set[str]):
    async def check_select(request: Request) -> None:
        # Against the declared shape, so an unknown name is refused even when the page is empty
        # (api.odata.select_fields can only check the rows it has).
        wanted = request.query_params.get("$select")
        if wanted:
            refuse_unknown_select(selected_names(wanted) - properties)
    return Depends(check_select)


class GraphRouter(APIRouter):
    """An APIRouter whose routes serialize their response_model with exclude_unset: handlers
    return dicts, the declared shape (api/schemas/) documents and checks them, and a property the
    handler did not set ($select, optional properties) is left out rather than sent as null.
    A GET's `$select` is checked against the declared shape before the handler runs."""

    def add_api_route(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        kwargs["response_model_exclude_unset"] = True
        properties = shape_properties(kwargs.get("response_model"))
        if properties is not None and "GET" in (kwargs.get("methods") or ()):
            kwargs["dependencies"] = [*(kwargs.get("dependencies") or ()), _select_check(properties)]
        super().add_api_route(path, endpoint, **kwargs)


# Graph v1.0's entitlement-management root, under which its routers serve.
ENTITLEMENT_PREFIX = "/v1.0/identityGovernance/entitlementManagement"


def reference_id(body: Any, collection_name: str) -> str:
    """The id in a $ref body {"@odata.id": "https://…/{collection_name}/{id}"}."""
    reference = body.get("@odata.id") if isinstance(body, dict) else None
    if not isinstance(reference, str) or not reference.strip():
        raise bad_request(f'the body must be {{"@odata.id": "https://…/{collection_name}/{{id}}"}}',
                          code="Request_BadRequest")
    extra = sorted(k for k in body if not k.startswith("@odata."))
    if extra:
        raise bad_request(f"unexpected properties in a $ref body: {', '.join(extra)}",
                          code="Request_BadRequest")
    parts = reference.strip().split("?", 1)[0].rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] not in (collection_name, "directoryObjects") or not parts[-1]:
        raise bad_request(f"'{reference}' is not a reference to an object of {collection_name}",
                          code="Request_BadRequest")
    return parts[-1]


def bound_ids(references: list[str], collection_name: str) -> list[str]:
    """The ids in Graph's `…@odata.bind` list ["https://…/{collection_name}/{id}", …]."""
    return [reference_id({"@odata.id": reference}, collection_name) for reference in references]


def listed(request: Request, page: Page, bodies: list[dict]) -> dict:
    """A collection page whose bodies were built for all its rows at once (one query for the
    users or packages they name, rather than one per row)."""
    rows = iter(bodies)
    return collection(request, page, lambda _: next(rows))
