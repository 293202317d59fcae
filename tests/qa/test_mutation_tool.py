"""qa.mutation's helpers: which mutants count, seeded sampling, the kill rate, the checked-in lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import mutants as mt
from qa import mutation as cli

ROOT = Path(__file__).resolve().parents[2]

SOURCE = '''from __future__ import annotations


def free(x: int | None) -> int:
    return x or 0


class Model:
    limit: int = 3

    @model_validator(mode="after")
    def _check(self) -> "Model":
        return self

    def other(self) -> None:
        pass
'''


def test_function_ranges_by_name_qualified_name_and_decorator():
    assert mt.function_ranges(SOURCE, ["free"]) == [(4, 5)]
    assert mt.function_ranges(SOURCE, ["Model.other"]) == [(15, 16)]
    assert mt.function_ranges(SOURCE, [], ["model_validator"]) == [(12, 13)]  # from `def`: decorators are out
    assert mt.function_ranges(SOURCE, ["missing"]) == []
    assert mt.in_ranges(5, [(4, 5)]) and not mt.in_ranges(6, [(4, 5)])


def test_annotations_are_found_only_when_postponed():
    spans = mt.annotation_ranges(SOURCE)
    assert mt.inside((4, 12), spans)  # int | None
    assert mt.inside((9, 11), spans)  # limit: int
    assert not mt.inside((5, 11), spans)  # return x or 0
    assert mt.annotation_ranges(SOURCE.replace("from __future__ import annotations", "")) == []


def mutant(line: int, column: int = 4, operator: str = "core/NumberReplacer", module: str = "m.py") -> mt.Mutant:
    return mt.Mutant(f"job-{line}-{column}-{operator}", module, line, column, operator, "")


def test_classify_marks_scope_annotations_equivalents_and_the_sample():
    area = mt.Area("a", ("m.py",), ("tests",), sample=1, target=0.8, decorated=("model_validator",))
    equivalent = mt.Equivalent("m.py", "Model._check", "core/ReplaceTrueWithFalse", "return self", 15, "why")
    elsewhere = mt.Equivalent("m.py", "free", "core/NumberReplacer", "return self", 8, "a scope it is not in")
    mutants = [mutant(5), mutant(11, 30), mutant(12, 24), mutant(13, 15, "core/ReplaceTrueWithFalse"),
               mutant(13, 8), mutant(13, 9)]
    mt.classify(area, mutants, {"m.py": SOURCE}, [equivalent, elsewhere], sample=1, seed=1)
    outcomes = [m.outcome for m in mutants]
    assert outcomes[:4] == ["out-of-scope", "out-of-scope", "annotation", "equivalent"]
    assert mutants[3].reason == "why"
    assert sorted(outcomes[4:]) == ["", "unsampled"]  # one of the two is drawn
    every = [mutant(13, 8), mutant(13, 9)]
    mt.classify(area, every, {"m.py": SOURCE}, [], sample=None, seed=1)  # --all: nothing left undrawn
    assert [m.outcome for m in every] == ["", ""]


def test_definition_ranges_include_decorators():
    assert mt.definition_range(SOURCE, "Model._check") == (11, 13)
    assert mt.definition_range(SOURCE, "Model") == (8, 16)
    assert mt.definition_range(SOURCE, "free") == (4, 5)
    assert mt.definition_range(SOURCE, "nothing") is None


def test_equivalents_match_on_module_operator_line_and_column():
    e = mt.Equivalent("m.py", "f", "op", "x == y", 3, "because")
    assert e.matches("m.py", "op", "    x == y  ", 3)
    assert not e.matches("m.py", "op", "x == y", 4)
    assert not e.matches("m.py", "other", "x == y", 3)


def test_every_checked_in_equivalent_has_a_reason_and_matches_a_real_line():
    for e in mt.load_equivalents():
        source = (ROOT / e.module).read_text(encoding="utf-8")
        scope = mt.definition_range(source, e.scope)
        assert scope is not None, f"{e.module}: no {e.scope}: re-judge this equivalent mutant"
        lines = [line.strip() for line in source.splitlines()[scope[0] - 1:scope[1]]]
        assert e.line in lines, f"{e.module}: no line {e.line!r} in {e.scope}: re-judge this equivalent mutant"
        assert e.reason.strip()


def test_an_equivalent_without_a_reason_is_refused(tmp_path):
    path = tmp_path / "eq.toml"
    path.write_text('[[mutant]]\nmodule = "m.py"\nscope = "f"\noperator = "op"\nline = "x"\ncolumn = 1\nreason = " "\n')
    with pytest.raises(ValueError, match="needs a reason"):
        mt.load_equivalents(path)
    assert mt.load_equivalents(tmp_path / "none.toml") == []


def test_draw_is_seeded_and_independent_of_order():
    keys = [("m.py", i, 0, "op", 0) for i in range(100)]
    first = mt.draw(keys, 10, seed=3)
    assert len(first) == 10 and first == mt.draw(list(reversed(keys)), 10, seed=3)
    assert first != mt.draw(keys, 10, seed=4)
    assert mt.draw(keys[:5], 10, seed=3) == set(keys[:5])


def test_the_kill_rate_counts_killed_over_killed_and_survived():
    outcomes = ["killed"] * 8 + ["survived"] * 2 + ["equivalent", "annotation", "unsampled", "incompetent"]
    result = mt.tally(mt.Mutant(str(i), "m.py", 1, 0, "op", "", outcome=o) for i, o in enumerate(outcomes))
    assert (result.killed, result.survived, result.equivalent, result.rate) == (8, 2, 1, 0.8)
    assert result.other == {"annotation": 1, "unsampled": 1, "incompetent": 1}
    assert mt.Tally().rate == 1.0


def test_the_report_lists_every_survivor_with_its_diff():
    area = mt.Area("a", ("m.py",), ("tests",), sample=2, target=0.8)
    survivor = mt.Mutant("1", "m.py", 5, 11, "core/ReplaceOrWithAnd", "return x or 0", outcome="survived",
                         diff="--- a\n+++ b\n-    return x or 0\n+    return x and 0\n")
    killed = mt.Mutant("2", "m.py", 5, 4, "op", "", outcome="killed")
    text = cli.report(area, mt.tally([survivor, killed]), [survivor, killed], sample=2, seed=1)
    assert text.splitlines() == [
        "a: kill rate 50.0% (1 killed / 2; sample of 2 (seed 1); target 80%); 0 equivalent left out",
        "  survived: m.py:5:11 core/ReplaceOrWithAnd: return x or 0",
        "    -    return x or 0",
        "    +    return x and 0",
    ]


def test_the_shipped_areas_name_real_files_and_tests():
    areas = mt.load_areas()
    assert set(areas) == {"estimator", "pack-rules", "config-checks", "preflight-diff"}
    for area in areas.values():
        assert all((ROOT / m).is_file() for m in area.modules), area.name
        paths = [t.split("::")[0] for t in area.tests if not t.startswith("-")]
        assert all((ROOT / p).exists() for p in paths), area.name
        assert 0 < area.target <= 1 and area.sample > 0
        if area.restricted:
            for module in area.modules:
                assert mt.function_ranges((ROOT / module).read_text(encoding="utf-8"), area.functions,
                                          area.decorated), module


def test_the_test_command_runs_the_area_tests_stopping_at_the_first_failure():
    area = mt.Area("a", ("m.py",), ("tests/x.py", "--deselect", "tests/x.py::slow"), sample=1, target=0.8)
    assert mt.test_command(area, "/py") == ("/py -m pytest -x -q -p no:cacheprovider --hypothesis-seed=0 tests/x.py "
                                            "--deselect tests/x.py::slow")


def test_the_scratch_copy_leaves_out_virtualenvs_and_caches(tmp_path):
    root = tmp_path / "repo"
    for path in ("a.py", ".venv/lib/x.py", "pkg/__pycache__/a.pyc", "mutation-runs/old/a.py", ".coverage.1", "pkg/b.py"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("x")
    work = tmp_path / "work"
    (work / "stale").mkdir(parents=True)
    mt.copy_repository(work, root)
    assert sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file()) == ["a.py", "pkg/b.py"]


def test_list_and_an_unknown_area(capsys):
    assert cli.main(["list"]) == 0
    assert "estimator: finops/ai_platform_finops/estimator/node_groups.py" in capsys.readouterr().out
    assert cli.main(["run", "nowhere"]) == 2
    assert "unknown area 'nowhere'" in capsys.readouterr().err


def test_shards_split_the_candidates_into_disjoint_parts_that_cover_them_all():
    area = mt.Area("a", ("m.py",), ("tests",), sample=1, target=0.8)
    seen: list[str] = []
    for number in (1, 2, 3):
        mutants = [mutant(5, column) for column in range(4, 11)]
        mt.classify(area, mutants, {"m.py": SOURCE}, [], sample=None, seed=1, shard=(number, 3))
        seen += [m.job_id for m in mutants if not m.outcome]
        assert {m.outcome for m in mutants} <= {"", "other-shard"}
    assert sorted(seen) == sorted(mutant(5, column).job_id for column in range(4, 11))


@pytest.mark.parametrize("text, expected", [("2/4", (2, 4)), ("1/1", (1, 1))])
def test_parse_shard(text, expected):
    assert cli.parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/4", "5/4", "a/b", "3"])
def test_a_bad_shard_is_refused(text):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        cli.parse_shard(text)
