"""The policy pack's virtualenv: built once under a lock, in a temp dir, checked, renamed into place.

The install step is injected so that these tests need no network: it links the test
environment's site-packages (where the pack's requirements are installed) into the new venv with
a ``.pth`` file. Everything else is the real code path: ``python -m venv``, the file lock, the
import check in the new interpreter, the relocation and the rename.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from preflight.analyzer import (
    PACK_PYTHON_ENV,
    VENV_MARKER,
    PackProject,
    PolicyPackError,
    pack_python,
)
from tests.support import ROOT

SITE = [p for p in site.getsitepackages() if p.endswith("site-packages")]


def no_pip(cmd: list[str], **kw: Any) -> Any:
    """subprocess.run, but venvs are created without pip (the injected install does not need it)."""
    if cmd[1:3] == ["-m", "venv"]:
        cmd = [*cmd[:3], "--without-pip", *cmd[3:]]
    return subprocess.run(cmd, **kw)


def link_install(python: Path, project: PackProject, run: Any) -> None:
    """Stands in for ``pip install -r requirements.txt``: the test env's packages, by reference."""
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "preflight-test.pth").write_text("\n".join([*SITE, str(ROOT / "finops")]) + "\n")


def current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def pack(tmp_path: Path) -> PackProject:
    (tmp_path / "requirements.txt").write_text("pulumi-policy>=1.21,<2\n")
    return PackProject(dir=tmp_path, runtime="python", version="1", description="", virtualenv="venv")


@pytest.fixture(autouse=True)
def _no_override(monkeypatch):
    monkeypatch.delenv(PACK_PYTHON_ENV, raising=False)


def test_three_concurrent_first_runs_all_succeed_and_build_once(tmp_path):
    pack(tmp_path)  # writes the requirements the three runs install
    script = textwrap.dedent(f"""
        from pathlib import Path
        from preflight.analyzer import PackProject, pack_python
        from tests.preflight.test_pack_venv import link_install, no_pip
        project = PackProject(dir=Path({str(tmp_path)!r}), runtime="python", version="1", description="", virtualenv="venv")
        print(pack_python(project, run=no_pip, install=link_install))
    """)
    env = {k: v for k, v in os.environ.items() if k != PACK_PYTHON_ENV}
    runs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env, cwd=ROOT) for _ in range(3)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in runs]
    python = str(tmp_path / "venv" / "bin" / "python")
    assert [(code, out.strip()) for code, out, _ in results] == [(0, python)] * 3, results
    assert sum(err.count("installing the policy pack's dependencies") for _, _, err in results) == 1
    assert (tmp_path / "venv" / VENV_MARKER).is_file()
    assert (tmp_path / "venv").stat().st_mode & 0o777 == 0o777 & ~current_umask()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".venv.preflight-lock", "requirements.txt", "venv"]
    subprocess.run([python, "-c", "import pulumi_policy, pulumi, grpc"], check=True)


def test_scripts_of_the_renamed_venv_point_at_its_final_path(tmp_path):
    project = pack(tmp_path)
    pack_python(project, run=no_pip, install=link_install, log=sys.stderr)
    activate = (tmp_path / "venv" / "bin" / "activate").read_text()
    assert str(tmp_path / "venv") in activate and "preflight-build" not in activate


def test_a_venv_without_the_marker_is_rebuilt(tmp_path, capsys):
    """What a killed install leaves: a venv directory that looks usable but never finished."""
    project = pack(tmp_path)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    (tmp_path / "venv" / "half-installed").write_text("")
    python = pack_python(project, run=no_pip, install=link_install)
    assert "installing the policy pack's dependencies" in capsys.readouterr().err
    assert (tmp_path / "venv" / VENV_MARKER).is_file() and not (tmp_path / "venv" / "half-installed").exists()
    subprocess.run([python, "-c", "import pulumi_policy"], check=True)


def test_a_venv_that_fails_the_import_check_is_rebuilt(tmp_path, capsys):
    project = pack(tmp_path)
    python = pack_python(project, run=no_pip, install=link_install)
    capsys.readouterr()
    assert pack_python(project, run=no_pip, install=link_install) == python
    assert capsys.readouterr().err == ""  # complete and importable: used as is
    for pth in (tmp_path / "venv").rglob("preflight-test.pth"):
        pth.unlink()  # the packages vanished (e.g. pip uninstall)
    assert pack_python(project, run=no_pip, install=link_install) == python
    assert "installing" in capsys.readouterr().err
    subprocess.run([python, "-c", "import pulumi_policy"], check=True)


def test_changed_requirements_rebuild_the_venv(tmp_path, capsys):
    project = pack(tmp_path)
    pack_python(project, run=no_pip, install=link_install)
    (tmp_path / "requirements.txt").write_text("pulumi-policy>=1.22,<2\n")
    capsys.readouterr()
    pack_python(project, run=no_pip, install=link_install)
    assert "installing" in capsys.readouterr().err


def test_a_failed_install_leaves_nothing_behind(tmp_path):
    project = pack(tmp_path)

    def failing(python: Path, project: PackProject, run: Any) -> None:
        raise subprocess.CalledProcessError(1, ["pip"], stderr=b"ERROR: No matching distribution found for pulumi-policy")

    with pytest.raises(PolicyPackError, match="No matching distribution"):
        pack_python(project, run=no_pip, install=failing, log=sys.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".venv.preflight-lock", "requirements.txt"]


def test_an_install_that_cannot_import_the_pack_is_refused(tmp_path):
    project = pack(tmp_path)
    with pytest.raises(PolicyPackError, match="cannot import pulumi"):
        pack_python(project, run=no_pip, install=lambda *a: None, log=sys.stderr)
    assert not (tmp_path / "venv").exists()


def test_the_real_install_step_is_pip_install_r_requirements_in_the_pack_dir(tmp_path):
    calls: list[tuple[list[str], dict[str, Any]]] = []
    from preflight.analyzer import pip_install
    pip_install(tmp_path / "venv" / "bin" / "python", pack(tmp_path), lambda cmd, **kw: calls.append((cmd, kw)))
    assert calls[0][0] == [str(tmp_path / "venv" / "bin" / "python"), "-m", "pip", "install", "-q",
                           "--disable-pip-version-check", "-r", "requirements.txt"]
    assert calls[0][1]["cwd"] == str(tmp_path) and calls[0][1]["check"]


def test_a_change_to_a_local_directory_the_requirements_install_needs_a_new_venv(tmp_path):
    from preflight.analyzer.pack_env import _fingerprint

    project = pack(tmp_path)
    (tmp_path / "requirements.txt").write_text("pulumi-policy>=1.21,<2\n./vendor  # the pack's own package\n")
    (tmp_path / "vendor" / "pkg").mkdir(parents=True)
    (tmp_path / "vendor" / "pkg" / "__init__.py").write_text("RATE = 1\n")
    before = _fingerprint(project)
    (tmp_path / "vendor" / "build").mkdir()  # what pip writes beside the sources changes nothing
    (tmp_path / "vendor" / "build" / "x.py").write_text("")
    (tmp_path / "vendor" / "pkg.egg-info").mkdir()
    assert _fingerprint(project) == before
    (tmp_path / "vendor" / "pkg" / "__init__.py").write_text("RATE = 2\n")
    assert _fingerprint(project) != before
