"""The pack's project file and Python: ``PulumiPolicy.yaml``, and the pack's virtualenv, built the way
the Pulumi CLI installs a pack's dependencies when it is missing."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..bounded import BoundedReadError, load_yaml
from .results import PolicyPackError

PACK_PYTHON_ENV = "PREFLIGHT_POLICY_PYTHON"
"""Run the pack with this interpreter instead of its virtualenv (it needs the pack's requirements)."""


@dataclass(frozen=True)
class PackProject:
    dir: Path
    runtime: str
    version: str
    description: str
    virtualenv: str | None

    @property
    def venv_python(self) -> Path | None:
        if not self.virtualenv:
            return None
        venv = self.dir / self.virtualenv
        return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def load_pack_project(pack_dir: Path) -> PackProject:
    path = pack_dir / "PulumiPolicy.yaml"
    try:
        doc = load_yaml(path)
    except BoundedReadError as exc:
        if exc.problem == "not found":
            raise PolicyPackError(f"{pack_dir}: not a policy pack (no PulumiPolicy.yaml)") from None
        raise PolicyPackError(str(exc)) from None
    if not isinstance(doc, dict):
        raise PolicyPackError(f"{path}: must be a mapping with 'runtime'")
    runtime = doc.get("runtime")
    options: dict[str, Any] = {}
    if isinstance(runtime, dict):
        options = runtime.get("options") or {}
        runtime = runtime.get("name")
    if not isinstance(runtime, str):
        raise PolicyPackError(f"{path}: 'runtime' is required")
    virtualenv = options.get("virtualenv") if isinstance(options, dict) else None
    return PackProject(dir=pack_dir, runtime=runtime, version=str(doc.get("version") or ""),
                       description=str(doc.get("description") or ""),
                       virtualenv=str(virtualenv) if virtualenv else None)


Runner = Callable[..., Any]
Installer = Callable[[Path, "PackProject", Runner], None]
"""Installs the pack's requirements with the given interpreter (of a virtualenv being built)."""

VENV_MARKER = ".preflight-complete"
"""Written last into a virtualenv that is fully installed and passed the import check."""
PACK_MODULES = ("pulumi", "pulumi_policy", "grpc", "google.protobuf")
"""What every pack imports from its virtualenv (the import check); a pack's own packages (ai-governance's
vendored FinOps package) come from its requirements.txt too."""


def pip_install(python: Path, project: PackProject, run: Runner) -> None:
    """What the Pulumi CLI does: ``python -m pip install -r requirements.txt`` with the pack directory as
    the working directory, which is what a relative path in the requirements resolves against.

    The CLI installs a pack's dependencies through its language host (pulumi/pulumi
    pkg/cmd/pulumi/policy/io.go ``InstallPluginDependencies``: the pack's root, Main "."); the Python
    host's pip toolchain runs pip with ``Dir`` set to that program directory
    (sdk/python/toolchain/pip.go ``InstallDependencies``)."""
    run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", "requirements.txt"],
        cwd=str(project.dir), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


BUILD_OUTPUT = ("__pycache__", "build", "dist")
"""What installing a local directory writes beside its sources (with ``*.egg-info``): not part of it."""


def _local_sources(project: PackProject, requirements: bytes) -> bytes:
    """Every file of the local directories the requirements install (``./vendor``), path and content:
    pip copies them into the venv, so a change to them needs a new venv."""
    digest = hashlib.sha256()
    for line in requirements.decode("utf-8", "replace").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line.startswith("./"):
            continue
        root = (project.dir / line).resolve()
        if not root.is_relative_to(project.dir.resolve()) or not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            parts = path.relative_to(root).parts
            if path.is_file() and not any(p in BUILD_OUTPUT or p.endswith(".egg-info") for p in parts):
                digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


def _fingerprint(project: PackProject) -> str:
    """Changes when the requirements, the local sources they install, or the interpreter building the
    venv change."""
    try:
        requirements = (project.dir / "requirements.txt").read_bytes()
    except OSError:
        requirements = b""
    return hashlib.sha256(requirements + _local_sources(project, requirements) + sys.version.encode()).hexdigest()


def _imports_ok(python: Path, run: Runner, *, full: bool) -> bool:
    """Can ``python`` find (``full``: import) every module the pack needs?"""
    probe = (f"import {', '.join(PACK_MODULES)}" if full else
             f"import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in {PACK_MODULES!r}))")
    try:
        run([str(python), "-c", probe], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def _venv_ready(venv: Path, python: Path, project: PackProject, run: Runner) -> bool:
    try:
        marker = (venv / VENV_MARKER).read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return marker == _fingerprint(project) and python.exists() and _imports_ok(python, run, full=False)


def _relocate(built: Path, final: Path) -> None:
    """Point the scripts of a venv built at ``built`` (activate, pip's shebangs) at ``final``.
    The interpreter itself and ``python -m`` never depend on the venv's path."""
    old, new = str(built).encode(), str(final).encode()
    bindir = built / ("Scripts" if os.name == "nt" else "bin")
    for script in bindir.iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        data = script.read_bytes()
        if old in data and b"\0" not in data[:1024]:
            script.write_bytes(data.replace(old, new))


def pack_python(project: PackProject, *, create: bool = True, log: IO[str] | None = None,
                run: Runner = subprocess.run, install: Installer = pip_install) -> str:
    """The interpreter the pack runs with; builds the pack's virtualenv when it is missing,
    incomplete (no completion marker, e.g. after a killed install) or fails the import check.

    Concurrent first runs are safe: the build holds an exclusive lock beside the venv, happens in
    a temp directory, passes an import check, and is renamed into place with its marker, so a
    venv at the final path is always complete.
    """
    override = os.environ.get(PACK_PYTHON_ENV)
    if override:
        # The pack runs in its own directory: a relative path is taken from here, a bare name from PATH.
        return os.path.abspath(override) if os.sep in override else (shutil.which(override) or override)
    if project.runtime != "python":
        raise PolicyPackError(f"{project.dir}: runtime '{project.runtime}' is not supported by preflight (python only)")
    python = project.venv_python
    if python is None:
        return shutil.which("python3") or shutil.which("python") or sys.executable
    venv = project.dir / str(project.virtualenv)
    if _venv_ready(venv, python, project, run):
        return str(python)
    if not create:
        raise PolicyPackError(f"{project.dir}: the pack's virtualenv {project.virtualenv} does not exist or is incomplete")
    lock_path = project.dir / f".{venv.name}.preflight-lock"
    try:
        lock = open(lock_path, "a+b")
    except OSError as exc:
        raise PolicyPackError(f"{lock_path}: cannot create the build lock: {exc.strerror or exc}") from None
    with lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file closes, or the process dies
        if _venv_ready(venv, python, project, run):
            return str(python)  # built by a concurrent run while this one waited
        _build_venv(project, venv, python, log=log, run=run, install=install)
    return str(python)


def _build_venv(project: PackProject, venv: Path, python: Path, *, log: IO[str] | None, run: Runner,
                install: Installer) -> None:
    for stale in project.dir.glob(f".{venv.name}.preflight-*-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed build: the lock says nobody else is building
    print(f"preflight: installing the policy pack's dependencies into {venv} (once)", file=log or sys.stderr)
    build = Path(tempfile.mkdtemp(prefix=f".{venv.name}.preflight-build-", dir=project.dir))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(build, 0o777 & ~umask)  # as `python -m venv` would create it, not mkdtemp's 0700
    built_python = build / python.relative_to(venv)
    try:
        run([sys.executable, "-m", "venv", "--prompt", venv.name, str(build)], cwd=str(project.dir), check=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        install(built_python, project, run)
        if not _imports_ok(built_python, run, full=True):
            raise PolicyPackError(f"{project.dir}: the installed virtualenv cannot import {', '.join(PACK_MODULES)}")
        _relocate(build, venv)
        (build / VENV_MARKER).write_text(_fingerprint(project) + "\n", encoding="utf-8")
        if venv.exists() or venv.is_symlink():
            # An incomplete or outdated venv: move it aside in one rename, then delete it.
            old = Path(tempfile.mkdtemp(prefix=f".{venv.name}.preflight-old-", dir=project.dir))
            os.rename(venv, old / venv.name)
            shutil.rmtree(old, ignore_errors=True)
        os.rename(build, venv)
    except (OSError, subprocess.CalledProcessError, PolicyPackError) as exc:
        shutil.rmtree(build, ignore_errors=True)  # never leave a half-built venv behind
        if isinstance(exc, PolicyPackError):
            raise
        detail = getattr(exc, "stderr", b"") or b""
        tail = detail.decode("utf-8", "replace").strip().splitlines()[-3:] if isinstance(detail, bytes) else []
        raise PolicyPackError(f"{project.dir}: cannot install the pack's requirements: {exc}"
                              + "".join(f"\n  {line}" for line in tail)
                              + "\n  (preview without the pack: --no-policy)") from None
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
