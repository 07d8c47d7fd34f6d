"""The stand-in keeps one idea per file: one module per Microsoft API (and one for an API's
consent and role writes), every route answered by its own API's modules (file and function
sizes: tests/test_structure.py)."""

from __future__ import annotations

from standin.emulator.apis import ROUTES
from standin.emulator.routing import api_of

API_MODULES = {
    "login": ("standin.emulator.apis.login",),
    "pc": ("standin.emulator.apis.partner_center", "standin.emulator.apis.pc_consent"),
    "insights": ("standin.emulator.apis.insights",),
    "graph": ("standin.emulator.apis.graph", "standin.emulator.apis.graph_consent"),
    "arm": ("standin.emulator.apis.arm", "standin.emulator.apis.role_assignments"),
    "download": ("standin.emulator.apis.downloads",),
}

# One path each route pattern answers, to check that its path belongs to its API.
SAMPLE_PATHS = {
    "openid_configuration": "/t/v2.0/.well-known/openid-configuration",
    "device_code": "/t/oauth2/v2.0/devicecode",
    "device_login_page": "/devicelogin",
    "token": "/t/oauth2/v2.0/token",
    "authorize": "/t/oauth2/v2.0/authorize",
    "pc_customers": "/v1/customers",
    "pc_customer_get": "/v1/customers/c",
    "pc_subscriptions": "/v1/customers/c/subscriptions",
    "pc_usage_records": "/v1/customers/c/subscriptions/usagerecords",
    "pc_licence_usage": "/v1/customers/c/analytics/licenses/usage",
    "pc_audit_records": "/v1/auditrecords",
    "pc_application_consent": "/v1/customers/c/applicationconsents",
    "insights_datasets": "/insights/v1/mpn/ScheduledDataset",
    "insights_queries": "/insights/v1/mpn/ScheduledQueries",
    "insights_test_query": "/insights/v1/mpn/ScheduledQueries/testQueryResult",
    "insights_report": "/insights/v1/mpn/ScheduledReport",
    "insights_execution": "/insights/v1/mpn/ScheduledReport/execution/r",
    "graph_contracts": "/v1.0/contracts",
    "graph_gdap": "/v1.0/tenantRelationships/delegatedAdminRelationships",
    "graph_access_assignments": (
        "/v1.0/tenantRelationships/delegatedAdminRelationships/r/accessAssignments"
    ),
    "graph_subscribed_skus": "/v1.0/subscribedSkus",
    "graph_directory_subscriptions": "/v1.0/directory/subscriptions",
    "graph_service_principals": "/v1.0/servicePrincipals",
    "graph_application": "/v1.0/applications(appId='a')",
    "graph_report": "/v1.0/reports/getOffice365ServicesUserCounts(period='D7')",
    "service_principal_by_app": "/v1.0/servicePrincipals(appId='a')",
    "app_role_assignments": "/v1.0/servicePrincipals(appId='a')/appRoleAssignments",
    "graph_app_role_assignments": "/v1.0/servicePrincipals/s/appRoleAssignments",
    "graph_app_role_assigned_to": "/v1.0/servicePrincipals/s/appRoleAssignedTo",
    "arm_subscriptions": "/subscriptions",
    "arm_subscription": "/subscriptions/s",
    "arm_pal": "/providers/Microsoft.ManagementPartner/partners",
    "arm_pal_by_id": "/providers/Microsoft.ManagementPartner/partners/4100002",
    "arm_role_assignment": ("/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/r"),
    "download": "/_downloads/x",
}


def test_every_route_is_answered_by_its_own_apis_module() -> None:
    assert {route.api for route in ROUTES} == set(API_MODULES)
    for route in ROUTES:
        assert route.handler.__module__ in API_MODULES[route.api], route.handler.__name__


def test_every_route_pattern_serves_a_path_of_its_own_api() -> None:
    names = [route.handler.__name__ for route in ROUTES]
    assert sorted(names) == sorted(SAMPLE_PATHS)
    for route in ROUTES:
        path = SAMPLE_PATHS[route.handler.__name__]
        assert route.pattern.match(path), (route.handler.__name__, path)
        assert api_of(path) == route.api, (route.handler.__name__, path)
    first = {
        path: next(r for r in ROUTES if r.pattern.match(path)) for path in SAMPLE_PATHS.values()
    }
    assert {p: r.handler.__name__ for p, r in first.items()} == {
        p: n for n, p in SAMPLE_PATHS.items()
    }
