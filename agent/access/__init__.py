"""Consent and access, planned then applied (``partnerlink access``): getting the partner's app
into every customer tenant with the Graph app roles it reads with, and Reader on the Azure
subscriptions the partner manages, through GDAP, as Microsoft documents it. Off unless
``[repair] access_enabled``; the dry run (the default) only lists the writes; the next sync
verifies them."""
