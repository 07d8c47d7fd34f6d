"""Routes filed by the first path segment they spell out match as the whole table does, and an
access token's remembered signature never outlives its lifetime."""

from __future__ import annotations

import time

import pytest

from standin.emulator.apis import ROUTES
from standin.emulator.authority import TokenAuthority
from standin.emulator.routing import RouteIndex, first_segments
from standin.emulator.tokens import TokenInvalid

GRAPH = "https://graph.microsoft.com"

PATHS = [
    "/v1/customers",
    "/V1/CUSTOMERS/c1/subscriptions",
    "/v1/oauth2/token",  # a tenant named like Partner Center's first segment
    "/v1.0/oauth2/v2.0/token",
    "/subscriptions/.well-known/openid-configuration",
    "/v1.0/contracts",
    "/BETA/tenantRelationships/delegatedAdminRelationships/r1/accessAssignments",
    "/v1.0/servicePrincipals(appId='a1')/appRoleAssignments",
    "/subscriptions",
    "/subscriptions\n",  # ``$`` matches before a final line break
    "/devicelogin\n",
    "/\u017fubscriptions",  # LATIN SMALL LETTER LONG S: "s" when case is ignored
    "/\u212a/oauth2/token",  # KELVIN SIGN
    "/providers/Microsoft.ManagementPartner/partners/1234567",
    "/subscriptions/s1/providers/Microsoft.Authorization/roleAssignments/n1",
    "/insights/v1/mpn/ScheduledReport/execution/r1",
    "/_downloads/abc",
    "/tenant/v2.0/.well-known/openid-configuration",
    "/devicelogin",
    "//v1/customers",
    "/nothing/here",
    "/",
    "",
    "relative/path",
]


@pytest.mark.parametrize("path", PATHS)
def test_the_index_offers_every_route_that_matches_in_table_order(path: str) -> None:
    matching = [r for r in ROUTES if r.pattern.match(path)]
    offered = [r for r in RouteIndex(ROUTES).candidates(path) if r.pattern.match(path)]
    assert offered == matching


def test_first_segments_are_read_only_where_the_pattern_spells_them_out() -> None:
    assert first_segments(r"^/v1/customers$") == frozenset({"v1"})
    assert first_segments(r"^/(?:v1\.0|beta)/contracts$") == frozenset({"v1.0", "beta"})
    assert first_segments(r"^/devicelogin$") == frozenset({"devicelogin"})
    assert first_segments(r"^/(?P<tenant>[^/]+)/oauth2/token$") is None
    assert first_segments(r"^/applications\(x\)$") is None
    assert first_segments(r"^/v1[0-9]/x$") is None


def test_a_token_checked_before_is_refused_once_its_lifetime_is_over() -> None:
    authority = TokenAuthority()
    token = authority.access_token(
        tenant_id="t1", app_id="a1", audience=GRAPH, object_id="o1", lifetime=1
    )
    principal = authority.check(token, audiences=(GRAPH,))
    assert principal.tenant_id == "t1"
    with pytest.raises(TokenInvalid) as refused:
        authority.check(token, audiences=("https://management.azure.com",))
    assert refused.value.reason == "audience"
    while time.time() < int(principal.claims["exp"]):
        time.sleep(0.05)
    with pytest.raises(TokenInvalid) as expired:
        authority.check(token, audiences=(GRAPH,))
    assert expired.value.reason == "expired"


def test_a_token_of_another_key_is_refused_however_often_it_comes() -> None:
    other = TokenAuthority().access_token(
        tenant_id="t1", app_id="a1", audience=GRAPH, object_id="o1"
    )
    authority = TokenAuthority()
    for _ in range(2):
        with pytest.raises(TokenInvalid) as refused:
            authority.check(other, audiences=(GRAPH,))
        assert refused.value.reason == "invalid"


def test_a_token_forgotten_is_checked_in_full_again() -> None:
    authority = TokenAuthority(remembered=2)
    tokens = [
        authority.access_token(tenant_id=f"t{i}", app_id="a1", audience=GRAPH, object_id="o1")
        for i in range(3)
    ]
    assert [authority.check(t, audiences=(GRAPH,)).tenant_id for t in tokens] == ["t0", "t1", "t2"]
    forged = tokens[0][:-4] + ("AAAA" if not tokens[0].endswith("AAAA") else "BBBB")
    with pytest.raises(TokenInvalid) as refused:
        authority.check(forged, audiences=(GRAPH,))
    assert refused.value.reason == "invalid"
