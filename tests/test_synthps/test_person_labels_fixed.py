"""The part label maps of fixed persons stay bit-identical.

One map per combination of the shape attributes (lower style, sleeves, hair, bag,
hat, a narrow and a broad build) in four poses (front, back, mirrored, leaning)
at four canonical heights; the SHA-256 of all of them was recorded from
``draw_person_labels`` as it was before its drawing steps were split into named
parts, so any change to a proportion or to the drawing order shows here.
"""
import hashlib
import itertools

import numpy as np

from mmssl.synthps.appearance import (BAGS, HAIR_LENGTHS, HATS, LOWER_STYLES,
                                      SLEEVES, PersonAppearance)
from mmssl.synthps.person_labels import draw_person_labels
from mmssl.synthps.pose import Pose

POSES_AND_HEIGHTS = (
    (Pose(back_view=False, mirrored=False, arm_spread=(6, 9), leg_spread=(4, 7),
          knee_bend=(0, 3), lean=0.0), 96),
    (Pose(back_view=True, mirrored=False, arm_spread=(12, 5), leg_spread=(9, 2),
          knee_bend=(-4, 5), lean=2.5), 173),
    (Pose(back_view=False, mirrored=True, arm_spread=(20, 8), leg_spread=(2, 11),
          knee_bend=(6, -6), lean=-1.7), 131),
    (Pose(back_view=True, mirrored=True, arm_spread=(4, 4), leg_spread=(3, 3),
          knee_bend=(0, 0), lean=0.0), 256),
)
RECORDED_SHA256 = ('b37b504071f3ff9f2c8328110ff50987'
                   '9fbc3c4d92aeaf3985f91e5f6f260295')


def label_maps_digest() -> str:
    """SHA-256 over the shapes and bytes of every fixed label map, in order."""
    digest = hashlib.sha256()
    for lower, sleeves, hair, bag, hat, build in itertools.product(
            LOWER_STYLES, SLEEVES, HAIR_LENGTHS, BAGS, HATS, (0.82, 1.22)):
        appearance = PersonAppearance(
            upper_colour=0, upper_pattern='plain', pattern_colour=1,
            sleeves=sleeves, lower_colour=0, lower_style=lower, hair_colour=0,
            hair_length=hair, skin_tone=0, shoe_colour=0, bag=bag, bag_colour=0,
            hat=hat, hat_colour=0, build=build)
        for pose, height in POSES_AND_HEIGHTS:
            labels = draw_person_labels(appearance, pose, height)
            digest.update(np.asarray(labels.shape, dtype=np.int64).tobytes())
            digest.update(labels.tobytes())
    return digest.hexdigest()


def test_fixed_label_maps_are_unchanged():
    assert label_maps_digest() == RECORDED_SHA256
