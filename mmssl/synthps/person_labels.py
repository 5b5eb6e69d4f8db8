"""The part label map of one articulated person (head, torso, arms, legs).

A person is drawn as a map of part labels (skin, hair, top, trousers, shoes, bag,
hat...) at a canonical height ``h``; :mod:`mmssl.synthps.person` colours it and
shrinks it to the height it has in the frame. Every position and size is a named
fraction of ``h`` from :mod:`mmssl.synthps.body_proportions` (body widths also
scale with the appearance's ``build``), measured down from the top of the head and
across from the body axis. The parts are drawn back to front, each by its own
function.

The pose of the sighting (:mod:`mmssl.synthps.pose`) decides the view, the limbs'
angles, the lean and the mirroring.

Plain numpy/OpenCV; no mmdet import.
"""
import dataclasses
import math
from typing import Tuple

import cv2
import numpy as np

from . import body_proportions as body
from .appearance import PersonAppearance
from .pose import Pose

# Part labels of the canonical drawing.
BACKGROUND, SKIN, HAIR, UPPER, LOWER, SHOES, BAG, HAT, STRAP, DARK = range(10)

LEFT, RIGHT = -1.0, 1.0


# ------------------------------------------------------------ drawing tools


def _towards(start: np.ndarray, length: float, angle_deg: float) -> np.ndarray:
    """The point ``length`` away from ``start``, ``angle`` from straight down."""
    angle = math.radians(angle_deg)
    return start + length * np.array([math.sin(angle), math.cos(angle)])


def _pixel(point: np.ndarray) -> Tuple[int, ...]:
    """A canonical point rounded to a pixel, as OpenCV takes it."""
    return tuple(np.round(point).astype(int))


def _limb(labels: np.ndarray, start: np.ndarray, end: np.ndarray,
          start_width: float, end_width: float, label: int) -> None:
    """Fill a tapered limb (a quadrilateral with rounded joints) into ``labels``."""
    direction = end - start
    length = float(np.hypot(*direction))
    if length < 1e-6:
        return
    normal = np.array([-direction[1], direction[0]]) / length
    quad = np.array([
        start + normal * start_width / 2, end + normal * end_width / 2,
        end - normal * end_width / 2, start - normal * start_width / 2
    ])
    cv2.fillConvexPoly(
        labels, np.round(quad).astype(np.int32), label, lineType=cv2.LINE_8)
    for centre, width in ((start, start_width), (end, end_width)):
        cv2.circle(labels, tuple(int(round(v)) for v in centre),
                   max(1, int(round(width / 2))), label, -1)


def _split_limb(labels: np.ndarray, start: np.ndarray, end: np.ndarray,
                start_width: float, end_width: float, split: float,
                first_label: int, second_label: int) -> None:
    """A limb whose first ``split`` share has one label and the rest another."""
    middle = start + split * (end - start)
    middle_width = start_width + split * (end_width - start_width)
    _limb(labels, middle, end, middle_width, end_width, second_label)
    _limb(labels, start, middle, start_width, middle_width, first_label)


