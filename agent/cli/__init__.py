"""The ``partnerlink`` command line: ``app`` with every command registered (``commands``), and
``main``, the console entry point (``agent.cli:main``, ``python -m agent``)."""

from agent.cli.commands import main
from agent.cli.root import app

__all__ = ["app", "main"]
