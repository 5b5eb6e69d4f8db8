"""Drawing one articulated person (head, torso, arms, legs) with OpenCV.

The person is first drawn as a *part label map* (skin, hair, top, trousers, shoes,
bag, hat...) at a canonical height of 96 to 256 pixels, about twice its height in the
frame, then coloured from its
:class:`~mmssl.synthps.appearance.PersonAppearance` (clothing patterns,
shading, part outlines, cloth noise) and finally shrunk with area interpolation to the
height it has in the frame. Stripes, checks, logos, eyes and outlines are a few
canonical pixels wide, so they survive at large heights and are averaged away at small
ones, as a low-resolution camera loses them.

Pose varies a little per sighting: front or back view, mirrored or not, arms and legs
spread, a slight lean.

Plain numpy/OpenCV; no mmdet import.
"""
import dataclasses
import math
from typing import Tuple

import cv2
import numpy as np

from .appearance import PersonAppearance
from .sprite import Sprite

# Part labels of the canonical drawing.
BACKGROUND, SKIN, HAIR, UPPER, LOWER, SHOES, BAG, HAT, STRAP, DARK = range(10)

#: Largest canonical drawing height (pixels) unless the person is taller still.
CANONICAL_HEIGHT = 256
#: Smallest canonical drawing height (pixels): even tiny persons are drawn with
#: their patterns and faces, then shrunk.
MIN_CANONICAL_HEIGHT = 96


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


def _point(x: float, y: float) -> np.ndarray:
    return np.array([x, y], dtype=np.float64)


def _towards(start: np.ndarray, length: float, angle_deg: float) -> np.ndarray:
    """The point ``length`` away from ``start``, ``angle`` from straight down."""
    angle = math.radians(angle_deg)
    return start + length * np.array([math.sin(angle), math.cos(angle)])


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
    cv2.fillConvexPoly(labels, np.round(quad).astype(np.int32), label,
                       lineType=cv2.LINE_8)
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


