"""The NGSI-LD entity routes against a real kernel (SQLite file): create, retrieve, query, attribute
changes, deletion, and the errors' problem details."""

from __future__ import annotations

import time

import orjson
from fastapi.testclient import TestClient

from cityops.core.kernel import Kernel

BASE = "/ngsi-ld/v1"
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
CORE_LINK = '<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


def access_point(local: str, lon: float = 106.652, lat: float = 10.980, **extra: object) -> dict[str, object]:
    return {
        "id": f"urn:ngsi-ld:AccessPoint:{local}",
        "type": "AccessPoint",
        "name": {"type": "Property", "value": f"AP {local}"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        **extra,
    }


def now_iso(offset_s: float = 0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset_s))


def test_create_then_retrieve_normalized_and_key_values(client: TestClient) -> None:
    observed = now_iso(-60)
    body = access_point(
        "ngsi-1",
        floor={"type": "Property", "value": 3, "unitCode": "C62"},
        operator={"type": "Relationship", "object": "urn:ngsi-ld:Organization:vnpt"},
        activeUsers={"type": "Property", "value": 17, "observedAt": observed},
    )
    created = client.post(f"{BASE}/entities", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{BASE}/entities/urn:ngsi-ld:AccessPoint:ngsi-1"

    got = client.get(f"{BASE}/entities/urn:ngsi-ld:AccessPoint:ngsi-1")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("application/json")
    assert "json-ld#context" in got.headers["link"]
    entity = got.json()
    assert entity["type"] == "AccessPoint"
    assert entity["name"] == {"type": "Property", "value": "AP ngsi-1"}
    assert entity["location"]["value"] == {"type": "Point", "coordinates": [106.652, 10.98]}
    assert entity["floor"] == {"type": "Property", "value": 3, "unitCode": "C62"}
    assert entity["operator"] == {"type": "Relationship", "object": "urn:ngsi-ld:Organization:vnpt"}
    assert entity["activeUsers"]["value"] == 17
    assert entity["activeUsers"]["observedAt"] == observed.replace("Z", ".000Z")

    simple = client.get(
        f"{BASE}/entities/urn:ngsi-ld:AccessPoint:ngsi-1?options=keyValues&attrs=floor,operator"
    )
    assert simple.json() == {
        "id": "urn:ngsi-ld:AccessPoint:ngsi-1",
        "type": "AccessPoint",
        "floor": 3,
        "operator": "urn:ngsi-ld:Organization:vnpt",
    }


def test_the_metric_value_is_an_observation_in_the_store(client: TestClient, kernel: Kernel) -> None:
    client.post(f"{BASE}/entities", json=access_point("ngsi-2"))
    patch = {"activeUsers": {"type": "Property", "value": 41, "observedAt": now_iso(-5)}}
    assert (
        client.patch(f"{BASE}/entities/urn:ngsi-ld:AccessPoint:ngsi-2/attrs", json=patch).status_code == 207
    )
    appended = client.post(f"{BASE}/entities/urn:ngsi-ld:AccessPoint:ngsi-2/attrs", json=patch)
    assert appended.status_code == 204
    series = client.get(
        "/api/series", params={"entity": "urn:ngsi-ld:AccessPoint:ngsi-2", "metric": "activeUsers"}
    ).json()
    assert [bucket["last"] for bucket in series["series"]["activeUsers"]] == [41.0]


def test_ld_json_answers_carry_the_context_in_the_body(client: TestClient) -> None:
    client.post(f"{BASE}/entities", json=access_point("ngsi-3"))
    got = client.get(
        f"{BASE}/entities/urn:ngsi-ld:AccessPoint:ngsi-3", headers={"Accept": "application/ld+json"}
    )
    assert got.headers["content-type"].startswith("application/ld+json")
    assert "link" not in got.headers
    assert got.json()["@context"] == "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"


def test_a_context_in_the_body_maps_terms(client: TestClient) -> None:
    vocab = "https://uri.etsi.org/ngsi-ld/default-context/"
    body = {
        **access_point("ngsi-4"),
        "@context": [{"AP": f"{vocab}AccessPoint", "etage": f"{vocab}floor"}],
        "type": "AP",
        "etage": 5,
    }
    posted = client.post(
        f"{BASE}/entities", content=orjson.dumps(body), headers={"Content-Type": "application/ld+json"}
    )
    assert posted.status_code == 201, posted.text
    plain = client.get(f"{BASE}/entities/urn:ngsi-ld:AccessPoint:ngsi-4").json()
    assert plain["type"] == "AccessPoint"
    assert plain["floor"] == {"type": "Property", "value": 5}


def test_errors_are_problem_details(client: TestClient) -> None:
    missing = client.get(f"{BASE}/entities/urn:ngsi-ld:AccessPoint:nobody")
    assert missing.status_code == 404
    assert missing.json()["type"] == ERRORS + "ResourceNotFound"
    client.post(f"{BASE}/entities", json=access_point("ngsi-5"))
    again = client.post(f"{BASE}/entities", json=access_point("ngsi-5"))
    assert (again.status_code, again.json()["type"]) == (409, ERRORS + "AlreadyExists")
    wrong_type = client.post(f"{BASE}/entities", json={**access_point("ngsi-6"), "type": "Camera"})
    assert wrong_type.status_code == 400
    assert wrong_type.json()["type"] == ERRORS + "BadRequestData"
    assert "type" in wrong_type.json()["detail"]
    bad_q = client.get(f"{BASE}/entities", params={"type": "AccessPoint", "q": "floor=="})
    assert (bad_q.status_code, bad_q.json()["type"]) == (400, ERRORS + "BadRequestData")
    nothing = client.get(f"{BASE}/entities")
    assert nothing.status_code == 400
    remote = client.get(
        f"{BASE}/entities",
        params={"type": "AccessPoint"},
        headers={"Link": '<https://example.org/ctx.jsonld>; rel="http://www.w3.org/ns/json-ld#context"'},
    )
    assert (remote.status_code, remote.json()["type"]) == (503, ERRORS + "LdContextNotAvailable")


def test_query_by_type_q_attrs_count_and_pages(client: TestClient) -> None:
    for n in range(5):
        client.post(f"{BASE}/entities", json=access_point(f"q-{n}", floor=n))
    found = client.get(
        f"{BASE}/entities", params={"type": "AccessPoint", "q": "floor>=2;floor<4", "count": "true"}
    )
    assert found.status_code == 200
    assert [e["id"] for e in found.json()] == ["urn:ngsi-ld:AccessPoint:q-2", "urn:ngsi-ld:AccessPoint:q-3"]
    assert found.headers["NGSILD-Results-Count"] == "2"
    paged = client.get(
        f"{BASE}/entities",
        params={"idPattern": "^urn:ngsi-ld:AccessPoint:q-", "limit": 2, "offset": 2, "count": "true"},
    )
    assert [e["id"] for e in paged.json()] == ["urn:ngsi-ld:AccessPoint:q-2", "urn:ngsi-ld:AccessPoint:q-3"]
    assert paged.headers["NGSILD-Results-Count"] == "5"
    with_floor = client.get(
        f"{BASE}/entities", params={"attrs": "floor", "options": "keyValues", "limit": 100}
    )
    assert sorted(e["floor"] for e in with_floor.json()) == [0, 1, 2, 3, 4]


def test_geo_queries(client: TestClient) -> None:
    client.post(f"{BASE}/entities", json=access_point("geo-a", 106.650, 10.980))
    client.post(f"{BASE}/entities", json=access_point("geo-b", 106.660, 10.980))  # ~1.09 km east
    near = client.get(
        f"{BASE}/entities",
        params={
            "idPattern": "geo-",
            "georel": "near;maxDistance==500",
            "geometry": "Point",
            "coordinates": "[106.650,10.981]",
        },
    )
    assert [e["id"] for e in near.json()] == ["urn:ngsi-ld:AccessPoint:geo-a"]
    far = client.get(
        f"{BASE}/entities",
        params={
            "idPattern": "geo-",
            "georel": "near;minDistance==500",
            "geometry": "Point",
            "coordinates": "[106.650,10.981]",
        },
    )
    assert [e["id"] for e in far.json()] == ["urn:ngsi-ld:AccessPoint:geo-b"]
    box = "[[[106.655,10.97],[106.665,10.97],[106.665,10.99],[106.655,10.99],[106.655,10.97]]]"
    within = client.get(
        f"{BASE}/entities",
        params={"idPattern": "geo-", "georel": "within", "geometry": "Polygon", "coordinates": box},
    )
    assert [e["id"] for e in within.json()] == ["urn:ngsi-ld:AccessPoint:geo-b"]
    bad = client.get(
        f"{BASE}/entities",
        params={"type": "AccessPoint", "georel": "within", "geometry": "Polygon", "coordinates": "[1,2]"},
    )
    assert bad.status_code == 400


def test_update_append_replace_and_delete_attributes(client: TestClient) -> None:
    urn = "urn:ngsi-ld:AccessPoint:attrs-1"
    client.post(f"{BASE}/entities", json=access_point("attrs-1", floor=1))
    keep = client.post(f"{BASE}/entities/{urn}/attrs?options=noOverwrite", json={"floor": 9, "room": "A"})
    assert keep.status_code == 207
    assert keep.json()["updated"] == ["room"]
    assert keep.json()["notUpdated"][0]["attributeName"] == "floor"
    only_existing = client.patch(f"{BASE}/entities/{urn}/attrs", json={"floor": 2, "wing": "B"})
    assert only_existing.status_code == 207
    assert only_existing.json()["updated"] == ["floor"]
    assert client.patch(f"{BASE}/entities/{urn}/attrs/room", json={"value": "C"}).status_code == 204
    assert (
        client.put(f"{BASE}/entities/{urn}/attrs/floor", json={"type": "Property", "value": 7}).status_code
        == 204
    )
    renamed = client.patch(f"{BASE}/entities/{urn}/attrs/name", json={"value": "Điểm phát wifi"})
    assert renamed.status_code == 204
    entity = client.get(f"{BASE}/entities/{urn}?options=keyValues").json()
    assert (entity["floor"], entity["room"], entity["name"]) == (7, "C", "Điểm phát wifi")
    assert client.delete(f"{BASE}/entities/{urn}/attrs/room").status_code == 204
    assert client.delete(f"{BASE}/entities/{urn}/attrs/room").status_code == 404
    assert client.delete(f"{BASE}/entities/{urn}/attrs/name").status_code == 422
    assert "room" not in client.get(f"{BASE}/entities/{urn}").json()


def test_delete_entity_removes_its_series(client: TestClient, kernel: Kernel) -> None:
    urn = "urn:ngsi-ld:AccessPoint:gone-1"
    body = access_point("gone-1", activeUsers={"type": "Property", "value": 3, "observedAt": now_iso(-30)})
    client.post(f"{BASE}/entities", json=body)
    assert client.delete(f"{BASE}/entities/{urn}").status_code == 204
    assert client.get(f"{BASE}/entities/{urn}").status_code == 404
    assert client.delete(f"{BASE}/entities/{urn}").status_code == 404
    assert kernel.registry.resolve(urn) is None
    audit = client.get("/api/audit", params={"action": "entity.delete"}).json()
    assert any(entry["object"] == f"entity:{urn}" for entry in audit["items"])
    # the id can be used again
    assert client.post(f"{BASE}/entities", json=access_point("gone-1")).status_code == 201


def test_domain_entities_are_visible(client: TestClient) -> None:
    cameras = client.get(f"{BASE}/entities", params={"type": "Camera", "limit": 1000, "count": "true"})
    assert cameras.status_code == 200
    assert int(cameras.headers["NGSILD-Results-Count"]) == len(cameras.json()) > 0
    assert all(e["id"].startswith("urn:ngsi-ld:Camera:") for e in cameras.json())


def test_core_context_is_served_locally(client: TestClient) -> None:
    got = client.get(f"{BASE}/jsonldContexts/core")
    assert got.status_code == 200
    assert got.json()["@context"]["@vocab"] == "https://uri.etsi.org/ngsi-ld/default-context/"
    assert CORE_LINK
