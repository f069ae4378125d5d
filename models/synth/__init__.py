"""Synthetic plates for training and testing the reader: ``sample(rng)`` is the entry point."""

from models.synth.augment import Sample, sample
from models.synth.layouts import LAYOUT_NAMES, LAYOUTS, Layout, layout

__all__ = ["LAYOUTS", "LAYOUT_NAMES", "Layout", "Sample", "layout", "sample"]