@dataclasses.dataclass
class _Canvas:
    """The label map being drawn and the frame of its proportions.

    Attributes:
        labels: the ``(rows, cols)`` uint8 label map.
        h: the canonical height (pixels).
        build: the body width factor.
        centre_x: column of the body axis.
        top: row of the top of the head.
    """

    labels: np.ndarray
    h: float
    build: float
    centre_x: float
    top: float

    @classmethod
    def for_person(cls, height: int, build: float) -> '_Canvas':
        """An empty map with room for a person of ``height`` and ``build``."""
        h = float(height)
        margin = int(body.MARGIN * h)
        rows = int(h + 2 * margin)
        cols = int(body.CANVAS_WIDTH * h * max(build, 1.0) + 2 * margin)
        return cls(
            np.zeros((rows, cols), dtype=np.uint8), h, build, cols / 2.0,
            float(margin))

    @property
    def shoulder_half(self) -> float:
        """Half the shoulder width (a fraction of ``h``)."""
        return body.SHOULDER_HALF_WIDTH * self.build

    @property
    def hip_half(self) -> float:
        """Half the hip width (a fraction of ``h``)."""
        return body.HIP_HALF_WIDTH * self.build

    def at(self, fx: float, fy: float) -> np.ndarray:
        """Canonical point from fractions of the height around the body axis."""
        return np.array([self.centre_x + fx * self.h, self.top + fy * self.h],
                        dtype=np.float64)

    def body_width(self, fraction: float) -> float:
        """A limb width in pixels: ``fraction`` of the height, times the build."""
        return fraction * self.h * self.build

    def limb(self, start: np.ndarray, end: np.ndarray, start_width: float,
             end_width: float, label: int) -> None:
        """:func:`_limb` on this map (widths as fractions of the height)."""
        _limb(self.labels, start, end, start_width * self.h, end_width * self.h,
              label)

    def trapezoid(self, top: Tuple[float, float], bottom: Tuple[float, float],
                  label: int) -> None:
        """A trapezoid symmetric about the axis, from ``(half width, y)`` of its
        top and bottom edges."""
        (top_half, top_y), (bottom_half, bottom_y) = top, bottom
        corners = np.array([
            self.at(-top_half, top_y),
            self.at(top_half, top_y),
            self.at(bottom_half, bottom_y),
            self.at(-bottom_half, bottom_y)
        ])
        cv2.fillConvexPoly(self.labels, np.round(corners).astype(np.int32), label)

    def rectangle(self, top_left: np.ndarray, bottom_right: np.ndarray,
                  label: int) -> None:
        """A filled axis-aligned rectangle between two canonical points."""
        cv2.rectangle(self.labels, _pixel(top_left), _pixel(bottom_right), label,
                      -1)


# ------------------------------------------------------------- the parts


def _draw_behind_the_body(canvas: _Canvas, appearance: PersonAppearance,
                          pose: Pose) -> None:
    """Long hair and a backpack seen from the front: behind everything else
    (seen from the back both are drawn over the body later)."""
    if pose.back_view:
        return
    if appearance.hair_length == 'long':
        canvas.trapezoid(*body.LONG_HAIR_BEHIND, HAIR)
    if appearance.bag == 'backpack':
        half = canvas.shoulder_half + body.BACKPACK_OVERHANG
        canvas.rectangle(
            canvas.at(-half, body.SHOULDER_Y),
            canvas.at(half, body.BACKPACK_FRONT_BOTTOM_Y), BAG)


def _draw_legs(canvas: _Canvas, appearance: PersonAppearance, pose: Pose) -> None:
    """Hip -> knee -> ankle per leg (trousers, shorts or bare under a skirt),
    then the shoes."""
    labels, h = canvas.labels, canvas.h
    thigh_w, knee_w, ankle_w = (canvas.body_width(body.THIGH_WIDTH),
                                canvas.body_width(body.KNEE_WIDTH),
                                canvas.body_width(body.ANKLE_WIDTH))
    shin_label = LOWER if appearance.lower_style == 'trousers' else SKIN
    ankles = []
    for side, spread, bend in ((LEFT, pose.leg_spread[0], pose.knee_bend[0]),
                               (RIGHT, pose.leg_spread[1], pose.knee_bend[1])):
        hip = canvas.at(side * body.LEG_ROOT_OFFSET * canvas.build, body.HIP_Y)
        knee = _towards(hip, body.THIGH_LENGTH * h, side * spread)
        ankle = _towards(knee, body.SHIN_LENGTH * h, side * spread + bend)
        _limb(labels, knee, ankle, knee_w, ankle_w, shin_label)
        if appearance.lower_style == 'shorts':
            _split_limb(labels, hip, knee, thigh_w, knee_w, body.SHORTS_SHARE,
                        LOWER, SKIN)
        else:  # a skirt is drawn over bare thighs by _draw_pelvis
            _limb(labels, hip, knee, thigh_w, knee_w, shin_label)
        ankles.append((ankle, side))
    for ankle, side in ankles:
        foot_centre = ankle + np.array(
            [side * body.FOOT_OFFSET[0] * h, body.FOOT_OFFSET[1] * h])
        cv2.ellipse(labels, _pixel(foot_centre),
                    (max(1, int(body.FOOT_HALF_AXES[0] * h)),
                     max(1, int(body.FOOT_HALF_AXES[1] * h))), 0, 0, 360, SHOES, -1)


