"""What every live connector shares to talk to Microsoft, one idea per module.

``client`` makes the one HTTP client (TLS, pooled connections); ``request`` is one logical
request; ``requester`` sends it (tokens from ``tokens``, throttling at ``gate``, answers read
under a byte cap by ``body`` and made sense of by ``decode``, logs made safe by ``redact``,
every try told to an ``observer``); ``paging`` reads listings whole or not at all;
``connector`` is the live connectors' base and ``fields`` reads the fields of their payloads.
Nothing is re-exported here: each name is imported from the module that defines it.
"""
