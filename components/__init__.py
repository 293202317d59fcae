"""ai-platform components: config contract, then one module per ComponentResource."""
