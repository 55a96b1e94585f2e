"""WSGI entry point: `gunicorn 'wsgi:app'`; also the app of `flask` commands (FLASK_APP)."""

import gc

from app import create_app

app = create_app()
# The app and its libraries live as long as the process: out of the cycle collector's
# generations, they are not walked again by every full collection, nor by the ones at
# exit (about 0.2 s of CPU per command; bench/README.md).
gc.freeze()
