"""The observability stack: pure builders (metrics, rules, Alertmanager config, chart values) and its component."""
