"""Celery worker: the app, its tasks, and the job-row helpers they share with the API."""
