"""Composing one frame: placing persons and objects, depth order, occlusion, masks.

Persons get a height drawn log-uniformly between the smallest and the largest person
height and stand where the camera's ground plane puts a person of that height (small
persons far away and high, large ones near and low). Placements that would hide too
much of a person behind nearer ones are redrawn. Objects stand among the persons and
some are placed right in front of a person to occlude it. Everything is painted far to
near, so nearer things cover farther ones; the instance map records, per pixel, the
annotation row (plus one) of the person seen there, so a person's mask excludes
whatever occludes it. A frame whose persons end up too hidden is composed again.

Plain numpy/OpenCV; no mmdet import.
"""
import dataclasses
import math
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from .appearance import PersonAppearance
from .camera import apply_illumination
from .objects import OBJECT_KINDS, OCCLUDER_KINDS
from .person import render_person
from .scene import CameraScene, PlacedSprite, place_object
from .sprite import paste_sprite

#: A farther person's box may be covered at most this much by one nearer person.
MAX_PAIR_COVERAGE = 0.4
#: ... and at most this much by all nearer persons together (sum of pair coverages).
MAX_TOTAL_COVERAGE = 0.6
#: Chance that a person is placed close to an already placed one.
GROUP_CHANCE = 0.35
#: A composition is redone when a person keeps less than this share of its mask.
MIN_VISIBLE_FRACTION = 0.25


@dataclasses.dataclass
class ComposedFrame:
    """One composed frame and its ground truth.

    Attributes:
        image: ``(H, W, 3)`` uint8 BGR frame as the camera sees it.
        instance_map: ``(H, W)`` uint8; ``k + 1`` where the person of row ``k`` is
            seen, 0 elsewhere.
        boxes: ``(K, 4)`` float64 ``[x, y, w, h]`` amodal boxes (the whole person,
            hidden parts included; may reach outside the frame).
        visible_fractions: ``(K,)`` share of each person's pixels that is seen.
        inside: ``(K,)`` bool, True when the box lies inside the frame.
    """

    image: np.ndarray
    instance_map: np.ndarray
    boxes: np.ndarray
    visible_fractions: np.ndarray
    inside: np.ndarray


def _coverage(box: Sequence[float], other: Sequence[float]) -> float:
    """Share of ``box`` (x0, y0, x1, y1) covered by ``other``."""
    width = min(box[2], other[2]) - max(box[0], other[0])
    height = min(box[3], other[3]) - max(box[1], other[1])
    if width <= 0 or height <= 0:
        return 0.0
    area = (box[2] - box[0]) * (box[3] - box[1])
    return width * height / max(area, 1e-6)


def _occlusion_violation(candidate: Tuple[float, ...],
                         placed: List[Tuple[float, ...]]) -> float:
    """How much a candidate (x0, y0, x1, y1, depth) breaks the coverage limits.

    Returns 0 when every pair coverage and every total coverage is within the limits.
    """
    violation = 0.0
    totals = []
    own_total = 0.0
    for other in placed:
        if candidate[4] >= other[4]:  # candidate is nearer: it covers other
            cover = _coverage(other[:4], candidate[:4])
            totals.append(other[5] + cover)
        else:
            cover = _coverage(candidate[:4], other[:4])
            own_total += cover
        violation += max(0.0, cover - MAX_PAIR_COVERAGE)
    violation += max(0.0, own_total - MAX_TOTAL_COVERAGE)
    violation += sum(max(0.0, t - MAX_TOTAL_COVERAGE) for t in totals)
    return violation


