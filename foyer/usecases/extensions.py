"""Custom extensions, as the callback endpoint reads them."""

from sqlmodel import select

from foyer.models.entitlement import CustomExtension, CustomExtensionCall


async def find_call(session, request_id: str, instance_id: str) -> tuple[CustomExtensionCall, CustomExtension] | None:
    """The callout `instance_id` of the request and its extension (whose secrets sign the
    resume callback); None if the request made no such call."""
    call = (await session.exec(select(CustomExtensionCall).where(
        CustomExtensionCall.id == instance_id, CustomExtensionCall.request_id == request_id))).first()
    if call is None:
        return None
    return call, await session.get(CustomExtension, call.extension_id)
