"""Pure builders of an InferenceService's Kubernetes inputs; components/inference_service.py is the shell."""
