"""Test-quality tooling: per-package coverage thresholds and sampled mutation testing (docs/testing.md)."""
