"""``python -m preflight advise``: measured GPU use and actual spend become a reviewed stack-file change.

One idea per module: ``queries`` (metric names and PromQL), ``prometheus`` (the HTTP API and the
saved-metrics file), ``costexplorer`` (GetCostAndUsage and the saved-costs file), ``stats``
(percentiles, hourly profiles, forecast, anomalies), ``rules`` (recommendations and guardrails),
``edits`` (round-trip stack-file edits), ``pricing`` (the stack priced before and after through
preflight's estimator), ``render`` (human and Markdown views) and ``command`` (the CLI).
"""
