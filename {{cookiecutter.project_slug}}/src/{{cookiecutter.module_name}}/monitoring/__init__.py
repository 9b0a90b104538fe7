"""Monitoring: drift between the training data and what the service sees, the feedback loop, retraining."""
