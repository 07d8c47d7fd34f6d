"""Scenario facts in Microsoft's payload shapes (see tests/fixtures/microsoft)."""
