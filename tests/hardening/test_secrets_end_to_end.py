"""Secrets never appear in plaintext anywhere preflight writes.

Distinctive values stand in for decrypted secret config (the Argo CD admin hash and the GitOps
repo token; alert emails are not secret by design). The whole pipeline runs on them: the
program, the cost section, the policy pack over gRPC, and every rendering (plan, cost table,
policy view, JSON report, Markdown comment), with Python logging and stdio captured. The stacks are
the tests' own (``tests.support.fixtures``: sandbox is dev, live is prod).
"""

from __future__ import annotations

import base64
import json
import logging
import sys

import pytest

from components.config import validate_flat_config
from preflight.analyzer import PolicyAnalyzer
from preflight.cost import cost_section, render_cost
from preflight.engine import SECRET_SIG, SIG_KEY, run_program
from preflight.markdown import render_comment
from preflight.policy import policy_section, render_policy
from preflight.report import build_report, render_plan
from tests.support import AWS_STACKS, PROJECT, ROOT, edited_project, stack_source

ADMIN_HASH = "$2a$10$Pq1DISTINCTIVEadminBCRYPThashXo9Lm2Nb3Vc4Xz5Aq6Ws7Ed8Rf9T"
REPO_TOKEN = "github_pat_DISTINCTIVErepoTOKEN0a1b2c3d4e5f6a7b8c9d0e1f"
SECRETS = {"ai-platform:argocdAdminPasswordHash": ADMIN_HASH, "ai-platform:gitopsRepoToken": REPO_TOKEN}


def private_repo(config):
    config["ai-platform:argocd"]["repo"]["private"] = True
    config["ai-platform:argocd"]["adminEnabled"] = True  # the prod stack has admin off; here it signs in with the hash


def forms(secret: str) -> list[str]:
    """The secret itself, its base64 (as a Kubernetes Secret would carry it) and a long fragment."""
    return [secret, base64.b64encode(secret.encode()).decode(), secret[10:40]]


