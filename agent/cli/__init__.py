"""The ``partnerlink`` command line (``agent.cli:main``)."""

from agent.cli.root import app, main

__all__ = ["app", "main"]
