"""Objects that are not persons: poles, crates, bins, benches, trees, bollards and
person-like blobs (person-sized columns in clothing colours, without head or limbs).

They stand on the ground like persons, are sized by the same ground-plane geometry and
are drawn in depth order with the persons, so they occlude persons behind them and are
occluded by persons in front. The person-like blobs are hard negatives for the
detector.

Plain numpy/OpenCV; no mmdet import.
"""
from typing import Tuple

import cv2
import numpy as np

from .appearance import CLOTHING_PALETTE
from .sprite import Sprite

#: Kinds of object and their height relative to a person standing at the same place.
OBJECT_KINDS = ('pole', 'crate', 'bin', 'bench', 'tree', 'bollard', 'blob')
_RELATIVE_HEIGHT = dict(pole=(1.3, 2.0), crate=(0.25, 0.55), bin=(0.4, 0.55),
                        bench=(0.3, 0.4), tree=(1.6, 2.4), bollard=(0.35, 0.5),
                        blob=(0.55, 0.95))
#: Kinds that make good occluders placed right in front of a person.
OCCLUDER_KINDS = ('pole', 'crate', 'bin', 'bench', 'bollard')


def relative_height_range(kind: str) -> Tuple[float, float]:
    """Height of an object of ``kind`` relative to a person at the same place."""
    return _RELATIVE_HEIGHT[kind]


def _colour(rng: np.random.Generator, low: int = 40, high: int = 210) -> tuple:
    return tuple(int(v) for v in rng.integers(low, high, size=3))


def _shade(colour, factor: float) -> tuple:
    return tuple(int(np.clip(c * factor, 0, 255)) for c in colour)


