"""Training-loop glue: hooks."""
from . import hooks  # noqa: F401
