"""preflight.bounded: what it accepts as Pulumi does, and each limit with its message."""

from __future__ import annotations

import pytest

from preflight.bounded import BoundedReadError, json_depth, loads_json, loads_yaml, read_bytes, same_file


def test_yaml_as_pulumi_reads_it_dates_stay_strings_merges_work():
    doc = loads_yaml("d: 2026-11-02\nbase: &b {x: 1, y: 2}\nother:\n  <<: *b\n  x: 3\nn: [1, 2.5, null, true, '=']\n", "f")
    assert doc == {"d": "2026-11-02", "base": {"x": 1, "y": 2}, "other": {"x": 3, "y": 2},
                   "n": [1, 2.5, None, True, "="]}


@pytest.mark.parametrize("text, problem", [
    ("a: 1\na: 2\n", "line 2: duplicate key 'a'"),
    ("a: !!binary aGk=\n", "tag 'tag:yaml.org,2002:binary' is not allowed"),
    ("a: !custom x\n", "tag '!custom' is not allowed"),
    ("a: &a [*a]\n", "an alias refers to the node that contains it"),
    ("a: 9223372036854775808\n", "integer 9223372036854775808 is beyond 64 bits"),
    ("a: -.inf\n", "number -.inf is not finite"),
    ("a: " + "[" * 65 + "]" * 65 + "\n", "nested deeper than 64 levels"),
    ("a: &a " + "[" * 32 + "x" + "]" * 32 + "\nb: " + "[" * 33 + "*a" + "]" * 33 + "\n",
     "nested deeper than 64 levels once aliases are expanded"),
    ("? [a]\n: 1\n", "a mapping key must be a scalar"),
    ("a: [unclosed\n", "line 2: "),
])
def test_yaml_limits(text, problem):
    with pytest.raises(BoundedReadError) as raised:
        loads_yaml(text, "f.yaml")
    assert str(raised.value).startswith("f.yaml: ") and problem in str(raised.value) and raised.value.kind == "yaml"


@pytest.mark.parametrize("text, problem", [
    ('{"a": NaN}', "NaN is not a JSON number"),
    ("[-Infinity]", "-Infinity is not a JSON number"),
    ("[9223372036854775808]", "beyond 64 bits"),
    ("[1e309]", "out of range"),
    ('{"a": 1, "a": 1}', "duplicate key 'a'"),
    ("{", "not valid JSON"),
])
def test_json_limits(text, problem):
    with pytest.raises(BoundedReadError) as raised:
        loads_json(text, "f.json")
    assert problem in str(raised.value) and raised.value.kind == "json"


def test_json_within_limits_and_its_depth():
    assert loads_json('{"a": [1, -9223372036854775808, 1.5e308, "NaN"]}', "f") == {
        "a": [1, -9223372036854775808, 1.5e308, "NaN"]}
    assert json_depth({"a": [[{}]]}) == 4 and json_depth(3) == 0


def test_size_cap_and_regular_files(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 11)
    assert read_bytes(path, 11) == b"x" * 11
    with pytest.raises(BoundedReadError, match="is 11 bytes, over the 10 bytes limit"):
        read_bytes(path, 10)
    with pytest.raises(BoundedReadError, match="is a directory"):
        read_bytes(tmp_path, 10)


def test_same_file_sees_through_links_and_dotdot(tmp_path):
    real = tmp_path / "a"
    real.write_text("")
    (tmp_path / "link").symlink_to(real)
    (tmp_path / "hard").hardlink_to(real)
    assert same_file(tmp_path / "link", real) and same_file(tmp_path / "hard", real)
    assert same_file(tmp_path / "sub" / ".." / "new", tmp_path / "new")  # neither exists
    assert not same_file(real, tmp_path / "new")
