"""Uploaded xAPI (Tin Can) packages: upload, serving and launch from an e-learning module.

The package's statements come back through the LRS; the courses progress projection counts
its root activity as the module (see :func:`lms.courses.cohorts.progress.register_module_aliases`).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the pages, the mapping of package activities to modules and the files that
    count in the organization's disk quota (packages and exercise hand-ins).
    """
    from lms.courses.cohorts import progress
    from lms.packages import (
        models,  # noqa: F401  (tables known to migrations)
        queries,
        storage,
        views,
    )

    app.register_blueprint(views.bp)
    storage.register()
    # Explicit wiring: courses knows nothing of packages.
    progress.register_module_aliases(queries.module_aliases)
