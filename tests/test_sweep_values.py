"""Values of a sweep: YAML 1.2 core scalars, grid splitting, and the check against declared types.

The fixture tests/fixtures/notebooks/typed.ipynb has annotated parameters (``steps: int = 600``,
``results_path: "Optional[str]" = None``, ...) and echoes the type of each value it got.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import papermill
import pytest

from vaelib.cli import main
from vaelib.sweep import (
    SweepError,
    notebook_hash,
    notebook_parameters,
    parse_grid,
    parse_value,
    plan_runs,
    run_id,
    sweep,
)
from vaelib.sweep.values import check_value, declared_kind, split_values

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
ADD = FIXTURES / "add.ipynb"
TYPED = FIXTURES / "typed.ipynb"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("010", 10), ("0100", 100), ("08", 8), ("032", 32), ("-0", 0), ("+7", 7),
        ("0o17", 15), ("0x1F", 31),
        ("1e-3", 1e-3), ("1.", 1.0), ("-.5", -0.5), ("2E+2", 200.0),
        ("true", True), ("FALSE", False), ("True", True),
        ("no", "no"), ("off", "off"), ("yes", "yes"), ("on", "on"),
        ("null", None), ("~", None), ("none", None), ("None", None), ("NULL", None),
        ("1:20", "1:20"), ("#ff0000", "#ff0000"), ("a #b", "a #b"), ("2020-01-01", "2020-01-01"),
        ("'007'", "007"), ('"1e-3"', "1e-3"), ("'it''s'", "it's"), ('"a\\tb"', "a\tb"),
        ("'#x'", "#x"), ("nan", "nan"), ("0x", "0x"), ("1_000", "1_000"),
        ("[1, 2]", [1, 2]), ("[]", []), ("{}", {}),
        ("{a: 1, b: [x, 'y, z']}", {"a": 1, "b": ["x", "y, z"]}),
        ('{"k": null, l: [true, 010]}', {"k": None, "l": [True, 10]}),
    ],
)
def test_parse_value_follows_the_yaml_1_2_core_schema_one_value_at_a_time(text, expected):
    value = parse_value(text)
    assert value == expected and type(value) is type(expected)


def test_parse_value_special_floats():
    assert parse_value(".inf") == math.inf and parse_value("-.inf") == -math.inf
    assert math.isnan(parse_value(".nan"))


@pytest.mark.parametrize(
    ("text", "message"),
    [("[1", "missing ']'"), ("[1,]", "empty entry"), ("{a:1}", "has no ': '"),
     ("'abc", "unterminated"), ("[1] x", "unexpected text"), ("{a: 1, a: 2}", "repeated key"),
     ('"\\q"', "unsupported escape")],
)
def test_malformed_quotes_and_collections_are_errors_naming_the_value(text, message):
    with pytest.raises(SweepError, match=message) as error:
        parse_value(text)
    assert repr(text) in str(error.value)


def test_a_str_parameter_takes_the_text_as_typed():
    assert parse_value("032", "str") == "032"
    assert parse_value("[a", "str") == "[a" and parse_value("true", "str") == "true"
    assert parse_value("'quoted'", "str") == "quoted"
    assert parse_grid("image_size=032,064", {"image_size": "str"}) == ("image_size", ["032", "064"])
    assert parse_grid("image_size=032,064") == ("image_size", [32, 64])


def test_grid_values_split_on_commas_outside_brackets_braces_and_quotes():
    assert parse_grid("x=[1,2],[3,4]") == ("x", [[1, 2], [3, 4]])
    assert parse_grid("x='a,b', {p: 1, q: 2},c") == ("x", ["a,b", {"p": 1, "q": 2}, "c"])
    assert split_values("1, 2 ,x") == ["1", "2", "x"]
    with pytest.raises(SweepError, match="expected ','"):
        parse_grid("x='a'b,c")


@pytest.mark.parametrize(
    ("type_name", "kind"),
    [("int", "int"), ("float", "float"), ("bool", "bool"), ("str", "str"), ("list", "list"),
     ("list[int]", "list"), ("List[int]", "list"), ("tuple", "list"), ("dict", "dict"),
     ("dict[str, int]", "dict"), ("Optional[str]", None), ("None", None), ("expression", None),
     ("int[3]", None)],
)
def test_declared_kinds(type_name, kind):
    assert declared_kind(type_name) == kind


def test_notebook_parameters_report_annotations_exactly_as_papermill_does():
    table = notebook_parameters(TYPED)
    found = papermill.inspect_notebook(str(TYPED))
    assert list(table) == list(found)
    for name, info in found.items():
        assert table[name]["type"] == info["inferred_type_name"], name
    assert table["results_path"]["type"] == "Optional[str]"
    assert table["steps"] == {"name": "steps", "type": "int", "default": "600",
                              "help": "an int parameter"}
    # without an annotation, the type of the default's literal
    assert notebook_parameters(ADD)["b"]["type"] == "float"


def test_vaelib_params_shows_the_annotated_types(capsys):
    assert main(["params", str(TYPED)]) == 0
    rows = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["results_path"] == "Optional[str]" and rows["limit"] == "Optional[int]"
    assert rows["steps"] == "int" and rows["fast"] == "bool" and rows["sizes"] == "list"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grid", "fast=no,off"], "parameter fast is declared bool in the notebook's parameters "
                                    "cell, got 'no' (str): write true or false (any case)"),
        (["-p", "steps", "2.5"], "parameter steps is declared int in the notebook's parameters "
                                 "cell, got 2.5 (float): write a whole number"),
        (["-p", "steps", "1e3"], "got 1000.0 (float)"),
        (["-p", "steps", "1_000"], "got '1_000' (str)"),
        (["-p", "lr", "fast"], "parameter lr is declared float"),
        (["-p", "sizes", "3"], "parameter sizes is declared list"),
        (["--grid", "sizes=[1,2"], "missing ']'"),
    ],
)
def test_values_that_do_not_fit_their_declared_type_are_usage_errors(tmp_path, capsys, args,
                                                                      message):
    out = tmp_path / "out"
    assert main(["sweep", str(TYPED), *args, "--out", str(out), "--no-progress"]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_the_python_api_checks_too_and_takes_numpy_numbers():
    with pytest.raises(SweepError, match="parameter fast is declared bool.*got 'no'"):
        plan_runs(TYPED, {"fast": "no"})
    with pytest.raises(SweepError, match="parameter steps is declared int.*got 3.0"):
        plan_runs(TYPED, grid={"steps": [1, 3.0]})
    with pytest.raises(SweepError, match="parameter label is declared str.*got 32"):
        plan_runs(TYPED, {"label": 32})
    runs = plan_runs(TYPED, {"steps": np.int64(5), "fast": np.bool_(True), "sizes": (3, 4)},
                     {"lr": np.arange(1, 3), "seed": [np.int32(0)]})
    assert [run.parameters for run in runs] == [
        {"steps": 5, "fast": True, "sizes": [3, 4], "lr": float(lr), "seed": 0} for lr in (1, 2)]
    for run in runs:
        assert [type(v) for v in run.parameters.values()] == [int, bool, list, float, int]
    # the run id hashes the values as given (an int for the float lr), as it always did
    plain = plan_runs(TYPED, {"steps": 5, "fast": True, "sizes": [3, 4]},
                      {"lr": [1, 2], "seed": [0]})
    assert [r.run_id for r in runs] == [r.run_id for r in plain]
    digest = notebook_hash(TYPED)
    assert runs[0].run_id == run_id({"steps": 5, "fast": True, "sizes": [3, 4], "lr": 1, "seed": 0},
                                    digest, ["lr", "seed"])
    # Optional[...] takes any value
    assert plan_runs(TYPED, {"limit": "x"})[0].parameters == {"limit": "x"}
    assert check_value("v", np.float32(0.5), "float") == 0.5


def test_the_notebook_gets_values_of_its_declared_types(tmp_path, capsys):
    argv = ["sweep", str(TYPED), "-p", "lr", "2", "-p", "label", "032", "-p", "fast", "TRUE",
            "-p", "steps", "010", "-p", "limit", "1:20", "--grid", "sizes=[1,2],[3]", "--out",
            str(tmp_path), "--no-progress"]
    assert main(argv) == 0
    records = [json.loads(p.read_text()) for p in sorted((tmp_path / "runs").glob("*.json"))]
    assert len(records) == 2
    for record in records:
        assert record["results"]["types"] == {"steps": "int", "lr": "float", "fast": "bool",
                                              "label": "str", "sizes": "list", "limit": "str",
                                              "status": "str"}
        echo = record["results"]["echo"]
        assert (echo["lr"], echo["label"], echo["fast"], echo["steps"], echo["limit"]) == (
            2.0, "032", True, 10, "1:20")
        assert record["parameters"]["lr"] == 2.0
    assert sorted(r["results"]["echo"]["sizes"] for r in records) == [[1, 2], [3]]
    capsys.readouterr()
    again = sweep(TYPED, {"lr": 2, "label": "032", "fast": True, "steps": 10, "limit": "1:20"},
                  {"sizes": [[1, 2], [3]]}, tmp_path, progress=False)
    assert again.attrs["summary"] == "2 runs: 0 completed, 2 skipped (cached), 0 failed"
