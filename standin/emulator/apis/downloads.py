"""Pre-authenticated downloads (a Graph report's redirect, an insight report's file): no
``Authorization`` header, a short-lived link, and a body cut short when a fault asked for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from standin.emulator.routing import Call, RouteTable
from standin.emulator.wire import Reply

if TYPE_CHECKING:
    from standin.emulator.service import Service

ROUTES: RouteTable[Service] = RouteTable("download")


@ROUTES.route(r"^/_downloads/(?P<token>[^/]+)$")
def download(svc: Service, call: Call) -> Reply:
    item = svc.downloads.get(call.params["token"])
    if item is None:
        return Reply(
            403,
            b"AuthenticationFailed: the link has expired or is not valid.",
            content_type="text/plain; charset=utf-8",
        )
    reply = Reply(200, item.content, content_type=item.content_type)
    if item.cut:
        reply.action = "cut"
    return reply
