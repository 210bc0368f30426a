"""Bansos (bantuan sosial): social assistance in money or goods to people, families and groups.

The recipient registry (`recipients`), its import from DTKS/DTSEN extracts (`importer`), the
review of likely duplicates (`duplicates`), the region's bansos programmes (`programmes`), the
distribution cycle from selection to accountability report (`distributions`, `documents`),
what staff may see of personal data (`privacy`) and what the public sees (`portal`).

This module stays light: the migrations import `schema` from it, so the views are imported
only when the app registers them.
"""

from __future__ import annotations

from flask import Flask, request

# A DTKS extract of a whole kabupaten runs to tens of megabytes, far above the limit for
# documents; only the import upload may be this large (it is streamed to disk, not memory).
IMPORT_MAX_MB = 512


def _import_upload_limit() -> None:
    if request.endpoint == "bansos.import_upload":
        request.max_content_length = IMPORT_MAX_MB * 1024 * 1024


def register(app: Flask) -> None:
    """Register the bansos blueprint and its template filters on the app."""
    from hibahbansos.bansos import privacy, views

    app.register_blueprint(views.bp)
    # First of all before-request functions: CSRF protection reads the form, and with it the
    # upload, before any view runs.
    app.before_request_funcs.setdefault(None, []).insert(0, _import_upload_limit)
    privacy.init_app(app)
