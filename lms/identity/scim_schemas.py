"""SCIM discovery documents (RFC 7643 §5-7), built from scim2-models' schema definitions."""

from __future__ import annotations

from typing import Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    EnterpriseUser,
    ETag,
    Filter,
    Group,
    Meta,
    Patch,
    ResourceType,
    ServiceProviderConfig,
    Sort,
    User,
)

from lms.identity.scim import MAX_COUNT


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)  # type: ignore[no-any-return]


def service_provider_config(base: str) -> dict[str, Any]:
    """What Relais's SCIM server supports: PATCH and filters; no bulk, sort, ETags or passwords."""
    config = ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_COUNT),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken, name="Bearer token", primary=True,
            description="The organization's SCIM token, issued on its single sign-on page "
                        "or with `relais scim-token --org SLUG`.")],
        meta=Meta(resource_type="ServiceProviderConfig",
                  location=f"{base}/ServiceProviderConfig"),
    )
    return _dump(config)


def resource_types(base: str) -> list[dict[str, Any]]:
    """The User (with the enterprise extension) and Group resource types."""
    items = []
    for model in (User[EnterpriseUser], Group):
        resource_type = ResourceType.from_resource(model)
        resource_type.meta = Meta(resource_type="ResourceType",
                                  location=f"{base}/ResourceTypes/{resource_type.id}")
        items.append(_dump(resource_type))
    return items


def schemas(base: str) -> list[dict[str, Any]]:
    """The User, enterprise User and Group schemas."""
    items = []
    for model in (User, EnterpriseUser, Group):
        schema = model.to_schema()
        schema.meta = Meta(resource_type="Schema", location=f"{base}/Schemas/{schema.id}")
        items.append(_dump(schema))
    return items
