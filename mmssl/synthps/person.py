"""Rendering one person: its part label map coloured, shaded and shrunk.

The person is first drawn as a *part label map* (skin, hair, top, trousers, shoes,
bag, hat...; :mod:`mmssl.synthps.person_labels`) at a canonical height of 96 to 256
pixels, about twice its height in the frame, then coloured from its
:class:`~mmssl.synthps.appearance.PersonAppearance` (clothing patterns,
shading, part outlines, cloth noise) and finally shrunk with area interpolation to the
height it has in the frame. Stripes, checks, logos, eyes and outlines are a few
canonical pixels wide, so they survive at large heights and are averaged away at small
ones, as a low-resolution camera loses them.

Plain numpy/OpenCV; no mmdet import.
"""
import math
from typing import Tuple

import cv2
import numpy as np

from .appearance import PersonAppearance
from .person_labels import (BACKGROUND, BAG, DARK, HAIR, HAT, LOWER, SHOES,
                            SKIN, STRAP, UPPER, draw_person_labels)
from .pose import Pose, random_pose
from .sprite import Sprite

#: Largest canonical drawing height (pixels) unless the person is taller still.
CANONICAL_HEIGHT = 256
#: Smallest canonical drawing height (pixels): even tiny persons are drawn with
#: their patterns and faces, then shrunk.
MIN_CANONICAL_HEIGHT = 96


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
