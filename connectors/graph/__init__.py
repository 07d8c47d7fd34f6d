"""The Microsoft Graph connectors, one module per API family: ``contracts`` and ``gdap`` in the
partner tenant; ``licences`` (subscribed SKUs, directory subscriptions), ``reports`` (active
users) and ``identities`` (the partner's service principals) in customer tenants; ``connector``
is what they share. Nothing is re-exported here.
"""
