"""The scenario's faults as the emulator injects them: the same semantics as the fake."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from connectors.records.scope import Source
from connectors.sources import source_row
from standin.emulator import Emulator
from tests.emulator.conftest import MakeEmulator
from tests.emulator.support import (
    APP_ID,
    ARM,
    C1,
    CARRIER,
    CARRIER_ID,
    CARRIER_SECRET,
    GRAPH,
    PARTNER,
    PC,
    SECRET,
    app_token,
    bearer,
    client,
    many_customers,
    world,
)


def _with(*faults: dict[str, Any], **top: Any) -> dict[str, Any]:
    return world(faults=list(faults), **top)


def _serve(make_emulator: MakeEmulator, *faults: dict[str, Any], **top: Any) -> Emulator:
    return make_emulator(_with(*faults, **top))


def test_a_status_fault_answers_once_in_the_api_shape_with_retry_after(
    make_emulator: MakeEmulator,
) -> None:
    emulator = _serve(
        make_emulator,
        {"source": "partner_center.customers", "status": 503, "retry_after": 2, "times": 1},
    )
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, PARTNER, PC))
        first = http.get("/v1/customers", headers=headers)
        assert first.status_code == 503
        assert set(first.json()) == {"code", "description", "data", "source"}
        assert first.headers["Retry-After"] == "2"
        assert http.get("/v1/customers", headers=headers).status_code == 200
    assert emulator.info()["faults_fired"] == 1


def test_a_page_fault_hits_only_that_page(make_emulator: MakeEmulator) -> None:
    size = source_row(Source.PC_CUSTOMERS).page_size
    emulator = _serve(
        make_emulator,
        {"source": "partner_center.customers", "call": "page:2", "status": 500},
        customers=many_customers(size + 1),
    )
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, PARTNER, PC))
        first = http.get("/v1/customers", headers=headers).json()
        following = first["links"]["next"]
        extra = {h["key"]: h["value"] for h in following["headers"]}
        second = http.get(f"/v1{following['uri']}", headers={**headers, **extra})
        assert second.status_code == 500


def test_a_throttling_fault_uses_graphs_429_shape(make_emulator: MakeEmulator) -> None:
    emulator = _serve(
        make_emulator,
        {"source": "graph.subscribed_skus", "scope": C1, "status": 429, "retry_after": 1.5},
    )
    with client(emulator.base_url, emulator.ca_path) as http:
        answer = http.get("/v1.0/subscribedSkus", headers=bearer(app_token(http, C1, GRAPH)))
        assert answer.status_code == 429
        assert answer.json()["error"]["code"] == "TooManyRequests"
        assert answer.headers["Retry-After"] == "1.500"
        partner = http.get("/v1.0/subscribedSkus", headers=bearer(app_token(http, PARTNER, GRAPH)))
        assert partner.status_code == 200  # another scope


def test_a_timeout_fault_hangs_up_without_answering(make_emulator: MakeEmulator) -> None:
    emulator = _serve(
        make_emulator,
        {"source": "graph.contracts", "kind": "timeout", "times": 1},
    )
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, PARTNER, GRAPH))
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            http.get("/v1.0/contracts", headers=headers)
        assert http.get("/v1.0/contracts", headers=headers).status_code == 200


def test_a_held_timeout_outlasts_the_clients_read_timeout(make_emulator: MakeEmulator) -> None:
    emulator = make_emulator(
        _with({"source": "graph.contracts", "kind": "timeout", "times": 1}), timeout_hold=1.0
    )
    with client(emulator.base_url, emulator.ca_path, timeout=httpx.Timeout(5, read=0.2)) as http:
        headers = bearer(app_token(http, PARTNER, GRAPH))
        with pytest.raises(httpx.ReadTimeout):
            http.get("/v1.0/contracts", headers=headers)


def test_a_malformed_fault_is_a_200_that_is_not_json(make_emulator: MakeEmulator) -> None:
    emulator = _serve(make_emulator, {"source": "arm.subscriptions", "kind": "malformed"})
    with client(emulator.base_url, emulator.ca_path) as http:
        answer = http.get(
            "/subscriptions?api-version=2022-12-01", headers=bearer(app_token(http, C1, ARM))
        )
        assert answer.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            answer.json()


def test_truncated_partner_center_listing_reports_more_than_it_serves(
    make_emulator: MakeEmulator,
) -> None:
    emulator = _serve(make_emulator, {"source": "partner_center.customers", "kind": "truncated"})
    with client(emulator.base_url, emulator.ca_path) as http:
        body = http.get("/v1/customers", headers=bearer(app_token(http, PARTNER, PC))).json()
        assert "next" not in body["links"]
        assert body["totalCount"] > len(body["items"])


def test_truncated_graph_listing_shows_in_odata_count(make_emulator: MakeEmulator) -> None:
    emulator = _serve(make_emulator, {"source": "graph.gdap", "kind": "truncated"})
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, PARTNER, GRAPH))
        body = http.get(
            "/v1.0/tenantRelationships/delegatedAdminRelationships?$count=true", headers=headers
        ).json()
        assert "@odata.nextLink" not in body
        assert body["@odata.count"] > len(body["value"])


def test_truncated_arm_listing_leads_to_an_expired_skip_token(
    make_emulator: MakeEmulator,
) -> None:
    emulator = _serve(
        make_emulator, {"source": "arm.subscriptions", "kind": "truncated", "times": 1}
    )
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, C1, ARM))
        body = http.get("/subscriptions?api-version=2022-12-01", headers=headers).json()
        expired = http.get(body["nextLink"], headers=headers)
        assert expired.status_code == 400
        assert expired.json()["error"]["code"] == "InvalidSkipToken"


def test_a_truncated_single_object_is_cut_short_on_the_wire(make_emulator: MakeEmulator) -> None:
    emulator = _serve(make_emulator, {"source": "arm.pal", "kind": "truncated", "times": 1})
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, C1, ARM))
        url = "/providers/Microsoft.ManagementPartner/partners?api-version=2018-02-01"
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(url, headers=headers)
        assert http.get(url, headers=headers).status_code == 200


def test_pal_faults_can_target_one_identity(make_emulator: MakeEmulator) -> None:
    emulator = _serve(make_emulator, {"source": "arm.pal", "identity": CARRIER, "status": 503})
    url = "/providers/Microsoft.ManagementPartner/partners?api-version=2018-02-01"
    with client(emulator.base_url, emulator.ca_path) as http:
        carrier = bearer(app_token(http, C1, ARM, client_id=CARRIER_ID, secret=CARRIER_SECRET))
        assert http.get(url, headers=carrier).status_code == 503
        assert http.get(url, headers=bearer(app_token(http, C1, ARM))).status_code == 200


def test_a_login_fault_refuses_the_token_like_the_fake(make_emulator: MakeEmulator) -> None:
    emulator = _serve(
        make_emulator, {"source": "login", "scope": C1, "call": "token", "status": 401, "times": 1}
    )
    form = {
        "grant_type": "client_credentials",
        "client_id": APP_ID,
        "client_secret": SECRET,
        "scope": f"{GRAPH}/.default",
    }
    with client(emulator.base_url, emulator.ca_path) as http:
        refused = http.post(f"/{C1}/oauth2/v2.0/token", data=form)
        assert refused.status_code == 401
        assert refused.json()["error_codes"] == [7000215]
        assert http.post(f"/{PARTNER}/oauth2/v2.0/token", data=form).status_code == 200
        assert http.post(f"/{C1}/oauth2/v2.0/token", data=form).status_code == 200


def test_a_source_header_attributes_the_call_to_another_source(
    make_emulator: MakeEmulator,
) -> None:
    emulator = _serve(make_emulator, {"source": "arm.subscriptions", "scope": C1, "status": 503})
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, C1, ARM))
        url = "/subscriptions?api-version=2022-12-01"
        assert http.get(url, headers=headers).status_code == 503
        as_pal = http.get(url, headers={**headers, "X-Partnerlink-Source": "arm.pal"})
        assert as_pal.status_code == 200


@pytest.mark.parametrize("kind", ["timeout", "malformed", "truncated"])
def test_login_faults_of_every_kind_misbehave_once(make_emulator: MakeEmulator, kind: str) -> None:
    emulator = _serve(make_emulator, {"source": "login", "call": "token", "kind": kind, "times": 1})
    form = {
        "grant_type": "client_credentials",
        "client_id": APP_ID,
        "client_secret": SECRET,
        "scope": f"{GRAPH}/.default",
    }
    with client(emulator.base_url, emulator.ca_path) as http:
        if kind == "malformed":
            with pytest.raises(json.JSONDecodeError):
                http.post(f"/{PARTNER}/oauth2/v2.0/token", data=form).json()
        else:
            with pytest.raises(httpx.TransportError):
                http.post(f"/{PARTNER}/oauth2/v2.0/token", data=form)
        assert http.post(f"/{PARTNER}/oauth2/v2.0/token", data=form).status_code == 200
