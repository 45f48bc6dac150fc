"""The Stick-Gen HTTP service: FastAPI routes, request/response schemas, checks, the web page."""
