"""The Stick-Gen HTTP service: FastAPI routes, settings, database models and migrations glue."""
