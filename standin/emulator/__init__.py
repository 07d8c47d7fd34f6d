"""A local HTTPS Microsoft: login, Partner Center, Insights, Graph and ARM serving a scenario.

The demo, the end-to-end tests and the benchmarks run the real connectors against it; the
payloads follow Microsoft's (the fixtures in tests/fixtures/microsoft), the limits follow
Microsoft's documentation (``limits``).
"""

from standin.emulator.server import Emulator, serve

__all__ = ["Emulator", "serve"]
