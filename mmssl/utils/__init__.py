"""Utilities shared by the tools: launching, and the trainer's thread policy."""
from .launch import (load_tool_config, prepare_distributed_launch,
                     trust_checkpoints_on_resume)
from .threads import (add_threads_argument, apply_thread_policy,
                      config_num_threads, resolve_num_threads, set_runner_threads)

__all__ = [
    'load_tool_config', 'prepare_distributed_launch',
    'trust_checkpoints_on_resume', 'add_threads_argument', 'apply_thread_policy',
    'config_num_threads', 'resolve_num_threads', 'set_runner_threads'
]
