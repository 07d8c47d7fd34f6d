"""Frozen records that cross the connector boundary: one small class per fact a source reports.

Connectors turn API payloads into these records and nothing else leaves a connector. Every record
has a ``KIND`` (its table discriminator in the store), a natural ``key`` that is unique within its
(source, scope), and the ``customer_tenant_id`` it belongs to (``None`` for partner-level facts).
Required fields fail loudly in the connector; optional ones are ``None``.

One module per domain (``customers``, ``gdap``, ``licences``, ``azure``, ``pal``,
``attribution``); ``scope`` names the sources and scopes, ``links`` the link kinds, ``record``
what every record offers and ``registry`` every kind. Nothing is re-exported here.
"""
