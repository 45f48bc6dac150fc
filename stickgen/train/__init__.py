"""Training the text-to-motion model on CPU: `train(dataset_dir, out_dir, ...)`."""

from stickgen.train.checkpoint import load_checkpoint, model_from_checkpoint
from stickgen.train.loop import TrainResult, train
from stickgen.train.losses import LossWeights

__all__ = ["LossWeights", "TrainResult", "load_checkpoint", "model_from_checkpoint", "train"]
