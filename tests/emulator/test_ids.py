"""The ids the emulator makes quickly are the ids ``uuid`` would make: derived ids are
``uuid5`` of their name, request ids are version-4 GUIDs."""

from __future__ import annotations

import uuid

from standin.emulator.shapes import _NS, derived_id
from standin.emulator.wire import request_guid


def test_a_derived_id_is_the_uuid5_of_its_lower_cased_parts() -> None:
    for parts in [("sp", "T1", "App"), ("aa-etag", "r1", "a1"), ("contract", "Ünïcode-ΑΣ"), ("",)]:
        expected = str(uuid.uuid5(_NS, "/".join(p.lower() for p in parts)))
        assert derived_id(*parts) == expected
        assert derived_id(*parts) == expected  # and again, remembered


def test_a_request_id_is_a_random_version_4_guid() -> None:
    made = {request_guid() for _ in range(2000)}
    assert len(made) == 2000
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
