"""components/inference/render.py: every child's inputs at once, and the same as the engine receives them."""

from __future__ import annotations

import tests.support.builders as b
from components.inference.render import manifests, render


def test_manifests_are_the_rendered_children_in_engine_form():
    args = b.inference_args()
    rendered = render(args)
    objects = manifests(args)
    assert [o["kind"] for o in objects] == ["ServiceAccount", "Deployment", "Service", "HorizontalPodAutoscaler"]
    deployment = objects[1]
    assert deployment["metadata"]["name"] == b.SERVICE == rendered.metadata["name"]
    # camelCase, as the engine and the policy pack see it
    assert deployment["spec"]["progressDeadlineSeconds"] == rendered.deployment["progress_deadline_seconds"]
    assert objects[0]["automountServiceAccountToken"] is rendered.automount_service_account_token
