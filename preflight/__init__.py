"""preflight: the offline preview of ai-platform stacks (Pulumi mocks, no cloud, no CLI)."""
