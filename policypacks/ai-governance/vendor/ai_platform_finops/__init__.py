"""ai-platform's FinOps core, importable by the program, preflight and the policy pack alike.

It has no dependency beyond the standard library, so the policy pack's own virtualenv can
install it from `policypacks/ai-governance/requirements.txt` without the program's SDKs.
"""
