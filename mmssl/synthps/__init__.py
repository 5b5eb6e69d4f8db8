"""SynthPS: the embedded synthetic person-search dataset, rendered in the PRW layout.

``render_synthps(root, ...)`` renders frames, annotations, instance masks, split lists
and queries into ``root``; ``synthps_statistics(root)`` reads a rendered root back and
summarises it. ``mmssl-synthps`` / ``python -m mmssl.synthps`` is the command
line (see :mod:`mmssl.synthps.cli`).
"""
from .render import render_synthps
from .statistics import format_statistics, synthps_statistics

__all__ = ['render_synthps', 'synthps_statistics', 'format_statistics']
