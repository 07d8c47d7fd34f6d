"""``/findings`` and ``/findings/<id>``: the findings for those who may read, and the actions
on one finding for operators, through the service the command line uses (``agent.acting``).

An action is a POST from this page's own origin, carrying the session's CSRF token, by a
signed-in operator; anything else is refused before the store is touched (guarantee
signed-actions). Each one is stored
with who (the person's user principal name), when and why, which ``partnerlink explain`` and
the finding's page show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from urllib.parse import quote
from wsgiref.types import WSGIEnvironment

import structlog

from agent import cli_args
from agent.acting import act
from agent.audit.decisions import Act, Request
from agent.store.repository import Store
from agent.web.finding_view import finding_html
from agent.web.findings_view import PER_PAGE, STATUS_CHOICES, findings_html, statuses_of
from agent.web.gate import Gate, html, to_sign_in
from agent.web.layout import message
from agent.web.paths import finding_path
from agent.web.session import Session
from agent.web.wire import BadRequest, Response, form, query, same_origin, see_other

log = structlog.get_logger("partnerlink.web")


class FindingRoutes:
    def __init__(
        self,
        gate: Gate,
        store: Store,
        *,
        origin: str | None,
        rules: Sequence[str],
        clock: Callable[[], datetime],
    ) -> None:
        self.gate = gate
        self.store = store
        self.origin = origin
        self.rules = list(rules)
        self.clock = clock

    def listing(self, environ: WSGIEnvironment) -> Response:
        who, refused = self.gate.reader(environ)
        if refused is not None:
            return refused
        asked = query(environ)
        status = asked.get("status") or "active"
        status = status if status in STATUS_CHOICES else "active"
        rule = asked.get("rule") if asked.get("rule") in self.rules else None
        number = int(asked["page"]) if asked.get("page", "").isdigit() else 0
        rows, total = self.store.finding_list(
            statuses=statuses_of(status),
            rule=rule,
            offset=min(number, 10**6) * PER_PAGE,
            limit=PER_PAGE,
        )
        page = findings_html(
            rows,
            total=total,
            number=number,
            status=status,
            rule=rule,
            rules=self.rules,
            who=who,
            csrf=self.gate.csrf(who),
        )
        return html(200, page)

    def one(self, environ: WSGIEnvironment, fingerprint: str, error: str = "") -> Response:
        who, refused = self.gate.reader(environ)
        if refused is not None:
            return refused
        try:
            finding = self.store.finding(fingerprint)
        except LookupError as exc:  # an ambiguous prefix
            return html(404, message("No such finding", str(exc), who=who))
        if finding is None:
            return html(404, message("No such finding", "no finding has this id", who=who))
        events = self.store.finding_events(finding.fingerprint)
        done = query(environ).get("done")
        page = finding_html(
            finding, events, who=who, csrf=self.gate.csrf(who), done=done, error=error
        )
        return html(409 if error else 200, page)

    def act(self, environ: WSGIEnvironment, fingerprint: str) -> Response:
        """An operator's decision on a finding, posted from its page."""
        if not self.gate.signing_in or self.gate.sessions is None or self.origin is None:
            text = "acting on findings needs sign-in: set [http] public_url and [http.sign_in]"
            return html(403, message("Refused", text))
        if not same_origin(environ, self.origin):
            return html(403, message("Refused", "a request from another site was refused"))
        who = self.gate.session(environ)
        if who is None:
            return to_sign_in({"PATH_INFO": finding_path(fingerprint)})
        try:
            posted = form(environ)
        except BadRequest as exc:
            return html(400, message("Refused", str(exc), who=who))
        if not self.gate.sessions.csrf_ok(who, posted.get("csrf")):
            text = "the form is stale or forged (its CSRF token does not match): reload the page"
            return html(403, message("Refused", text, who=who))
        if not who.can_act:
            text = "viewers read the findings; acting on them needs the operator role"
            return html(403, message("Refused", text, who=who))
        return self._decide(environ, fingerprint, posted, who)

    def _decide(
        self, environ: WSGIEnvironment, fingerprint: str, posted: dict[str, str], who: Session
    ) -> Response:
        now, back = self.clock(), finding_path(fingerprint)
        if posted.get("act") not in set(Act):
            return html(400, message("Refused", "unknown action", who=who, link=back))
        wanted, until = Act(posted["act"]), None
        if wanted is Act.SNOOZE:
            try:
                until = cli_args.until(posted.get("until", ""), now)
            except ValueError as exc:  # a date that is not one, or past
                why = str(exc).removeprefix("--until: ")
                return html(400, message("Refused", why, who=who, link=back))
        request = Request(
            wanted,
            actor=who.who.upn,
            reason=posted.get("reason", ""),
            owner=posted.get("owner") or None,
            until=until,
        )
        try:
            done = act(self.store, fingerprint, request, now)
        except LookupError as exc:
            return html(404, message("No such finding", str(exc), who=who))
        except ValueError as exc:  # refused, or the finding moved in between
            return self.one(environ, fingerprint, error=str(exc))
        log.info("finding_decided", action=wanted.value, finding=done.fingerprint[:12])
        return see_other(f"{finding_path(done.fingerprint)}?done={quote(wanted.value)}")
