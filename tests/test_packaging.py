"""environment.yml and pyproject.toml name the same dependencies, with the same lower bounds."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_TO_PIP = {"pytorch": "torch"}
SPEC = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$")


def split(spec: str) -> tuple[str, str]:
    name, bound = SPEC.match(spec).groups()
    return name.lower(), bound.replace(" ", "")


def pyproject_specs() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in ("notebooks", "test"):
        specs += project["optional-dependencies"][extra]
    return dict(split(s) for s in specs)


def conda_specs() -> tuple[dict[str, str], list]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda, pip_section = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_section = dep["pip"]
            continue
        name, bound = split(dep)
        if name not in ("python", "pip"):
            conda[CONDA_TO_PIP.get(name, name)] = bound
    return conda, pip_section


def test_environment_yml_matches_pyproject():
    conda, pip_section = conda_specs()
    assert conda == pyproject_specs()
    assert pip_section == ["-e .[notebooks,test]"]


def test_python_floor_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert f"python{project['requires-python']}" in env["dependencies"]
