"""The stand-in Microsoft: the scenario format, the fake connectors and the local emulator.

It serves the demo, the tests, the benchmark and the ``fake``/``emulator`` source modes. It
imports :mod:`connectors`; :mod:`connectors` never imports it.
"""
