"""Datasets: generation, augmentation, storage, validation, motion capture."""
