"""``python -m preflight advise`` given bad input: one ``file: key.path: what is wrong`` line, exit 2,
nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preflight.cli import main
from tests.preflight.advise import synthetic


def advise(project: Path, capsys, *argv: str) -> tuple[int, str]:
    code = main(["advise", "--stack", "advise", "--project-dir", str(project), *argv])
    return code, capsys.readouterr().err


def metrics_file(tmp_path: Path, document) -> Path:
    path = tmp_path / "metrics.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


GOOD_WINDOW = {"start": synthetic.START, "end": synthetic.END, "step": 300}
SCHEMA = "preflight-advise-metrics/v1"


@pytest.mark.parametrize("document, problem", [
    ("{", "not valid JSON"),
    ('{"schema": "x", "schema": "y"}', "duplicate key 'schema'"),
    ({"schema": "other"}, "schema: expected 'preflight-advise-metrics/v1'"),
    ({"schema": SCHEMA, "window": {"start": 1}, "responses": {}}, "window: needs integer start, end and step"),
    ({"schema": SCHEMA, "window": dict(GOOD_WINDOW, start=synthetic.END), "responses": {}},
     "window: start must be before end"),
    ({"schema": SCHEMA, "window": GOOD_WINDOW, "responses": []}, "responses: must map each query"),
    ({"schema": SCHEMA, "window": GOOD_WINDOW, "responses": {"up": {"status": "error", "error": "bad"}}},
     "responses['up']: status is not success (bad)"),
    ({"schema": SCHEMA, "window": GOOD_WINDOW, "responses": {"up": {"status": "success", "data": {"resultType": "vector", "result": []}}}},
     "responses['up'].data: not a query_range matrix"),
    ({"schema": SCHEMA, "window": GOOD_WINDOW, "responses": {"up": {"status": "success", "data": {
        "resultType": "matrix", "result": [{"metric": {}, "values": [[1, "2"], ["x"]]}]}}}},
     "responses['up'].data.result[0].values[1]: not [timestamp, \"value\"]"),
])
def test_a_bad_metrics_file_is_one_message(project, tmp_path, capsys, document, problem):
    path = metrics_file(tmp_path, document)
    code, err = advise(project, capsys, "--metrics", str(path), "--json", str(tmp_path / "r.json"))
    assert code == 2 and not (tmp_path / "r.json").exists()
    assert err.startswith(f"preflight: {path}: ") and problem in err and err.count("\n") == 1


def test_a_metrics_file_that_is_not_a_regular_file_or_too_big_is_refused(project, tmp_path, capsys):
    code, err = advise(project, capsys, "--metrics", "/dev/zero")
    assert code == 2 and err == "preflight: /dev/zero: is a device, not a regular file\n"
    big = tmp_path / "big.json"
    with open(big, "wb") as out:
        out.truncate(17 * 1024 * 1024)
    code, err = advise(project, capsys, "--metrics", str(big))
    assert code == 2 and "over the 16 MiB limit" in err


def test_a_saved_file_with_empty_answers_for_every_query_is_refused(project, tmp_path, capsys):
    from preflight.advise import queries

    responses = {q.promql: {"status": "success", "data": {"resultType": "matrix", "result": []}}
                 for q in queries.pool_queries("gpu-day")}
    path = metrics_file(tmp_path, {"schema": SCHEMA, "window": GOOD_WINDOW, "responses": responses})
    code, err = advise(project, capsys, "--metrics", str(path))
    assert code == 2 and f"{path}: no series for any of the" in err


@pytest.mark.parametrize("argv, problem", [
    (["--costs", "c.json", "--days", "0"], "--days: 0: between 1 and 90"),
    (["--costs", "c.json", "--days", "91"], "--days: 91: between 1 and 90"),
    (["--costs", "c.json", "--end", "yesterday"], "--end: 'yesterday' is not an ISO 8601 time"),
    (["--costs", "c.json", "--save-metrics", "m.json"], "--save-metrics: only with --prometheus"),
    (["--metrics", "m.json", "--save-costs", "c.json"], "--save-costs: only with --cost-explorer"),
    ([], "give GPU use (--prometheus URL or --metrics FILE)"),
    (["--costs", "missing.json"], "missing.json: not found"),
])
def test_usage_errors_are_one_message(project, tmp_path, capsys, monkeypatch, argv, problem):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.json").write_text(json.dumps(synthetic.daily_spend(days=5)))
    code, err = advise(project, capsys, *argv)
    assert code == 2 and problem in err and err.count("\n") == 1 and "Traceback" not in err


def test_an_output_never_overwrites_an_input(project, tmp_path, capsys):
    costs = tmp_path / "c.json"
    costs.write_text(json.dumps(synthetic.daily_spend(days=5)))
    before = costs.read_text()
    code, err = advise(project, capsys, "--costs", str(costs), "--json", str(costs))
    assert code == 2 and "would overwrite an input" in err and costs.read_text() == before
    stack = project / "stacks" / "Pulumi.advise.yaml"
    code, err = advise(project, capsys, "--costs", str(costs), "--markdown", str(stack))
    assert code == 2 and "would overwrite an input" in err


def test_json_to_stdout_is_the_report_alone(project, tmp_path, capsys):
    costs = tmp_path / "c.json"
    costs.write_text(json.dumps(synthetic.daily_spend(days=5)))
    code = main(["advise", "--stack", "advise", "--project-dir", str(project), "--costs", str(costs), "--json", "-"])
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["schema"] == "preflight-advise/v1"
    assert "least-squares linear trend" in err  # the human view moved to stderr