def _place_people(scene: CameraScene, count: int, rng: np.random.Generator,
                  min_height: float, max_height: float,
                  tries: int = 30) -> List[Tuple[float, float, float]]:
    """Choose (centre x, foot y, height) for ``count`` persons."""
    style = scene.style
    placed = []  # (x0, y0, x1, y1, depth, covered share)
    result = []
    log_low, log_high = math.log(min_height), math.log(max_height)
    for _ in range(count):
        best, best_violation = None, math.inf
        # Some persons walk next to / behind another one (groups, crowds).
        anchor = result[int(rng.integers(len(result)))] if (
            result and rng.random() < GROUP_CHANCE) else None
        for attempt in range(tries):
            if anchor is not None and attempt < tries // 2:
                height = float(np.clip(anchor[2] * rng.uniform(0.75, 1.3),
                                       min_height, max_height))
            else:
                height = math.exp(rng.uniform(log_low, log_high))
            foot = style.foot_y(height * rng.uniform(0.9, 1.1))
            foot = float(np.clip(foot, height - 1, style.height - 1))
            width = 0.42 * height
            if anchor is not None and attempt < tries // 2:
                centre = anchor[0] + rng.choice([-1.0, 1.0]) * rng.uniform(
                    0.2, 0.8) * 0.42 * anchor[2]
                centre = float(np.clip(centre, 0.35 * width,
                                       style.width - 0.35 * width))
            elif rng.random() < 0.06:  # partly outside the frame, as in PRW
                centre = rng.choice([rng.uniform(0.05, 0.4) * width,
                                     style.width - rng.uniform(0.05, 0.4) * width])
            else:
                centre = rng.uniform(width / 2, max(width / 2 + 1,
                                                    style.width - width / 2))
            box = (centre - width / 2, foot - height, centre + width / 2, foot,
                   foot)
            violation = _occlusion_violation(box, placed)
            if violation < best_violation:
                best, best_violation = (centre, foot, height, box), violation
            if violation == 0.0:
                break
        centre, foot, height, box = best
        for i, other in enumerate(placed):
            if box[4] >= other[4]:
                placed[i] = other[:5] + (other[5] + _coverage(other[:4],
                                                              box[:4]), )
        own = sum(_coverage(box[:4], o[:4]) for o in placed if o[4] > box[4])
        placed.append(box + (own, ))
        result.append((centre, foot, height))
    return result


def paint_in_depth_order(canvas: np.ndarray,
                         items: Sequence[PlacedSprite]) -> np.ndarray:
    """Paint ``items`` far to near and record who is seen where.

    Args:
        canvas: ``(H, W, 3)`` float32 frame, painted in place.
        items: persons (``person >= 0``) and objects (``person == -1``); larger
            ``depth`` is nearer; equal depths keep the given order.

    Returns:
        ``(H, W)`` uint8 instance map: ``person + 1`` where a person's
        ``alpha >= 0.5`` pixels are the nearest thing painted, 0 elsewhere (an
        object in front hides the person behind it).

    Raises:
        ValueError: more than 254 persons (the map holds 8-bit values).
    """
    if any(item.person >= 255 for item in items):
        raise ValueError('an instance map holds at most 254 persons')
    instance_map = np.zeros(canvas.shape[:2], dtype=np.uint8)
    order = sorted(range(len(items)), key=lambda i: (items[i].depth, i))
    for i in order:
        item = items[i]
        windows = paste_sprite(canvas, item.sprite, item.left, item.top)
        if windows is None:
            continue
        canvas_window, sprite_window = windows
        mask = item.sprite.mask()[sprite_window]
        instance_map[canvas_window][mask] = item.person + 1
    return instance_map


def _draw_shadows(canvas: np.ndarray, people: List[PlacedSprite]) -> None:
    """Darken the ground under each person's feet (soft ellipses)."""
    shade = np.ones(canvas.shape[:2], dtype=np.float32)
    for item in people:
        centre = (int(item.left + item.sprite.width / 2), int(item.depth))
        axes = (max(1, int(item.sprite.height * 0.2)),
                max(1, int(item.sprite.height * 0.04)))
        cv2.ellipse(shade, centre, axes, 0, 0, 360, 0.7, -1)
    shade = cv2.GaussianBlur(shade, (5, 5), 1.5)
    canvas *= shade[..., None]


