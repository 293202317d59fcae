"""The class-suite harness judges only the sample: the good stack alone is allowed, one known
violation is reported as disallowed, and a wrong expectation fails."""

from __future__ import annotations

import pytest

from tests.policypacks import builders as b
from tests.policypacks.classes.suite import adding, allowed, check, disallowed


def test_an_unchanged_good_stack_is_allowed(pack):
    check(pack, allowed("unchanged", lambda stack: stack, "no-public-exposure", "gpu-request-valid"))


def test_an_added_public_load_balancer_is_disallowed_and_a_wrong_verdict_fails(pack):
    public = b.service("public", "project-nova", "LoadBalancer",
                       {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"})
    case = disallowed("public-lb", adding(public), "no-public-load-balancer")
    check(pack, case)
    with pytest.raises(AssertionError):
        check(pack, allowed("public-lb-claimed-allowed", adding(public), "no-public-load-balancer"))
