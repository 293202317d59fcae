"""Model stores: per project an ECR repository and an S3 bucket (``store``), per service a read-only
identity for its weights (``access``), and the stack's enhanced image scanning (``scanning``).

The policy documents are built by the pure helpers in ``documents`` from names known at preview
(``components.config.model_store``), so they reach the engine, and the policy pack, as plain JSON.
"""
