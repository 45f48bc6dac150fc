"""Stick-Gen: text prompt to animated stick figure, with a text-to-motion model trained on CPU."""

__version__ = "0.1.0"