def draw_object(kind: str, height: int, rng: np.random.Generator) -> Sprite:
    """Draw one object ``height`` pixels tall.

    Args:
        kind: one of :data:`OBJECT_KINDS`.
        height: height in pixels (>= 3).
        rng: random generator for shape and colour.

    Returns:
        A :class:`~mmssl.synthps.sprite.Sprite` whose bottom row touches the
        ground.

    Raises:
        ValueError: unknown ``kind``.
    """
    if kind not in _RELATIVE_HEIGHT:
        raise ValueError(f'unknown object kind {kind!r}; expected one of '
                         f'{OBJECT_KINDS}')
    # Draw at a comfortable size, then shrink (as persons are).
    h = int(np.clip(2 * int(height), 64, 320))
    image = np.zeros((h, 4 * h, 3), dtype=np.uint8)
    cover = np.zeros((h, 4 * h), dtype=np.uint8)
    cx = 2 * h

    def fill_rect(x0, y0, x1, y1, colour):
        cv2.rectangle(image, (int(x0), int(y0)), (int(x1), int(y1)), colour, -1)
        cv2.rectangle(cover, (int(x0), int(y0)), (int(x1), int(y1)), 1, -1)

    def fill_ellipse(centre, axes, colour):
        centre = tuple(int(v) for v in centre)
        axes = tuple(max(1, int(v)) for v in axes)
        cv2.ellipse(image, centre, axes, 0, 0, 360, colour, -1)
        cv2.ellipse(cover, centre, axes, 0, 0, 360, 1, -1)

    if kind == 'pole':
        width = max(3, int(h * rng.uniform(0.025, 0.05)))
        colour = _colour(rng, 60, 180)
        fill_rect(cx - width, 0, cx + width, h - 1, colour)
        fill_rect(cx - width // 3, 0, cx, h - 1, _shade(colour, 1.3))
        if rng.random() < 0.6:  # a sign on the pole
            sign = _colour(rng)
            size = int(h * rng.uniform(0.08, 0.14))
            top = int(h * rng.uniform(0.0, 0.15))
            if rng.random() < 0.5:
                fill_ellipse((cx, top + size), (size, size), sign)
                fill_ellipse((cx, top + size), (size * 0.6, size * 0.6),
                             (230, 230, 230))
            else:
                fill_rect(cx - size, top, cx + size, top + 2 * size, sign)
        fill_rect(cx - 2 * width, h - 1 - width, cx + 2 * width, h - 1,
                  _shade(colour, 0.6))
    elif kind == 'crate':
        width = int(h * rng.uniform(0.9, 1.6))
        colour = _colour(rng, 50, 200)
        depth = int(0.18 * h)
        fill_rect(cx - width // 2, depth, cx + width // 2, h - 1, colour)
        top = np.array([[cx - width // 2, depth], [cx + width // 2, depth],
                        [cx + width // 2 + depth, 0], [cx - width // 2 + depth,
                                                        0]], np.int32)
        cv2.fillConvexPoly(image, top, _shade(colour, 1.25))
        cv2.fillConvexPoly(cover, top, 1)
        for frac in (0.33, 0.66):  # planks
            y = int(depth + frac * (h - depth))
            cv2.line(image, (cx - width // 2, y), (cx + width // 2, y),
                     _shade(colour, 0.6), max(1, h // 40))
    elif kind == 'bin':
        width = int(h * rng.uniform(0.5, 0.7))
        colour = _colour(rng, 40, 160)
        fill_rect(cx - width // 2, int(0.1 * h), cx + width // 2, h - 1, colour)
        fill_ellipse((cx, int(0.1 * h)), (width // 2 + 2, int(0.08 * h)),
                     _shade(colour, 1.4))
        fill_rect(cx - width // 2, int(0.25 * h), cx + width // 2,
                  int(0.3 * h), _shade(colour, 0.7))
    elif kind == 'bench':
        width = int(h * rng.uniform(2.5, 3.5))
        colour = _colour(rng, 40, 150)
        fill_rect(cx - width // 2, int(0.05 * h), cx + width // 2, int(0.3 * h),
                  colour)
        fill_rect(cx - width // 2, int(0.45 * h), cx + width // 2,
                  int(0.6 * h), _shade(colour, 1.2))
        for x in (cx - width // 2 + 0.05 * width, cx + width // 2 - 0.1 * width):
            fill_rect(x, int(0.6 * h), x + 0.05 * width, h - 1,
                      (50, 50, 50))
    elif kind == 'tree':
        trunk = (40, 60, 90)
        fill_rect(cx - 0.04 * h, 0.45 * h, cx + 0.04 * h, h - 1, trunk)
        green = (int(rng.integers(30, 80)), int(rng.integers(90, 170)),
                 int(rng.integers(30, 90)))
        for _ in range(6):
            centre = (cx + rng.uniform(-0.18, 0.18) * h,
                      rng.uniform(0.22, 0.4) * h)
            radius = rng.uniform(0.12, 0.2) * h
            fill_ellipse(centre, (radius, radius),
                         _shade(green, rng.uniform(0.7, 1.2)))
    elif kind == 'bollard':
        width = int(h * rng.uniform(0.3, 0.45))
        colour = _colour(rng, 40, 200)
        fill_rect(cx - width // 2, int(0.15 * h), cx + width // 2, h - 1,
                  colour)
        fill_ellipse((cx, int(0.15 * h)), (width // 2, int(0.15 * h)),
                     _shade(colour, 1.2))
        fill_rect(cx - width // 2, int(0.3 * h), cx + width // 2,
                  int(0.38 * h), (220, 220, 220))
    else:  # 'blob': person-sized and person-coloured, but no head, neck or limbs
        body = CLOTHING_PALETTE[int(rng.integers(len(CLOTHING_PALETTE)))]
        band = CLOTHING_PALETTE[int(rng.integers(len(CLOTHING_PALETTE)))]
        width = int(h * rng.uniform(0.3, 0.45))
        dome = int(0.5 * width)
        fill_ellipse((cx, dome), (width // 2, dome), _shade(body, 1.2))
        fill_rect(cx - width // 2, dome, cx + width // 2, h - 1, body)
        if rng.random() < 0.5:  # a knob on top, as on a hydrant
            fill_ellipse((cx, int(0.3 * dome)), (width // 6, int(0.3 * dome)),
                         _shade(body, 0.7))
        y = int(rng.uniform(0.3, 0.7) * h)
        fill_rect(cx - width // 2, y, cx + width // 2, y + int(0.08 * h), band)
        fill_rect(cx - width // 2 - 0.03 * h, int(0.92 * h),
                  cx + width // 2 + 0.03 * h, h - 1, _shade(body, 0.6))
    sprite = Sprite.from_drawing(image, cover > 0)
    noise = rng.normal(0, 5, size=sprite.alpha.shape).astype(np.float32)
    sprite.colour += (noise * sprite.alpha)[..., None]
    np.clip(sprite.colour, 0, 255, out=sprite.colour)
    return sprite.resized(max(3, int(height)))
