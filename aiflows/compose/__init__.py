"""Composites written as data: steps in order, loops, branches, fan-outs."""

from .branch import Branch
from .loop import Loop
from .parallel import Map, Parallel
from .sequential import Sequential
from .step import Step

__all__ = ["Branch", "Loop", "Map", "Parallel", "Sequential", "Step"]