@pytest.mark.parametrize("stack", ["sandbox", "live"])
def test_no_plaintext_secret_in_any_preflight_output(stack, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    source = stack_source(stack, private_repo)
    cfg = validate_flat_config({**source.config, **SECRETS}, source.project, source.source,
                               [*source.secret_keys, *SECRETS])
    recording = run_program(ROOT, source, secret_values=SECRETS)

    pack_dir = ROOT / "policypacks" / "ai-governance"
    config_file = PROJECT / "policypacks" / "ai-governance" / "config" / f"{stack}.json"
    secret_config = {**source.config, **SECRETS}
    with PolicyAnalyzer(pack_dir, project=source.project, stack=stack, config_file=config_file,
                        stack_config=secret_config, secret_keys=list(SECRETS), python=sys.executable,
                        timeout=120) as analyzer:
        run = analyzer.run(recording.resources)

    report = build_report(recording)
    report["cost"] = cost_section(recording, cfg)
    report["policy"] = policy_section(run)
    written = "\n".join([
        json.dumps(report),
        render_plan(recording),
        render_cost(report["cost"]),
        render_policy(report["policy"]),
        render_comment(report),
        json.dumps(recording.logs),
        json.dumps([[r.dependencies, r.property_dependencies] for r in recording.resources]),
        caplog.text,
        *capsys.readouterr(),
    ])
    for secret in SECRETS.values():
        for form in forms(secret):
            assert form not in written, f"{stack}: a secret leaked ({form[:12]}...)"

    # They were used, as secrets: in the Argo CD chart values and the repository Secret.
    def secret_envelopes(value):
        if isinstance(value, dict):
            if value.get(SIG_KEY) == SECRET_SIG:
                return 1
            return sum(secret_envelopes(v) for v in value.values())
        if isinstance(value, list):
            return sum(secret_envelopes(v) for v in value)
        return 0

    argocd = next(r for r in recording.resources if r.type == "kubernetes:helm.sh/v3:Release" and r.name == "argocd")
    assert secret_envelopes(argocd.inputs["values"]) >= 1
    repo_secrets = [r for r in recording.resources if r.type == "kubernetes:core/v1:Secret"
                    and r.inputs.get("metadata", {}).get("labels", {}).get("argocd.argoproj.io/secret-type") == "repository"]
    assert repo_secrets and all(secret_envelopes(r.inputs) for r in repo_secrets)
    assert not run.mandatory, [v.as_json() for v in run.mandatory]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_the_kubeconfig_output_is_a_secret(stack):
    recording = run_program(ROOT, stack_source(stack))
    kubeconfig = recording.outputs["kubeconfig"]
    assert kubeconfig == {SIG_KEY: SECRET_SIG, "value": "[secret]"}


CIPHERTEXT = "v1:DISTINCTIVEciphertextAAAAbbbbCCCCdddd=="


def test_no_plaintext_secret_through_the_cli(tmp_path, monkeypatch, capsys, caplog):
    """The same guarantee as a user gets it: ``python -m preflight preview`` with ``--json`` and
    ``--markdown``, the stack file holding ``secure:`` values. Decryption, which the Pulumi CLI
    does and preflight never does, is stood in for by handing the engine the plaintexts."""
    import functools

    import preflight.cli as cli
    from preflight.cli import main

    def secrets(config):
        private_repo(config)
        for key in SECRETS:
            config[key] = {"secure": CIPHERTEXT}

    project = edited_project(tmp_path, "live", secrets)
    monkeypatch.setattr(cli, "run_program", functools.partial(run_program, secret_values=SECRETS))
    monkeypatch.setenv("PREFLIGHT_POLICY_PYTHON", sys.executable)
    caplog.set_level(logging.DEBUG)
    report, comment = tmp_path / "report.json", tmp_path / "comment.md"
    code = main(["preview", "--stack", "live", "--project-dir", str(project), "--json", str(report),
                 "--markdown", str(comment)])
    out, err = capsys.readouterr()
    assert code == 0, err
    written = "\n".join([report.read_text(), comment.read_text(), out, err, caplog.text])
    for secret in SECRETS.values():
        for form in forms(secret):
            assert form not in written, f"a secret leaked ({form[:12]}...)"
    assert CIPHERTEXT not in written
    document = json.loads(report.read_text())
    argocd = next(r for r in document["resources"] if r["type"] == "kubernetes:helm.sh/v3:Release" and r["name"] == "argocd")
    assert argocd["inputs"]["values"]["configs"]["secret"]["argocdServerAdminPassword"] == {
        SIG_KEY: SECRET_SIG, "value": "[secret]"}


def test_a_plaintext_secret_key_through_the_cli_is_exit_2_and_never_echoed(tmp_path, capsys):
    from preflight.cli import main

    def plaintext(config):
        config["ai-platform:gitopsRepoToken"] = REPO_TOKEN

    project = edited_project(tmp_path, "sandbox", plaintext)
    assert main(["preview", "--stack", "sandbox", "--project-dir", str(project), "--no-policy"]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("stacks/Pulumi.sandbox.yaml: gitopsRepoToken: is set in plaintext") and err.count("\n") == 1
    assert all(form not in out + err for form in forms(REPO_TOKEN))


def test_a_literal_secret_env_through_the_cli_is_exit_2_and_never_echoed(tmp_path, capsys):
    from preflight.cli import main

    def literal(config):
        config["ai-platform:services"][0]["env"] = {"DB_PASSWORD": REPO_TOKEN}

    project = edited_project(tmp_path, "sandbox", literal)
    assert main(["preview", "--stack", "sandbox", "--project-dir", str(project), "--no-policy"]) == 2
    out, err = capsys.readouterr()
    assert "services[0].env: ['DB_PASSWORD'] look secret but are literal values" in err
    assert all(form not in out + err for form in forms(REPO_TOKEN))