def draw_person_labels(appearance: PersonAppearance, pose: Pose,
                       height: int) -> np.ndarray:
    """Draw the part label map of one person.

    Args:
        appearance: the person's attributes (shapes depend on sleeves, trousers,
            hair, bag, hat and build).
        pose: the sighting's pose.
        height: canonical height in pixels (top of the head to the soles).

    Returns:
        ``(rows, cols)`` uint8 label map with a margin around the person; labels are
        the module constants ``SKIN`` ... ``DARK``, 0 outside the person.
    """
    h = float(height)
    build = appearance.build
    margin = int(0.08 * h)
    rows = int(h + 2 * margin)
    cols = int(0.75 * h * max(build, 1.0) + 2 * margin)
    labels = np.zeros((rows, cols), dtype=np.uint8)
    cx = cols / 2.0
    top = float(margin)

    def at(fx: float, fy: float) -> np.ndarray:
        """Canonical point from fractions of the height around the body axis."""
        return _point(cx + fx * h, top + fy * h)

    shoulder_half = 0.105 * build
    hip_half = 0.078 * build
    left_sign, right_sign = -1.0, 1.0

    # Long hair behind the head and shoulders (front view only: seen from the back
    # it is drawn over the back later).
    if appearance.hair_length == 'long' and not pose.back_view:
        cv2.fillConvexPoly(labels, np.round(np.array([
            at(-0.058, 0.04), at(0.058, 0.04), at(0.07, 0.2), at(-0.07, 0.2)
        ])).astype(np.int32), HAIR)

    # Backpack seen from the front: its sides stick out behind the torso.
    if appearance.bag == 'backpack' and not pose.back_view:
        tl, br = at(-shoulder_half - 0.012, 0.2), at(shoulder_half + 0.012, 0.44)
        cv2.rectangle(labels, tuple(np.round(tl).astype(int)),
                      tuple(np.round(br).astype(int)), BAG, -1)

    # Legs: hip -> knee -> ankle, trousers/shorts/skirt decide the labels.
    ankles = []
    for side, spread, bend in ((left_sign, pose.leg_spread[0], pose.knee_bend[0]),
                               (right_sign, pose.leg_spread[1],
                                pose.knee_bend[1])):
        hip = at(side * 0.045 * build, 0.5)
        knee = _towards(hip, 0.25 * h, side * spread)
        ankle = _towards(knee, 0.215 * h, side * spread + bend)
        thigh_w, knee_w, ankle_w = (0.068 * h * build, 0.052 * h * build,
                                    0.04 * h * build)
        if appearance.lower_style == 'trousers':
            _limb(labels, knee, ankle, knee_w, ankle_w, LOWER)
            _limb(labels, hip, knee, thigh_w, knee_w, LOWER)
        elif appearance.lower_style == 'shorts':
            _limb(labels, knee, ankle, knee_w, ankle_w, SKIN)
            _split_limb(labels, hip, knee, thigh_w, knee_w, 0.6, LOWER, SKIN)
        else:  # skirt: bare legs, the skirt is drawn over them below
            _limb(labels, knee, ankle, knee_w, ankle_w, SKIN)
            _limb(labels, hip, knee, thigh_w, knee_w, SKIN)
        ankles.append((ankle, side))
    for ankle, side in ankles:
        foot_centre = ankle + np.array([side * 0.012 * h, 0.022 * h])
        cv2.ellipse(labels, tuple(np.round(foot_centre).astype(int)),
                    (max(1, int(0.034 * h)), max(1, int(0.02 * h))), 0, 0, 360,
                    SHOES, -1)

    # Pelvis (waistband to crotch) and skirt.
    cv2.fillConvexPoly(labels, np.round(np.array([
        at(-hip_half, 0.45), at(hip_half, 0.45), at(hip_half + 0.005, 0.545),
        at(-hip_half - 0.005, 0.545)
    ])).astype(np.int32), LOWER if appearance.lower_style != 'skirt' else SKIN)
    if appearance.lower_style == 'skirt':
        cv2.fillConvexPoly(labels, np.round(np.array([
            at(-hip_half, 0.45), at(hip_half, 0.45), at(hip_half + 0.05, 0.68),
            at(-hip_half - 0.05, 0.68)
        ])).astype(np.int32), LOWER)

    # Torso: shoulders -> waist -> hips.
    torso = np.array([
        at(-shoulder_half + 0.01, 0.165), at(shoulder_half - 0.01, 0.165),
        at(shoulder_half, 0.2), at(0.085 * build, 0.42), at(hip_half, 0.5),
        at(-hip_half, 0.5), at(-0.085 * build, 0.42), at(-shoulder_half, 0.2)
    ])
    cv2.fillPoly(labels, [np.round(torso).astype(np.int32)], UPPER)

    # Backpack seen from behind, shoulder bag strap across the chest.
    if appearance.bag == 'backpack' and pose.back_view:
        tl = at(-shoulder_half + 0.02, 0.2)
        br = at(shoulder_half - 0.02, 0.43)
        cv2.rectangle(labels, tuple(np.round(tl).astype(int)),
                      tuple(np.round(br).astype(int)), BAG, -1)
    elif appearance.bag == 'backpack':
        for side in (left_sign, right_sign):
            _limb(labels, at(side * (shoulder_half - 0.03), 0.17),
                  at(side * (shoulder_half - 0.025), 0.4), 0.018 * h,
                  0.018 * h, STRAP)
    if appearance.bag == 'shoulder':
        _limb(labels, at(-shoulder_half + 0.025, 0.17),
              at(hip_half + 0.02, 0.5), 0.016 * h, 0.016 * h, STRAP)

    # Arms: shoulder -> elbow -> wrist, sleeves decide the labels.
    for side, spread in ((left_sign, pose.arm_spread[0]),
                         (right_sign, pose.arm_spread[1])):
        shoulder = at(side * (shoulder_half - 0.018), 0.195)
        elbow = _towards(shoulder, 0.165 * h, side * spread)
        wrist = _towards(elbow, 0.15 * h, side * (spread * 0.6))
        upper_w, elbow_w, wrist_w = (0.048 * h * build, 0.04 * h * build,
                                     0.032 * h * build)
        if appearance.sleeves == 'long':
            _limb(labels, elbow, wrist, elbow_w, wrist_w, UPPER)
            _limb(labels, shoulder, elbow, upper_w, elbow_w, UPPER)
        else:
            _limb(labels, elbow, wrist, elbow_w, wrist_w, SKIN)
            _split_limb(labels, shoulder, elbow, upper_w, elbow_w, 0.5, UPPER,
                        SKIN)
        hand = _towards(wrist, 0.025 * h, side * spread * 0.6)
        cv2.circle(labels, tuple(np.round(hand).astype(int)),
                   max(1, int(0.022 * h)), SKIN, -1)
        if appearance.bag == 'handbag' and side == right_sign:
            tl = hand + np.array([-0.04 * h, 0.015 * h])
            br = hand + np.array([0.04 * h, 0.1 * h])
            cv2.rectangle(labels, tuple(np.round(tl).astype(int)),
                          tuple(np.round(br).astype(int)), BAG, -1)
            _limb(labels, hand, tl + np.array([0.01 * h, 0]), 0.008 * h,
                  0.008 * h, STRAP)
            _limb(labels, hand, np.array([br[0] - 0.01 * h, tl[1]]), 0.008 * h,
                  0.008 * h, STRAP)
        if appearance.bag == 'shoulder' and side == right_sign:
            tl = at(hip_half + 0.0, 0.44)
            br = at(hip_half + 0.08, 0.54)
            cv2.rectangle(labels, tuple(np.round(tl).astype(int)),
                          tuple(np.round(br).astype(int)), BAG, -1)

    # Neck and head.
    _limb(labels, at(0, 0.1), at(0, 0.175), 0.045 * h, 0.05 * h, SKIN)
    head_centre = tuple(np.round(at(0, 0.068)).astype(int))
    head_axes = (max(1, int(0.048 * h)), max(1, int(0.064 * h)))
    if pose.back_view and appearance.hair_length != 'bald':
        cv2.ellipse(labels, head_centre, head_axes, 0, 0, 360, HAIR, -1)
        if appearance.hair_length == 'long':
            cv2.fillConvexPoly(labels, np.round(np.array([
                at(-0.05, 0.06), at(0.05, 0.06), at(0.065, 0.23),
                at(-0.065, 0.23)
            ])).astype(np.int32), HAIR)
    else:
        cv2.ellipse(labels, head_centre, head_axes, 0, 0, 360, SKIN, -1)
        if appearance.hair_length != 'bald':
            cv2.ellipse(labels, head_centre, (head_axes[0] + 2, head_axes[1] + 1),
                        0, 180, 360, HAIR, -1)
            if appearance.hair_length == 'long':
                for side in (left_sign, right_sign):
                    _limb(labels, at(side * 0.045, 0.05),
                          at(side * 0.05, 0.16), 0.02 * h, 0.024 * h, HAIR)
        if not pose.back_view:
            for side in (left_sign, right_sign):
                cv2.circle(labels, tuple(np.round(at(side * 0.018,
                                                     0.07)).astype(int)),
                           max(1, int(0.0055 * h)), DARK, -1)
            _limb(labels, at(-0.009, 0.104), at(0.009, 0.104), 0.004 * h,
                  0.004 * h, DARK)
    if appearance.hat == 'cap':
        cv2.ellipse(labels, head_centre, (head_axes[0] + 2, head_axes[1] - 2), 0,
                    180, 360, HAT, -1)
        brim_side = right_sign if pose.back_view else 0.0
        _limb(labels, at(-0.05 + brim_side * 0.02, 0.045),
              at(0.05 + brim_side * 0.045, 0.045), 0.012 * h, 0.012 * h, HAT)

    if abs(pose.lean) > 1e-3:
        centre = (cx, top + h)  # lean around the feet
        matrix = cv2.getRotationMatrix2D(centre, -pose.lean, 1.0)
        labels = cv2.warpAffine(labels, matrix, (cols, rows),
                                flags=cv2.INTER_NEAREST,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if pose.mirrored:
        labels = np.ascontiguousarray(labels[:, ::-1])
    return labels


def _upper_pattern(appearance: PersonAppearance, shape: Tuple[int, int],
                   height: int, back_view: bool) -> np.ndarray:
    """Boolean map of where the top shows its second colour."""
    rows, cols = shape
    yy = np.arange(rows)[:, None]
    xx = np.arange(cols)[None, :]
    period = max(2, int(round(0.036 * height)))
    pattern = appearance.upper_pattern
    if pattern == 'hstripes':
        return np.broadcast_to((yy // period) % 2 == 1, shape).copy()
    if pattern == 'vstripes':
        return np.broadcast_to((xx // period) % 2 == 1, shape).copy()
    if pattern == 'checks':
        return ((yy // period) + (xx // period)) % 2 == 1
    if pattern == 'logo' and not back_view:
        centre_x = cols / 2.0
        centre_y = 0.08 * height + 0.29 * height
        radius = 0.04 * height
        return (xx - centre_x)**2 + (yy - centre_y)**2 <= radius**2
    return np.zeros(shape, dtype=bool)


def colour_person(labels: np.ndarray, appearance: PersonAppearance,
                  height: int, back_view: bool,
                  rng: np.random.Generator) -> np.ndarray:
    """Colour a part label map: palette colours, top pattern, shading, outlines.

    Args:
        labels: the map from :func:`draw_person_labels`.
        appearance: the person's attributes.
        height: canonical height the map was drawn at.
        back_view: whether the map shows the back (logos are on the front only).
        rng: random generator for the cloth noise.

    Returns:
        ``(rows, cols, 3)`` uint8 BGR image (black outside the person).
    """
    rows_on = np.flatnonzero(labels.any(axis=1))
    cols_on = np.flatnonzero(labels.any(axis=0))
    if rows_on.size == 0:
        raise ValueError('cannot colour an empty person drawing')
    # Work on the tight box only; offsets keep patterns anchored to the canvas.
    row0, col0 = int(rows_on[0]), int(cols_on[0])
    full_shape = labels.shape
    labels = labels[row0:rows_on[-1] + 1, col0:cols_on[-1] + 1]
    colours = appearance.colours()
    lut = np.zeros((256, 3), dtype=np.float32)
    lut[SKIN] = colours['skin']
    lut[HAIR] = colours['hair']
    lut[UPPER] = colours['upper']
    lut[LOWER] = colours['lower']
    lut[SHOES] = colours['shoes']
    lut[BAG] = colours['bag']
    lut[HAT] = colours['hat']
    lut[STRAP] = np.asarray(colours['bag'], dtype=np.float32) * 0.6
    lut[DARK] = (25, 25, 35)
    image = lut[labels]
    pattern = _upper_pattern(appearance, full_shape, height, back_view)
    pattern = pattern[row0:row0 + labels.shape[0], col0:col0 + labels.shape[1]]
    pattern &= labels == UPPER
    image[pattern] = colours['pattern']

    # Cylindrical shading across the body and a little darker towards the feet.
    rows, cols = full_shape
    xx = (np.arange(col0, col0 + labels.shape[1], dtype=np.float32) -
          cols / 2.0) / (0.2 * height)
    yy = np.arange(row0, row0 + labels.shape[0], dtype=np.float32) / rows
    shade = (1.0 - 0.22 * np.clip(xx, -1.5, 1.5)**2)[None, :] * (
        1.05 - 0.12 * yy)[:, None]
    image *= shade[..., None]

    # Dark outlines where parts meet each other or the background.
    outline = np.zeros(labels.shape, dtype=bool)
    outline[1:, :] |= labels[1:, :] != labels[:-1, :]
    outline[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    outline &= labels != BACKGROUND
    thick = cv2.dilate(outline.astype(np.uint8), np.ones((2, 2), np.uint8))
    image[(thick > 0) & (labels != BACKGROUND)] *= 0.55

    noise = rng.standard_normal(size=labels.shape, dtype=np.float32)
    image += 6.0 * noise[..., None]
    image[labels == BACKGROUND] = 0
    canvas = np.zeros(full_shape + (3, ), dtype=np.uint8)
    canvas[row0:row0 + labels.shape[0], col0:col0 + labels.shape[1]] = np.clip(
        image, 0, 255)
    return canvas


def render_person(appearance: PersonAppearance, height: int,
                  rng: np.random.Generator, pose: Pose = None) -> Sprite:
    """Render one person at ``height`` pixels tall.

    The person is drawn at twice its height (at least 96 and, up to 256, at most
    256 pixels; never less than 1.25 times its height) and shrunk with area
    interpolation, so small persons really lose their fine detail.

    Args:
        appearance: the person's attributes.
        height: height of the person in the frame (pixels, >= 4).
        rng: random generator (pose when not given, cloth noise).
        pose: the pose; drawn from ``rng`` when None.

    Returns:
        A :class:`~mmssl.synthps.sprite.Sprite` cropped to the person, whose
        ``alpha >= 0.5`` mask is ``height`` pixels tall (to within a pixel).
    """
    if height < 4:
        raise ValueError(f'person height must be >= 4 pixels, got {height}')
    if pose is None:
        pose = random_pose(rng)
    canonical = max(MIN_CANONICAL_HEIGHT, min(CANONICAL_HEIGHT, 2 * height),
                    int(math.ceil(1.25 * height)))
    labels = draw_person_labels(appearance, pose, canonical)
    image = colour_person(labels, appearance, canonical, pose.back_view, rng)
    sprite = Sprite.from_drawing(image, labels != BACKGROUND)
    return sprite.resized(height)
