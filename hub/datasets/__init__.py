"""Datasets: stored definitions, the uniform shared-data API, its OpenAPI and the CLI."""