def _draw_pelvis(canvas: _Canvas, appearance: PersonAppearance) -> None:
    """Waistband to crotch, and a skirt over the thighs."""
    hip_half = canvas.hip_half
    skirt = appearance.lower_style == 'skirt'
    canvas.trapezoid((hip_half, body.WAISTBAND_Y),
                     (hip_half + body.PELVIS_FLARE, body.CROTCH_Y),
                     SKIN if skirt else LOWER)
    if skirt:
        canvas.trapezoid((hip_half, body.WAISTBAND_Y),
                         (hip_half + body.SKIRT_FLARE, body.SKIRT_HEM_Y), LOWER)


def _draw_torso(canvas: _Canvas) -> None:
    """Shoulders -> waist -> hips, in the top's label."""
    shoulder, hip, at = canvas.shoulder_half, canvas.hip_half, canvas.at
    waist = body.WAIST_HALF_WIDTH * canvas.build
    slope = shoulder - body.SHOULDER_SLOPE_INSET
    outline = np.array([
        at(-slope, body.SHOULDER_TOP_Y),
        at(slope, body.SHOULDER_TOP_Y),
        at(shoulder, body.SHOULDER_Y),
        at(waist, body.WAIST_Y),
        at(hip, body.HIP_Y),
        at(-hip, body.HIP_Y),
        at(-waist, body.WAIST_Y),
        at(-shoulder, body.SHOULDER_Y)
    ])
    cv2.fillPoly(canvas.labels, [np.round(outline).astype(np.int32)], UPPER)


def _draw_over_the_torso(canvas: _Canvas, appearance: PersonAppearance,
                         pose: Pose) -> None:
    """A backpack seen from behind, or its straps over the chest; the strap
    of a shoulder bag."""
    shoulder = canvas.shoulder_half
    if appearance.bag == 'backpack' and pose.back_view:
        half = shoulder - body.BACKPACK_INSET
        canvas.rectangle(
            canvas.at(-half, body.SHOULDER_Y),
            canvas.at(half, body.BACKPACK_BACK_BOTTOM_Y), BAG)
    elif appearance.bag == 'backpack':
        top_inset, bottom_inset = body.BACKPACK_STRAP_INSETS
        for side in (LEFT, RIGHT):
            canvas.limb(
                canvas.at(side * (shoulder - top_inset), body.STRAP_TOP_Y),
                canvas.at(side * (shoulder - bottom_inset),
                          body.BACKPACK_STRAP_BOTTOM_Y), body.BACKPACK_STRAP_WIDTH,
                body.BACKPACK_STRAP_WIDTH, STRAP)
    if appearance.bag == 'shoulder':
        canvas.limb(
            canvas.at(-shoulder + body.SHOULDER_STRAP_INSET, body.STRAP_TOP_Y),
            canvas.at(canvas.hip_half + body.SHOULDER_STRAP_PAST_HIP, body.HIP_Y),
            body.SHOULDER_STRAP_WIDTH, body.SHOULDER_STRAP_WIDTH, STRAP)


