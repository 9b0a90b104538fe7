"""The prediction service: FastAPI app, model loading, batching, deployment strategies, metrics."""
