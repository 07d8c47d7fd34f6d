"""The daemon's HTTP endpoint: ``/healthz``, ``/readyz``, ``/metrics`` (open, no customer data),
the report at ``/`` (bearer token, a signed-in person, or anonymous where the operator says so):
the closed-report promise of docs/guarantees.md; and the findings at ``/findings``, which
signed-in operators act on (``[http.sign_in]``: Entra ID sign-in).

One idea a module: ``config`` is ``[http]`` and ``sign_in_config`` its ``[http.sign_in]``;
``auth`` decides who holds the report's token; ``page`` holds the rendered report; ``app`` is
the WSGI application and ``server`` runs it on waitress; ``people`` puts the parts that deal
with people together: ``gate`` (who is asking), ``entra`` (the sign-in through MSAL),
``session`` (signed cookies, CSRF tokens), ``roles``, ``signin_routes`` and
``finding_routes`` (the handlers), ``layout``, ``findings_view`` and ``finding_view`` (the
pages), ``wire`` (requests and answers), ``paths`` (where things are, for the alerts too).
Nothing is imported here: ``agent.config`` imports ``agent.web.config`` alone.
"""
