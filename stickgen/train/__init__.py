"""Training the text-to-motion model: `train(dataset_dir, out_dir, TrainConfig(...))`."""

from stickgen.train.checkpoint import load_checkpoint, model_from_checkpoint
from stickgen.train.config import TrainConfig
from stickgen.train.loop import TrainResult, train
from stickgen.train.losses import LossWeights

__all__ = [
    "LossWeights",
    "TrainConfig",
    "TrainResult",
    "load_checkpoint",
    "model_from_checkpoint",
    "train",
]
