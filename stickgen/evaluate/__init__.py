"""Is a generated animation good? The text-to-motion evaluation protocol for stick figures.

An evaluator (a motion encoder and its own word-level text encoder trained contrastively from
scratch, plus a per-frame action classifier) is trained on a dataset's train split and frozen;
ground truth, baselines, noise calibration rows and trained checkpoints are then scored on the
test split with R-precision (in random pools and in hard pools of look-alike prompts), MM-Dist,
FID, diversity, multimodality, action and physics metrics over repeats.

    evaluate_checkpoints(dataset_dir, checkpoints, out_dir=...) -> dict   # the whole run
    train_evaluator(dataset_dir, out_path=...) -> Evaluator; Evaluator.load(path)
"""

from stickgen.evaluate.evaluator import Evaluator
from stickgen.evaluate.networks import EvaluatorConfig
from stickgen.evaluate.protocol import METRICS, Protocol, score_systems
from stickgen.evaluate.run import evaluate_checkpoints, obtain_evaluator
from stickgen.evaluate.systems import System, TestSet
from stickgen.evaluate.training import EvaluatorTraining, train_evaluator

__all__ = [
    "METRICS",
    "Evaluator",
    "EvaluatorConfig",
    "EvaluatorTraining",
    "Protocol",
    "System",
    "TestSet",
    "evaluate_checkpoints",
    "obtain_evaluator",
    "score_systems",
    "train_evaluator",
]
