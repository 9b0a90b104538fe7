"""Training, evaluation and safe persistence of the classifier."""
