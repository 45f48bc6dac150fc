"""Pose parameters: what an action produces per frame, before forward kinematics.

A pose is `NUM_CHANNELS` floats per frame:

    TORSO      torso angle from vertical, rad; + leans the neck forward (+x)
    LEFT_ARM   arm angle relative to the torso, rad; 0 hangs along the torso, pi/2 points out of
    RIGHT_ARM  the chest (forward when upright), pi points along the torso past the head
    LEFT_LEG   leg angle in the world, rad; 0 straight down, + forward
    RIGHT_LEG
    LIFT       metres added to the root height (flight phases, climbing, swimming, flying)
    GROUND     1: the lowest point of the figure rests on the ground (plus LIFT);
               0: the hip sits at height LIFT (water surface, flight); blends in between
    SPEED      forward travel, m/s, integrated over the clip
    SHIFT      forward offset of the root, metres, on top of the travel (in-place steps, sway)

Left limbs are the near side. Limbs are single straight segments, so lengths stay constant by
construction once the angles go through `stickgen.motion.kinematics.forward_kinematics`.
"""

from __future__ import annotations

import numpy as np

TORSO, LEFT_ARM, RIGHT_ARM, LEFT_LEG, RIGHT_LEG, LIFT, GROUND, SPEED, SHIFT = range(9)
NUM_CHANNELS = 9
ANGLE_CHANNELS = (TORSO, LEFT_ARM, RIGHT_ARM, LEFT_LEG, RIGHT_LEG)
ARM_CHANNELS = (LEFT_ARM, RIGHT_ARM)


def blank_pose(n: int) -> np.ndarray:
    """`[n, NUM_CHANNELS]` upright pose: all angles 0, grounded, not travelling."""
    pose = np.zeros((n, NUM_CHANNELS))
    pose[:, GROUND] = 1.0
    return pose
