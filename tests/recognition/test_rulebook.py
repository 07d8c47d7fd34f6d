"""The shipped rulebook and SKU table against their schemas and their own invariants, and the
partner's override file: merged by key, refused with the file and the JSON path when broken."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from agent.recognition.load import RulebookError, load_rulebook, shipped

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parents[1] / "agent" / "recognition"


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PACKAGE / name).read_text(encoding="utf-8"))
    return loaded


def write(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def failure(path: Path) -> str:
    with pytest.raises(RulebookError) as caught:
        load_rulebook(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    return message


def test_shipped_rulebook_and_sku_table_are_valid_against_their_schemas() -> None:
    skus_schema = schema("skus.schema.json")
    registry = Registry().with_resources(
        [(skus_schema["$id"], Resource.from_contents(skus_schema))]
    )
    book, skus = shipped()

    jsonschema.Draft202012Validator(schema("rulebook.schema.json"), registry=registry).validate(
        book
    )
    jsonschema.Draft202012Validator(skus_schema).validate(skus)


def test_every_rule_rests_on_a_public_source_with_its_own_words() -> None:
    book = load_rulebook()

    assert len(book.rules) == len({rule.id for rule in book.rules})
    for rule in book.rules:
        assert rule.evidence, rule.id
        for evidence in rule.evidence:
            assert evidence.source.url.startswith("https://"), rule.id
            assert evidence.source.title and evidence.quote.strip(), rule.id
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rule.as_of), rule.id


def test_every_threshold_carries_a_unit_and_every_sku_a_source() -> None:
    book = load_rulebook()

    assert all(t.unit and t.text for rule in book.rules for t in rule.thresholds)
    assert all(s.source.url.startswith("http") for s in book.skus.skus)


def test_every_rule_has_a_test_built_from_its_source() -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in HERE.glob("test_rules_*.py"))

    untested = [rule.id for rule in load_rulebook().rules if f'rule("{rule.id}")' not in text]
    assert untested == []


def test_an_override_replaces_a_rule_adds_a_sku_and_disables_another(tmp_path: Path) -> None:
    book, _ = shipped()
    rule = next(r for r in book["rules"] if r["id"] == "azure-net-customer-adds")
    rule["thresholds"][0]["value"] = 1500
    override = {
        "sources": {"our-notes": {"url": "https://example.com/fy27", "title": "Our FY27 notes"}},
        "rules": [rule],
        "disable": ["security-deployments"],
        "skus": [
            {
                "part_number": "CONTOSO_SUITE",
                "kind": "paid",
                "workloads": ["exchange"],
                "source": "our-notes",
            }
        ],
    }

    loaded = load_rulebook(write(tmp_path / "override.json", override))

    assert loaded.rule("azure-net-customer-adds").thresholds[0].value == 1500
    assert "security-deployments" not in {r.id for r in loaded.rules}
    found = loaded.skus.find("CONTOSO_SUITE", None)
    assert found is not None and found.source.title == "Our FY27 notes"


def test_a_rule_without_a_source_is_refused_with_its_json_path(tmp_path: Path) -> None:
    book, _ = shipped()
    rule = dict(book["rules"][0], id="our-own-rule")
    del rule["evidence"]

    message = failure(write(tmp_path / "rules.json", {"rules": [rule]}))

    assert "$.rules[0]" in message and "'evidence' is a required property" in message


def test_a_rule_citing_an_unknown_source_is_refused(tmp_path: Path) -> None:
    book, _ = shipped()
    rule = dict(book["rules"][0], id="our-own-rule")
    rule["evidence"] = [{"source": "hearsay", "quote": "trust me"}]

    message = failure(write(tmp_path / "rules.json", {"rules": [rule]}))

    assert "$.rules[0].evidence[0].source" in message and "'hearsay'" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"rulez": []}, "$: Additional properties are not allowed ('rulez' was unexpected)"),
        ({"disable": ["no-such-rule"]}, "$.disable[0]: no rule 'no-such-rule' to disable"),
        (
            {"skus": [{"part_number": "X", "kind": "cheap", "workloads": [], "source": "x"}]},
            "$.skus[0].kind: 'cheap' is not one of",
        ),
        ("{ not json", "not valid JSON: line 1"),
    ],
    ids=["unknown key", "unknown rule to disable", "bad SKU kind", "not JSON"],
)
def test_a_broken_override_is_one_line_naming_the_file_and_the_path(
    tmp_path: Path, content: Any, expected: str
) -> None:
    assert expected in failure(write(tmp_path / "override.json", content))


def test_a_missing_override_file_is_named(tmp_path: Path) -> None:
    assert "no such file" in failure(tmp_path / "absent.json")


def test_an_override_replaces_a_track_split_and_names_a_bad_workload(tmp_path: Path) -> None:
    book, _ = shipped()
    split = dict(book["tracks"]["modern_work"])
    split["threshold"] = {**split["threshold"], "value": 500}
    raised = load_rulebook(write(tmp_path / "fy27.json", {"tracks": {"modern_work": split}}))
    broken = write(
        tmp_path / "broken.json",
        {"tracks": {"modern_work": {**split, "workloads": ["exchange", "fax"]}}},
    )

    assert raised.tracks["modern_work"].threshold.value == 500
    assert "$.tracks.modern_work.workloads[1]: 'fax' is not a workload" in failure(broken)
