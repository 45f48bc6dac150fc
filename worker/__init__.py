"""The Celery worker: its app, the tasks, and the job runs they hold."""
