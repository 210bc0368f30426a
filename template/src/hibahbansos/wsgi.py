"""WSGI entry point for gunicorn: `gunicorn hibahbansos.wsgi:app`."""

from hibahbansos import create_app

app = create_app()
