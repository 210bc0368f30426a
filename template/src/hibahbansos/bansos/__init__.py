"""Bansos (bantuan sosial): social assistance in money or goods to people, families and groups.

The recipient registry (`recipients`), its import from DTKS/DTSEN extracts (`importer`), the
review of likely duplicates (`duplicates`), the region's bansos programmes (`programmes`), the
distribution cycle from selection to accountability report (`distributions`, `documents`),
what staff may see of personal data (`privacy`) and what the public sees (`portal`).

This module stays light: the migrations import `schema` from it, so the views are imported
only when the app registers them.
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Register the bansos blueprint and its template filters on the app."""
    from hibahbansos.bansos import privacy, views

    app.register_blueprint(views.bp)
    privacy.init_app(app)
