"""Utilities shared by the tools: launching, the trainer's thread policy, oneDNN's
primitive cache size, the command-line arguments several tools take, and config
entries found by type."""
from .config_entries import (config_hooks, entries_of_type, entry_type_name,
                             evaluator_metrics)
from .launch import (add_launch_arguments, build_runner, load_tool_config,
                     parse_launch_args, prepare_distributed_launch,
                     trust_checkpoints_on_resume)
from .onednn_cache import (PRIMITIVE_CACHE_CAPACITY, enlarge_primitive_cache,
                           primitive_cache_capacity)
from .threads import (add_threads_argument, apply_thread_policy,
                      config_num_threads, resolve_num_threads, set_runner_threads)
from .tool_arguments import (add_model_run_arguments, add_query_box_arguments,
                             model_tool_parser, parse_log_plot_args,
                             parse_run_plot_args, run_plot_parser)

__all__ = [
    'add_launch_arguments', 'build_runner', 'parse_launch_args',
    'load_tool_config', 'prepare_distributed_launch',
    'trust_checkpoints_on_resume', 'add_threads_argument', 'apply_thread_policy',
    'config_num_threads', 'resolve_num_threads', 'set_runner_threads',
    'model_tool_parser', 'add_model_run_arguments', 'add_query_box_arguments',
    'run_plot_parser', 'parse_run_plot_args', 'parse_log_plot_args',
    'config_hooks', 'entries_of_type', 'entry_type_name', 'evaluator_metrics',
    'PRIMITIVE_CACHE_CAPACITY', 'enlarge_primitive_cache',
    'primitive_cache_capacity'
]