def _draw_arms(canvas: _Canvas, appearance: PersonAppearance,
               pose: Pose) -> np.ndarray:
    """Shoulder -> elbow -> wrist per arm (sleeves decide the labels), and the
    hands.

    Returns:
        The centre of the right hand.
    """
    labels, h = canvas.labels, canvas.h
    upper_w, elbow_w, wrist_w = (canvas.body_width(body.UPPER_ARM_WIDTH),
                                 canvas.body_width(body.ELBOW_WIDTH),
                                 canvas.body_width(body.WRIST_WIDTH))
    hand = None
    for side, spread in ((LEFT, pose.arm_spread[0]), (RIGHT, pose.arm_spread[1])):
        shoulder = canvas.at(side * (canvas.shoulder_half - body.ARM_ROOT_INSET),
                             body.ARM_ROOT_Y)
        elbow = _towards(shoulder, body.UPPER_ARM_LENGTH * h, side * spread)
        forearm_angle = side * (spread * body.FOREARM_SPREAD)
        wrist = _towards(elbow, body.FOREARM_LENGTH * h, forearm_angle)
        if appearance.sleeves == 'long':
            _limb(labels, elbow, wrist, elbow_w, wrist_w, UPPER)
            _limb(labels, shoulder, elbow, upper_w, elbow_w, UPPER)
        else:
            _limb(labels, elbow, wrist, elbow_w, wrist_w, SKIN)
            _split_limb(labels, shoulder, elbow, upper_w, elbow_w,
                        body.SHORT_SLEEVE_SHARE, UPPER, SKIN)
        hand = _towards(wrist, body.HAND_OFFSET * h,
                        side * spread * body.FOREARM_SPREAD)
        cv2.circle(labels, _pixel(hand), max(1, int(body.HAND_RADIUS * h)), SKIN,
                   -1)
    return hand


def _draw_carried_bag(canvas: _Canvas, appearance: PersonAppearance,
                      right_hand: np.ndarray) -> None:
    """A handbag below the right hand, or a shoulder bag at the right hip."""
    h = canvas.h
    if appearance.bag == 'handbag':
        top_left = right_hand + np.array(
            [-body.HANDBAG_HALF_WIDTH * h, body.HANDBAG_TOP * h])
        bottom_right = right_hand + np.array(
            [body.HANDBAG_HALF_WIDTH * h, body.HANDBAG_BOTTOM * h])
        canvas.rectangle(top_left, bottom_right, BAG)
        inset = body.HANDBAG_HANDLE_INSET * h
        for end in (top_left + np.array([inset, 0]),
                    np.array([bottom_right[0] - inset, top_left[1]])):
            canvas.limb(right_hand, end, body.HANDBAG_HANDLE_WIDTH,
                        body.HANDBAG_HANDLE_WIDTH, STRAP)
    elif appearance.bag == 'shoulder':
        top_y, bottom_y = body.SHOULDER_BAG_Y
        canvas.rectangle(
            canvas.at(canvas.hip_half, top_y),
            canvas.at(canvas.hip_half + body.SHOULDER_BAG_WIDTH, bottom_y), BAG)


def _draw_head(canvas: _Canvas, appearance: PersonAppearance,
               pose: Pose) -> Tuple[Tuple[int, ...], Tuple[int, int]]:
    """The neck, then the head: hair from behind, or a face with hair.

    Returns:
        The head ellipse's centre pixel and half axes (pixels).
    """
    labels, h, at = canvas.labels, canvas.h, canvas.at
    canvas.limb(
        at(0, body.NECK_TOP_Y), at(0, body.NECK_BOTTOM_Y), *body.NECK_WIDTHS, SKIN)
    centre = _pixel(at(0, body.HEAD_CENTRE_Y))
    axes = (max(1, int(body.HEAD_HALF_AXES[0] * h)),
            max(1, int(body.HEAD_HALF_AXES[1] * h)))
    has_hair = appearance.hair_length != 'bald'
    long_hair = appearance.hair_length == 'long'
    if pose.back_view and has_hair:
        cv2.ellipse(labels, centre, axes, 0, 0, 360, HAIR, -1)
        if long_hair:
            canvas.trapezoid(*body.LONG_HAIR_OVER_BACK, HAIR)
        return centre, axes
    cv2.ellipse(labels, centre, axes, 0, 0, 360, SKIN, -1)
    if has_hair:
        cap_axes = (axes[0] + body.HAIR_CAP_GROWTH_PX[0],
                    axes[1] + body.HAIR_CAP_GROWTH_PX[1])
        cv2.ellipse(labels, centre, cap_axes, 0, 180, 360, HAIR, -1)
        if long_hair:
            (x0, y0), (x1, y1), widths = body.HAIR_STRAND
            for side in (LEFT, RIGHT):
                canvas.limb(at(side * x0, y0), at(side * x1, y1), *widths, HAIR)
    if not pose.back_view:
        eye_x, eye_y = body.EYE_POSITION
        for side in (LEFT, RIGHT):
            cv2.circle(labels, _pixel(at(side * eye_x, eye_y)),
                       max(1, int(body.EYE_RADIUS * h)), DARK, -1)
        canvas.limb(
            at(-body.MOUTH_HALF_WIDTH, body.MOUTH_Y),
            at(body.MOUTH_HALF_WIDTH, body.MOUTH_Y), body.MOUTH_WIDTH,
            body.MOUTH_WIDTH, DARK)
    return centre, axes


