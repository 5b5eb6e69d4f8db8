"""Training-loop glue: hooks and the resumable epoch loop."""
from . import hooks, runner  # noqa: F401
