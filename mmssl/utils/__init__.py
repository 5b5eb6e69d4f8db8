"""Launch utilities shared by the tools."""
from .launch import prepare_distributed_launch, trust_checkpoints_on_resume

__all__ = ['prepare_distributed_launch', 'trust_checkpoints_on_resume']
