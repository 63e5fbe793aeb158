"""The pathways file: validated at load (named errors), its rule language, and the check against the index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from rag.assess import pathways
from rag.assess.records import CaseFacts
from rag.assess.rules import fact_values, first_rule, holds, listed
from rag.core.errors import PathwayError

REAL = Path(__file__).resolve().parent.parent / "corpus" / pathways.FILE_NAME


def real_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(REAL.read_text(encoding="utf-8"))
    return data


def test_the_bench_books_pathways_load_with_every_forum() -> None:
    p = pathways.load()
    assert set(p.forums) == {"UK-EW", "UK-SC", "UK-NI", "EU", "AZ", "US", "unknown"}
    ew = [s.id for s in p.forums["UK-EW"].steps]
    assert ew == ["victim", "identification", "link", "exclusion", "defence", "discretion", "trial", "post_conviction"]
    assert {"robbery", "murder", "rape"} <= p.forums["UK-EW"].excluded
    assert not p.forums["UK-SC"].excluded  # Scotland has no statutory list


def test_schedule_4_lists_only_what_the_fact_sheets_give() -> None:
    # SOURCES-2.md 2.1: the College of Policing's examples, and rape (SOURCES.md row 14).
    listed_in_sources = {
        "kidnapping", "false imprisonment", "manslaughter", "murder", "perverting the course of justice",
        "threats to kill", "wounding", "possession of a firearm with criminal intent", "robbery", "rape",
    }  # fmt: skip
    assert pathways.load().forums["UK-EW"].excluded == listed_in_sources


def _broken(change: Any) -> str:
    data = real_data()
    change(data)
    with pytest.raises(PathwayError) as err:
        pathways.parse(data, "pathways.yaml")
    assert "\n" not in str(err.value)
    return str(err.value)


def test_an_unknown_fact_in_a_condition_is_named() -> None:
    def change(d: dict[str, Any]) -> None:
        d["forums"]["UK-EW"]["steps"][0]["rules"][0]["when"] = {"colour": "red"}

    assert "unknown fact 'colour'" in _broken(change)


def test_an_unknown_status_is_named() -> None:
    def change(d: dict[str, Any]) -> None:
        d["forums"]["US"]["steps"][1]["rules"][0]["status"] = "likely"

    message = _broken(change)
    assert "'likely'" in message and "forum US" in message


def test_every_step_ends_with_a_rule_that_always_holds() -> None:
    def change(d: dict[str, Any]) -> None:
        d["forums"]["UK-EW"]["steps"][3]["rules"][-1]["when"] = {"offence": "known"}

    assert "step exclusion" in _broken(change)


def test_a_condition_on_a_later_step_is_refused() -> None:
    def change(d: dict[str, Any]) -> None:
        d["forums"]["UK-EW"]["steps"][0]["rules"][0]["when"] = {"step.defence": "supports"}

    assert "step.defence names no earlier step" in _broken(change)


def test_an_unknown_placeholder_and_an_excluded_offence_missing_from_the_lexicon() -> None:
    def placeholder(d: dict[str, Any]) -> None:
        d["forums"]["UK-EW"]["steps"][0]["rules"][0]["finding"] = "The {victimhood} is clear."

    def offence(d: dict[str, Any]) -> None:
        d["forums"]["UK-EW"]["excluded"].append("jaywalking")

    assert "{victimhood}" in _broken(placeholder)
    assert "'jaywalking'" in _broken(offence)


def test_a_bad_pattern_and_a_step_without_cites() -> None:
    def pattern(d: dict[str, Any]) -> None:
        d["offences"][0]["patterns"] = ["(unclosed"]

    def cites(d: dict[str, Any]) -> None:
        d["forums"]["AZ"]["steps"][0]["cite"] = []

    assert "bad pattern" in _broken(pattern)
    assert "at least one passage" in _broken(cites)


def test_malformed_yaml_is_one_named_error(tmp_path: Path) -> None:
    (tmp_path / pathways.FILE_NAME).write_text("forums: [unclosed\n", encoding="utf-8")
    with pytest.raises(PathwayError, match="cannot read the pathways file"):
        pathways.load(tmp_path)


def test_a_cited_passage_the_index_lacks_fails_with_the_forum_step_and_passage() -> None:
    p = pathways.load()
    everything = [(c.doc, c.pinpoint, str(c.section or "")) for _, _, c in p.cited()]
    pathways.check_cited(p, everything)  # all present: no error
    without = [x for x in everything if x != ("uk-modern-slavery-act-s45", "Schedule 4", "")]
    with pytest.raises(PathwayError) as err:
        pathways.check_cited(p, without)
    assert "forum UK-EW step exclusion cites uk-modern-slavery-act-s45 Schedule 4" in str(err.value)
    assert "not in the index" in str(err.value)


def test_conditions_known_unknown_lists_and_values() -> None:
    assert holds("known", ("debt",)) and not holds("known", ())
    assert holds("unknown", None) and not holds("unknown", 16)
    assert holds(["charge", "trial"], "trial") and not holds(["charge"], None)
    assert holds(True, True) and not holds(True, None)
    assert listed(("a", "b", "c")) == "a, b and c" and listed(()) == "none"


def test_the_first_rule_that_holds_sets_the_status() -> None:
    ew = pathways.load().forums["UK-EW"]
    defence = next(s for s in ew.steps if s.id == "defence")
    child = CaseFacts(child=True, offence="cannabis production")
    adult = CaseFacts(child=False, offence="robbery", link="threatened")
    assert first_rule(defence, fact_values(child, False), {"victim": "supports"}).status == "supports"
    assert first_rule(defence, fact_values(child, False), {"victim": "unknown"}).status == "unknown"
    assert first_rule(defence, fact_values(adult, True), {"victim": "supports"}).status == "against"
