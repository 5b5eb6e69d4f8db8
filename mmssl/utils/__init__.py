"""Launch utilities shared by the tools."""
from .launch import (load_tool_config, prepare_distributed_launch,
                     trust_checkpoints_on_resume)

__all__ = [
    'load_tool_config', 'prepare_distributed_launch',
    'trust_checkpoints_on_resume'
]
