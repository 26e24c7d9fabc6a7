"""Request and response shapes shared by routers: camelCase on the wire, as Graph spells it."""

from datetime import datetime, timezone
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

Item = TypeVar("Item", bound=BaseModel)


class GraphModel(BaseModel):
    """Graph request body: camelCase names, unknown properties refused, @odata.* annotations
    (which Graph SDKs add) ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_annotations(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not k.startswith("@odata.")}
        return data


def refuse_null(*fields: str, message: str = "may not be null"):
    """The validator of a PATCH body's optional properties that have no null: absent leaves the
    value as it is, an explicit null is refused (400). Use as `_present = refuse_null("a", "b")`."""

    def check(cls, value):
        if value is None:
            raise ValueError(message)
        return value

    return field_validator(*fields)(classmethod(check))


def utc(value: datetime, name: str) -> datetime:
    """An aware date and time in UTC. An offset that carries it below year 1 or past 9999 raises
    ValueError naming the property (a 400), not OverflowError (a 500)."""
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"{name} is out of range once converted to UTC (years 1 to 9999)") from None


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


class GraphResource(BaseModel):
    """A Graph response shape, declared so that /openapi.json describes every response.

    Every property is optional and routes send only what the handler set (GraphRouter turns on
    response_model_exclude_unset): `$select` returns a subset, and a null the handler set is still
    sent as null. An undeclared property is an error, not silently dropped: a handler that drifts
    from its declared shape fails its tests (a ResponseValidationError) instead of losing data."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    odata_context: str | None = Field(None, alias="@odata.context")
    odata_type: str | None = Field(None, alias="@odata.type")


class Collection(BaseModel, Generic[Item]):
    """A Graph collection: `value`, with `@odata.count` ($count=true) and `@odata.nextLink`."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    odata_context: str | None = Field(None, alias="@odata.context")
    odata_count: int | None = Field(None, alias="@odata.count")
    odata_next_link: str | None = Field(None, alias="@odata.nextLink")
    value: list[Item]
