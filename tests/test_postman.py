"""`/postman.json`: a Postman Collection v2.1 of the three APIs, made from the OpenAPI document.

The collection validates against the v2.1 JSON schema (vendored in
tests/schemas: CI cannot reach the schema's address), has a request for
every OpenAPI operation, and works as shipped: every request, with the
collection's variables filled in, succeeds against a populated server.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from answerdesk.api.openapi import build_collection, document
from tests.factories import Desk
from tests.openapi_support import populate

SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "postman-collection-v2.1.json").read_text()
)
BASE = "http://answerdesk.test"


def _collection() -> dict[str, Any]:
    return build_collection(document(), base_url=BASE)


def _requests(collection: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(folder, item) for every request, folders one level deep as generated."""
    return [(folder, item) for folder in collection["item"] for item in folder["item"]]


def test_collection_validates_against_the_v2_1_schema() -> None:
    Draft7Validator.check_schema(SCHEMA)
    errors = sorted(Draft7Validator(SCHEMA).iter_errors(_collection()), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    assert _collection()["info"]["schema"].endswith("/v2.1.0/collection.json")


def test_every_operation_has_a_request() -> None:
    operations = {
        (method.upper(), re.sub(r"\{(\w+)\}", r":\1", path))
        for path, item in document()["paths"].items()
        for method in item
    }
    requests = [
        (item["request"]["method"], "/" + "/".join(item["request"]["url"]["path"]))
        for _folder, item in _requests(_collection())
    ]
    assert sorted(requests) == sorted(operations)


def test_variables_folders_and_auth() -> None:
    collection = _collection()
    variables = {variable["key"]: variable["value"] for variable in collection["variable"]}
    assert variables == {"baseUrl": BASE, "email": "", "token": "", "agentToken": ""}
    folders = {folder["name"]: folder for folder in collection["item"]}
    assert list(folders) == [tag["name"] for tag in document()["tags"]]
    for version in ("v1", "v2"):
        folder = folders[f"Messages API {version}"]
        assert folder["auth"] == {"type": "noauth"}
        for item in folder["item"]:
            headers = {h["key"]: h["value"] for h in item["request"]["header"]}
            assert headers["X-API-EMAIL"] == "{{email}}"
            assert headers["X-API-TOKEN"] == "{{token}}"
    for name, variable in (("Text Messages API (Sell)", "token"), ("Agent API", "agentToken")):
        token = {"key": "token", "value": f"{{{{{variable}}}}}", "type": "string"}
        assert folders[name]["auth"] == {"type": "bearer", "bearer": [token]}
    assert folders["Health"]["auth"] == {"type": "noauth"}


def test_example_parameters_are_off_until_switched_on() -> None:
    for _folder, item in _requests(_collection()):
        url = item["request"]["url"]
        assert url["raw"].startswith("{{baseUrl}}/")
        assert "?" not in url["raw"]
        for parameter in url.get("query", []):
            assert parameter["disabled"] is True, (url["raw"], parameter)
        for header in item["request"]["header"]:
            if header["key"] in ("X-Request-Id", "Idempotency-Key"):
                assert header["disabled"] is True


def test_served_collection_points_at_the_server(http: TestClient) -> None:
    response = http.get("/postman.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    collection = response.json()
    assert collection["variable"][0] == {
        "key": "baseUrl",
        "value": "http://testserver",
        "type": "string",
    }
    assert not list(Draft7Validator(SCHEMA).iter_errors(collection))


def _fill(text: str, variables: dict[str, str]) -> str:
    return re.sub(r"\{\{(\w+)\}\}", lambda match: variables[match.group(1)], text)


@pytest.mark.parametrize("index", range(len(_requests(_collection()))))
def test_every_request_works_as_shipped(
    http: TestClient, engine: Engine, desk: Desk, index: int
) -> None:
    world = populate(engine, desk)
    variables = {
        "baseUrl": "",
        "email": world.client.user.email,
        "token": world.client.token,
        "agentToken": world.agent.token,
    }
    folder, item = _requests(_collection())[index]
    request = item["request"]
    path = "/" + "/".join(request["url"]["path"])
    for variable in request["url"].get("variable", []):
        path = path.replace(f":{variable['key']}", variable["value"])
    headers = {
        h["key"]: _fill(h["value"], variables) for h in request["header"] if not h.get("disabled")
    }
    auth = folder["auth"]
    if auth["type"] == "bearer":
        headers["Authorization"] = "Bearer " + _fill(auth["bearer"][0]["value"], variables)
    body = request.get("body", {}).get("raw")
    response = http.request(
        request["method"], path, headers=headers, content=body.encode() if body else None
    )
    assert response.status_code < 300, (item["name"], response.status_code, response.text)
