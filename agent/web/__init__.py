"""The daemon's HTTP endpoint: ``/healthz``, ``/readyz``, ``/metrics`` (open, no customer data)
and the report at ``/`` (bearer token, or anonymous where the operator says so): the
closed-report promise of docs/guarantees.md.

One idea a module: ``config`` is ``[http]``, ``auth`` decides who may read the report, ``page``
holds the rendered report, ``app`` is the WSGI application, ``server`` runs it on waitress.
Nothing is imported here: ``agent.config`` imports ``agent.web.config`` alone.
"""
