"""Training-loop glue: hooks, the resumable epoch loop and the random states
they carry across a resume."""
from . import hooks, runner  # noqa: F401
from .random_states import get_random_states, set_random_states

__all__ = ['hooks', 'runner', 'get_random_states', 'set_random_states']
