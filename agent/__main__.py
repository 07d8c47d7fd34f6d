"""``python -m agent``: the same as the ``partnerlink`` command."""

from agent.cli import main

main()
