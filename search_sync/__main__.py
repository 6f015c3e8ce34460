"""``python -m search_sync``: run the worker."""

import logging

from portal import create_app

from .worker import run

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
app = create_app()
with app.app_context():
    run(app=app)
