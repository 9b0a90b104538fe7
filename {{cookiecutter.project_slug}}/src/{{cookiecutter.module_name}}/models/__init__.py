"""Training, evaluation and safe persistence of the churn classifier."""
