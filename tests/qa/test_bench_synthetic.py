"""The benchmark's synthetic stacks are valid stack configs, grown from prod with every project
keeping an owner route (a bench that cannot build its stack measures nothing).

A shipped-stack test: the bench grows its stacks from the shipped prod stack, so that is what is checked."""

from __future__ import annotations

from bench.synthetic import synthetic_source
from components.config.loader import validate_flat_config
from tests.support.shipped import ROOT


def test_a_synthetic_stack_validates_and_routes_every_project():
    source = synthetic_source(ROOT, 50)
    config = validate_flat_config(source.config, source.project, source.source, source.secret_keys)
    assert len(config.services) == 50
    projects = {p.name for p in config.projects}
    assert {s.project for s in config.services} <= projects
    assert set(config.observability.receivers) == projects
