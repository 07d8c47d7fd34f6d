"""The hostile names: one row per trick a stranger can play with a name Microsoft hands on,
and a world whose customers, domains, offers, subscriptions, licences and GDAP relationships
carry them."""

from __future__ import annotations

from typing import Any

from tests.conftest import T0
from tests.worlds import customer, world_dict

HOSTILE: dict[str, str] = {
    "markup_close": "Contoso [/] Ltd",
    "markup_style": "[bold red]Fabrikam[/]",
    "markup_link": "[link=http://evil.example]Northwind[/link]",
    "emoji_code": "Tailspin :warning: Toys",
    "csi": "Wide\x1b[2J\x1b[31mWorld",
    "osc8": "\x1b]8;;http://evil.example\x1b\\click me\x1b]8;;\x1b\\",
    "c1": "Adatum\x9b31m\x85Corp",
    "formula": '=HYPERLINK("http://evil.example","x")',
    "plus": "+1 Solutions",
    "minus": "-2 Holdings",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1 Tab",
    "cr": "\r=1+1 Return",
    "md_link": "[click](http://evil.example)",
    "md_image": "![](http://evil.example/p.png)",
    "slack_channel": "<!channel> Alpine",
    "slack_here": "<!here> <@U123ABC> Dairy",
    "slack_link": "<http://evil.example|click here>",
    "html_script": "<script>alert(1)</script>",
    "html_img": '<img src=x onerror="alert(1)">',
    "crlf": "Line\r\nBcc: victim@example.com\r\nSubject: pwned",
    "rtl": "Invoice\u202egnp.exe",
    "zero_width": "Pay\u200bPal\u200d",
    "long": "Long " * 400,  # 2,000 characters
}
"""Name → what a customer calls itself."""


def tenant(i: int) -> str:
    return f"c{i:07d}-0000-4000-8000-{i:012d}"


def subscription(i: int) -> str:
    return f"5{i:07d}-0000-4000-8000-{i:012d}"


def hostile_customer(i: int, name: str, pal: str | None = None) -> dict[str, Any]:
    """A customer whose every name is ``name``: its PAL is missing (a ``link_missing``), or
    names the global partner ID (a ``wrong_partner_id``), and its GDAP relationship ends in 20
    days without auto-extend (a ``gdap_expiring``)."""
    sub = subscription(i)
    return customer(
        tenant(i),
        sub,
        pal=pal,
        name=name,
        domain=name,
        csp_subscriptions=[
            {"id": sub.replace("5", "e", 1), "offer_name": name, "offer_id": "CFQ7TTC0LH18"}
        ],
        gdap=[
            {
                "id": f"{tenant(i)}-rel",
                "display_name": name,
                "status": "active",
                "ends": "+20d",
                "auto_extend_duration": "PT0S",
                "roles": ["729827e3-9c14-49f7-bb1b-9608f156bbb8"],
            }
        ],
        azure_subscriptions=[{"subscription_id": sub, "display_name": name, "acr_usd": 1000.0}],
        licences=[
            {
                "sku_id": f"0000000{i % 10}-0000-4000-8000-00000000000{i % 10}",
                "sku_part_number": name,
                "subscription_id": f"d{i:07d}-0000-4000-8000-{i:012d}",
                "enabled_units": 10,
                "consumed_units": 5,
            }
        ],
    )


SINGLE = "crlf"
"""The one customer whose finding is alone of its rule: its alert names it in the subject."""


def world(names: dict[str, str] = HOSTILE) -> dict[str, Any]:
    """The scenario document: one customer per name."""
    data = world_dict(
        *(
            hostile_customer(i, name, pal="4100001" if key == SINGLE else None)
            for i, (key, name) in enumerate(names.items(), start=1)
        )
    )
    data["partner"]["name"] = HOSTILE["markup_style"]
    data["now"] = T0.isoformat()  # relative times ("+20d") count from the tests' clock
    return data


def benign() -> dict[str, str]:
    """The same world with harmless names: what must be found either way."""
    return {key: f"Customer {i}" for i, key in enumerate(HOSTILE, start=1)}
