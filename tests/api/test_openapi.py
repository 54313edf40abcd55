"""The OpenAPI document: valid OpenAPI 3.1, public, and describing every API route."""

from __future__ import annotations

import re

from openapi_spec_validator import validate


def test_the_document_is_valid_openapi(client):
    response = client.get("/api/v1/openapi.json")  # no token needed
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    validate(document)


def test_every_api_route_is_documented(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item if method in {"get", "post", "put", "patch", "delete"}}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi_document":
            continue
        # Flask's /<int:x> becomes OpenAPI's /{x}.
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len("/api/v1"):])
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (path, method.lower()) not in documented:
                missing.append(f"{method} {path}")
    assert not missing, f"undocumented in lms/api/openapi.py: {missing}"


def test_every_documented_error_uses_the_envelope(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, method)