def _draw_cap(canvas: _Canvas, pose: Pose, head_centre: Tuple[int, ...],
              head_axes: Tuple[int, int]) -> None:
    """A cap over the top half of the head, its brim to the front (turned to
    the right seen from behind)."""
    cap_axes = (head_axes[0] + body.CAP_GROWTH_PX[0],
                head_axes[1] + body.CAP_GROWTH_PX[1])
    cv2.ellipse(canvas.labels, head_centre, cap_axes, 0, 180, 360, HAT, -1)
    turn = RIGHT if pose.back_view else 0.0
    canvas.limb(
        canvas.at(-body.CAP_BRIM_ENDS[0] + turn * body.CAP_BRIM_TURN[0],
                  body.CAP_BRIM_Y),
        canvas.at(body.CAP_BRIM_ENDS[1] + turn * body.CAP_BRIM_TURN[1],
                  body.CAP_BRIM_Y), body.CAP_BRIM_WIDTH, body.CAP_BRIM_WIDTH, HAT)


def _lean_and_mirror(canvas: _Canvas, pose: Pose) -> np.ndarray:
    """The finished map leant around the feet and mirrored as the pose says."""
    labels = canvas.labels
    if abs(pose.lean) > 1e-3:
        rows, cols = labels.shape
        feet = (canvas.centre_x, canvas.top + canvas.h)
        matrix = cv2.getRotationMatrix2D(feet, -pose.lean, 1.0)
        labels = cv2.warpAffine(
            labels,
            matrix, (cols, rows),
            flags=cv2.INTER_NEAREST,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0)
    if pose.mirrored:
        labels = np.ascontiguousarray(labels[:, ::-1])
    return labels


def draw_person_labels(appearance: PersonAppearance, pose: Pose,
                       height: int) -> np.ndarray:
    """Draw the part label map of one person.

    The parts are drawn back to front: what lies behind the body, legs and
    shoes, pelvis, torso, what lies over the torso, arms and hands, a carried
    bag, neck and head, a cap; then the pose's lean and mirroring.

    Args:
        appearance: the person's attributes (shapes depend on sleeves, trousers,
            hair, bag, hat and build).
        pose: the sighting's pose.
        height: canonical height in pixels (top of the head to the soles).

    Returns:
        ``(rows, cols)`` uint8 label map with a margin around the person; labels are
        the module constants ``SKIN`` ... ``DARK``, 0 outside the person.
    """
    canvas = _Canvas.for_person(height, appearance.build)
    _draw_behind_the_body(canvas, appearance, pose)
    _draw_legs(canvas, appearance, pose)
    _draw_pelvis(canvas, appearance)
    _draw_torso(canvas)
    _draw_over_the_torso(canvas, appearance, pose)
    right_hand = _draw_arms(canvas, appearance, pose)
    _draw_carried_bag(canvas, appearance, right_hand)
    head_centre, head_axes = _draw_head(canvas, appearance, pose)
    if appearance.hat == 'cap':
        _draw_cap(canvas, pose, head_centre, head_axes)
    return _lean_and_mirror(canvas, pose)
