"""The local web page of a gallery index (optional extra ``mmssl[demo]``: Flask).

``create_app(index)`` builds the Flask application; ``tools/serve_gallery.py``
serves it (``docs/gallery.md``).
"""
from .app import create_app, enlarged_crop

__all__ = ['create_app', 'enlarged_crop']