def _compose_once(scene: CameraScene, people: Sequence[PersonAppearance],
                  rng: np.random.Generator, min_height: float,
                  max_height: float) -> ComposedFrame:
    style = scene.style
    spots = _place_people(scene, len(people), rng, min_height, max_height)
    persons = []
    for index, (appearance, (centre, foot, height)) in enumerate(
            zip(people, spots)):
        sprite = render_person(appearance, int(round(height)), rng)
        persons.append(
            PlacedSprite(sprite=sprite,
                         left=int(round(centre - sprite.width / 2)),
                         top=int(round(foot)) - sprite.height + 1,
                         depth=foot,
                         person=index))
    ground = style.height - 1 - style.horizon
    objects = []
    for _ in range(int(rng.integers(0, 4))):  # objects anywhere on the ground
        kind = OBJECT_KINDS[int(rng.integers(len(OBJECT_KINDS)))]
        if kind == 'tree':
            kind = 'blob'
        foot = style.horizon + ground * rng.uniform(0.05, 1.0)
        objects.append(
            place_object(style, kind, rng.uniform(0, style.width), foot, rng))
    if persons and rng.random() < 0.4:  # an object right in front of a person
        target = persons[int(rng.integers(len(persons)))]
        kind = OCCLUDER_KINDS[int(rng.integers(len(OCCLUDER_KINDS)))]
        foot = min(style.height - 1.0,
                   target.depth + rng.uniform(0.01, 0.06) * style.height)
        centre = target.left + target.sprite.width * rng.uniform(0.1, 0.9)
        objects.append(place_object(style, kind, centre, foot, rng))

    canvas = scene.background.copy()
    _draw_shadows(canvas, persons)
    instance_map = paint_in_depth_order(
        canvas,
        list(scene.fixed_objects) + objects + persons)

    boxes = np.zeros((len(persons), 4), dtype=np.float64)
    visible = np.zeros(len(persons), dtype=np.float64)
    inside = np.zeros(len(persons), dtype=bool)
    for item in persons:
        mask = item.sprite.mask()
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        x0, y0 = item.left + cols[0], item.top + rows[0]
        x1, y1 = item.left + cols[-1], item.top + rows[-1]
        boxes[item.person] = (x0, y0, x1 - x0 + 1, y1 - y0 + 1)
        inside[item.person] = (x0 >= 0 and y0 >= 0 and x1 < style.width
                               and y1 < style.height)
        seen = np.count_nonzero(instance_map == item.person + 1)
        visible[item.person] = seen / max(1, np.count_nonzero(mask))
    image = apply_illumination(canvas, style, rng)
    return ComposedFrame(image=image, instance_map=instance_map, boxes=boxes,
                         visible_fractions=visible, inside=inside)


def compose_frame(scene: CameraScene, people: Sequence[PersonAppearance],
                  rng: np.random.Generator, min_height: float,
                  max_height: float, max_attempts: int = 8) -> ComposedFrame:
    """Compose one frame of ``scene`` showing ``people``.

    Args:
        scene: the camera's static scene.
        people: the appearance of each person; row ``k`` of the result is
            ``people[k]``.
        rng: random generator of this frame.
        min_height: smallest person height (pixels).
        max_height: largest person height (pixels).
        max_attempts: compositions tried before keeping the one whose most hidden
            person is the most visible.

    Returns:
        The :class:`ComposedFrame`.

    Raises:
        RuntimeError: some person stays completely hidden in every attempt.
    """
    best = None
    for _ in range(max_attempts):
        frame = _compose_once(scene, people, rng, min_height, max_height)
        worst = frame.visible_fractions.min() if len(people) else 1.0
        if best is None or worst > best[0]:
            best = (worst, frame)
        if worst >= MIN_VISIBLE_FRACTION:
            break
    worst, frame = best
    if worst <= 0.0:
        raise RuntimeError(
            f'camera {scene.style.camera_id}: could not show all '
            f'{len(people)} persons in {max_attempts} attempts')
    return frame
