"""Feature construction, transformation and selection as one sklearn Pipeline."""
