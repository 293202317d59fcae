"""``python -m preflight init``: the org's answers written into a new stack and its pack config.

Run on a copy of the shipped stacks: init's templates are the shipped ``stacks/Pulumi.<environment>.yaml``
and their pack configs, so what it writes from them is what a user gets.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from components.config.loader import TEMPLATE_ANSWER_KEYS
from preflight.analyzer import PACK_PYTHON_ENV
from preflight.cli import main
from preflight.init import QUESTIONS
from tests.support.shipped import ROOT, own_stacks_project

ANSWERS = ["--region", "us-east-2", "--tag-prefix", "finops.acme.io", "--cost-center", "platform",
           "--admin-role", "arn:aws:iam::210987654321:role/platform-admin", "--alert-email", "finops@acme.io",
           "--alert-email", "oncall@acme.io", "--runner-cidr", "198.18.0.0/24"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose stacks/ and pack config/ are its own (everything else linked)."""
    return own_stacks_project(tmp_path)


def _init(project: Path, *argv: str) -> int:
    return main(["init", "--project-dir", str(project), *argv])


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_init_writes_a_stack_that_previews_green_with_its_pack_config(project, environment, monkeypatch, capsys):
    stack = f"acme-{environment}"
    assert _init(project, "--stack", stack, "--environment", environment, *ANSWERS) == 0
    written = yaml.safe_load((project / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    assert written["aws:region"] == "us-east-2"
    assert written["ai-platform:finops"]["tagPrefix"] == "finops.acme.io"
    assert written["ai-platform:budgets"]["alertEmails"] == ["finops@acme.io", "oncall@acme.io"]
    assert written["ai-platform:cluster"]["runnerCidrs"] == ["198.18.0.0/24"]
    assert "publicAccessCidrs" not in written["ai-platform:cluster"]  # the example's office ranges are gone
    # The model stores are the new cluster's and the org's: the services' images, weights and reports follow.
    assert written["ai-platform:modelStore"]["namePrefix"] == "acme"
    for service in written["ai-platform:services"]:
        assert service["model"]["image"].startswith(f"210987654321.dkr.ecr.us-east-2.amazonaws.com/ai-platform-{stack}/")
        assert service["model"]["artifactUri"].startswith(f"s3://acme-ai-platform-{stack}-{service['project']}-models/")
    text = (project / "stacks" / f"Pulumi.{stack}.yaml").read_text()
    assert "123456789012" not in text and text.startswith(f"# {stack}: written by `python -m preflight init`")
    pack_config = (project / "policypacks" / "ai-governance" / "config" / f"{stack}.json").read_text()
    assert "210987654321.dkr.ecr.us-east-2.amazonaws.com/" in pack_config and "123456789012" not in pack_config
    capsys.readouterr()

    monkeypatch.setenv(PACK_PYTHON_ENV, sys.executable)
    monkeypatch.setenv("AI_GOVERNANCE_AS_OF", "2026-12-01")
    out = project / "report.json"
    code = main(["preview", "--stack", stack, "--project-dir", str(project), "--json", str(out)])
    report = json.loads(out.read_text())
    assert [v for v in report["policy"]["violations"] if v["level"] == "mandatory"] == []
    assert code == 0 and report["policy"]["packs"][0]["config"] == f"policypacks/ai-governance/config/{stack}.json"


def test_init_never_overwrites_a_stack(project, capsys):
    before = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    assert _init(project, "--stack", "dev", *ANSWERS) == 2
    assert capsys.readouterr().err == ("preflight: init: stacks/Pulumi.dev.yaml already exists; pick another --stack "
                                       "(init never overwrites a stack)\n")
    assert (project / "stacks" / "Pulumi.dev.yaml").read_text() == before


def test_missing_and_bad_answers_are_listed_at_once_and_nothing_is_written(project, capsys, monkeypatch):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    assert _init(project, "--stack", "acme", "--region", "mars", "--runner-cidr", "10.0.0.1/8") == 2
    assert capsys.readouterr().err.splitlines() == [
        "preflight: init: --environment: is required: one of dev, staging, prod",
        "--region: is not an AWS region code such as us-east-1",
        "--tag-prefix: is required (FinOps tag prefix (your domain, e.g. finops.acme.io))",
        "--cost-center: is required (Cost center of the platform's own resources)",
        "--admin-role: is required (IAM role ARN given cluster-admin)",
        "--alert-email: is required (Budget alert emails (comma-separated))",
        "--runner-cidr: 10.0.0.1/8: 10.0.0.1/8 has host bits set",
    ]
    assert not (project / "stacks" / "Pulumi.acme.yaml").exists()


def test_example_values_left_in_the_answers_are_refused(project, capsys):
    answers = [a.replace("198.18.0.0/24", "203.0.113.0/24") for a in ANSWERS]
    assert _init(project, "--stack", "acme", "--environment", "dev", *answers) == 2
    err = capsys.readouterr().err
    assert err.startswith("preflight: init: the new stack would not pass its checks:\nstacks/Pulumi.acme.yaml: "
                          "cluster.runnerCidrs[0]: '203.0.113.0/24' is an example value")
    assert not (project / "stacks" / "Pulumi.acme.yaml").exists()


def test_interactive_init_prompts_for_what_is_missing_and_asks_again_on_a_bad_answer(project, capsys):
    from preflight.cli import build_parser
    from preflight.init import run_init

    replies = iter(["staging", "us-east-2", "finops.acme.io", "platform", "not-an-arn",
                    "arn:aws:iam::210987654321:role/admin", "finops@acme.io, oncall@acme.io", "198.18.0.0/24"])
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return next(replies)

    args = build_parser().parse_args(["init", "--stack", "acme", "--project-dir", str(project)])
    assert run_init(args, ask=ask) == 0
    assert asked[0].startswith("Environment") and asked.count("IAM role ARN given cluster-admin: ") == 2
    written = yaml.safe_load((project / "stacks" / "Pulumi.acme.yaml").read_text())["config"]
    assert written["aws:region"] == "us-east-2"
    assert written["ai-platform:budgets"]["alertEmails"] == ["finops@acme.io", "oncall@acme.io"]


def test_init_completes_the_stack_file_pulumi_new_wrote(project, capsys):
    stub = {"encryptionsalt": "v1:abc:def", "config": {
        "aws:region": "eu-central-1", "ai-platform:environment": "staging",
        "ai-platform:orgTagPrefix": "finops.acme.io", "ai-platform:orgCostCenter": "platform",
        "ai-platform:orgAdminRoleArn": "arn:aws:iam::210987654321:role/admin",
        "ai-platform:orgAlertEmails": "finops@acme.io,oncall@acme.io", "ai-platform:orgRunnerCidrs": "198.18.0.0/24"}}
    path = project / "stacks" / "Pulumi.acme.yaml"
    path.write_text(yaml.safe_dump(stub))
    code = main(["preview", "--stack", "acme", "--project-dir", str(project), "--no-policy"])
    assert code == 2 and "ai-platform:orgTagPrefix: is a `pulumi new` answer; run `python -m preflight init" in (
        capsys.readouterr().err)
    assert _init(project, "--stack", "acme") == 0
    written = yaml.safe_load(path.read_text())
    assert written["encryptionsalt"] == "v1:abc:def"
    assert written["config"]["aws:region"] == "eu-central-1"
    assert written["config"]["ai-platform:cluster"]["runnerCidrs"] == ["198.18.0.0/24"]
    assert not [k for k in written["config"] if k.split(":")[-1] in TEMPLATE_ANSWER_KEYS]


def test_pulumi_yaml_template_asks_exactly_what_init_asks():
    template = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["template"]["config"]
    assert set(template) == {"environment", *(q.template_key for q in QUESTIONS)}
    assert all(entry.get("description") for entry in template.values())
