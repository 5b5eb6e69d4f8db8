"""The pose of one sighting of a SynthPS person.

Pose varies a little per sighting: front or back view, mirrored or not, arms and
legs spread, a slight lean.

Plain numpy; no mmdet import.
"""
import dataclasses
from typing import Tuple

import numpy as np


@dataclasses.dataclass(frozen=True)
class Pose:
    """The pose of one sighting.

    Attributes:
        back_view: seen from behind (no face, backpack visible, hair covers head).
        mirrored: drawn mirrored left-right (bags change side).
        arm_spread: outward angles of the left and right arm (degrees).
        leg_spread: outward angles of the left and right leg (degrees).
        knee_bend: extra bend of the lower legs (degrees, signed).
        lean: lean of the whole body (degrees, positive to the right).
    """

    back_view: bool
    mirrored: bool
    arm_spread: Tuple[float, float]
    leg_spread: Tuple[float, float]
    knee_bend: Tuple[float, float]
    lean: float


def random_pose(rng: np.random.Generator) -> Pose:
    """Draw a standing/walking pose with a little variation.

    Args:
        rng: the random generator to draw from.

    Returns:
        A :class:`Pose`.
    """
    stride = float(rng.uniform(0.0, 1.0))
    return Pose(
        back_view=bool(rng.random() < 0.4),
        mirrored=bool(rng.random() < 0.5),
        arm_spread=(float(rng.uniform(4, 10) + 14 * stride * rng.random()),
                    float(rng.uniform(4, 10) + 14 * stride * rng.random())),
        leg_spread=(float(2 + 10 * stride * rng.random()),
                    float(2 + 10 * stride * rng.random())),
        knee_bend=(float(rng.uniform(-6, 6)), float(rng.uniform(-6, 6))),
        lean=float(rng.uniform(-3, 3)),
    )
