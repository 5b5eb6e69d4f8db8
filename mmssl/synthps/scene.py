"""The static scene of one camera: cluttered background and fixed objects.

A surveillance camera sees the same place in every frame: a sky/wall band with
buildings (bricks, panels, windows), posters and signs, a textured ground (tiles,
asphalt with markings, paving, grass) seen in perspective, clutter shapes (circles,
polygons, cables, stains) and low-frequency blotches. Fixed objects (poles, trees,
benches, bins) stand on the ground and take part in the depth order of every frame.

Plain numpy/OpenCV; no mmdet import.
"""
import dataclasses
from typing import List

import cv2
import numpy as np

from .camera import CameraStyle
from .objects import draw_object, relative_height_range
from .sprite import Sprite


@dataclasses.dataclass
class PlacedSprite:
    """A sprite at a place in the frame.

    Attributes:
        sprite: the drawing.
        left: x of its first column (may be negative).
        top: y of its first row (may be negative).
        depth: y of its ground contact; larger is nearer the camera.
        person: index of the person it shows in the frame's annotation, or -1 for
            an object.
    """

    sprite: Sprite
    left: int
    top: int
    depth: float
    person: int = -1


@dataclasses.dataclass
class CameraScene:
    """What one camera always sees.

    Attributes:
        style: the camera.
        background: ``(H, W, 3)`` float32 BGR background.
        fixed_objects: objects standing in the scene in every frame.
    """

    style: CameraStyle
    background: np.ndarray
    fixed_objects: List[PlacedSprite]


def _jitter(colour, rng: np.random.Generator, amount: float = 25.0) -> tuple:
    values = np.asarray(colour, dtype=np.float64) + rng.uniform(
        -amount, amount, size=3)
    return tuple(int(v) for v in np.clip(values, 0, 255))


def _vertical_gradient(rows: int, cols: int, top_colour, bottom_colour):
    t = np.linspace(0.0, 1.0, rows, dtype=np.float32)[:, None, None]
    top = np.asarray(top_colour, np.float32)[None, None, :]
    bottom = np.asarray(bottom_colour, np.float32)[None, None, :]
    return np.broadcast_to(top * (1 - t) + bottom * t, (rows, cols, 3)).copy()


def _draw_buildings(image: np.ndarray, style: CameraStyle,
                    rng: np.random.Generator) -> None:
    height, width = image.shape[:2]
    horizon = int(style.horizon)
    x = int(-rng.uniform(0, 0.2) * width)
    while x < width:
        block_width = int(rng.uniform(0.18, 0.55) * width)
        roof = int(rng.uniform(-0.2, 0.75) * horizon)
        colour = _jitter(style.wall_colour, rng, 30)
        x0, x1 = x, x + block_width
        cv2.rectangle(image, (x0, roof), (x1, horizon + 2), colour, -1)
        dark = tuple(int(c * 0.6) for c in colour)
        light = tuple(int(min(255, c * 1.25)) for c in colour)
        if style.wall_style == 'bricks':
            step = max(3, int(rng.uniform(0.025, 0.045) * height))
            for row, y in enumerate(range(roof, horizon, step)):
                cv2.line(image, (x0, y), (x1, y), dark, 1)
                offset = (row % 2) * step
                for bx in range(x0 + offset, x1, 2 * step):
                    cv2.line(image, (bx, y), (bx, min(y + step, horizon)), dark,
                             1)
        elif style.wall_style == 'panels':
            step = max(4, int(rng.uniform(0.04, 0.09) * width))
            for bx in range(x0, x1, step):
                cv2.line(image, (bx, roof), (bx, horizon), dark, 2)
                cv2.line(image, (bx + 2, roof), (bx + 2, horizon), light, 1)
        elif style.wall_style == 'windows':
            win_w = max(3, int(rng.uniform(0.03, 0.06) * width))
            win_h = max(3, int(rng.uniform(0.05, 0.09) * height))
            glass = _jitter((120, 90, 60), rng, 40)
            for wy in range(roof + win_h // 2, horizon - win_h, 2 * win_h):
                for wx in range(x0 + win_w // 2, x1 - win_w, 2 * win_w):
                    lit = rng.random() < 0.25
                    cv2.rectangle(image, (wx, wy), (wx + win_w, wy + win_h),
                                  (90, 200, 230) if lit else glass, -1)
                    cv2.rectangle(image, (wx, wy), (wx + win_w, wy + win_h),
                                  dark, 1)
        if rng.random() < 0.6:  # a doorway or shop front at the ground
            door_w = int(rng.uniform(0.15, 0.4) * block_width)
            door_h = int(rng.uniform(0.15, 0.35) * max(horizon - roof, 8))
            dx = int(x0 + rng.uniform(0.1, 0.7) * block_width)
            cv2.rectangle(image, (dx, horizon - door_h), (dx + door_w, horizon),
                          _jitter((50, 50, 60), rng, 30), -1)
        cv2.line(image, (x1, roof), (x1, horizon), dark, 2)
        x = x1 + int(rng.uniform(0, 0.05) * width)


def _draw_ground(image: np.ndarray, style: CameraStyle,
                 rng: np.random.Generator) -> None:
    height, width = image.shape[:2]
    horizon = int(style.horizon)
    rows = height - horizon
    far = _jitter(style.ground_colour, rng, 10)
    near = tuple(int(np.clip(c * 0.8, 0, 255)) for c in style.ground_colour)
    if style.ground_style == 'grass':
        far = (60, 140, 80)
        near = (40, 110, 60)
    image[horizon:] = _vertical_gradient(rows, width, far, near)
    dark = tuple(int(c * 0.65) for c in style.ground_colour)
    vanish_x = width * rng.uniform(0.2, 0.8)
    if style.ground_style in ('tiles', 'paving'):
        spacing = rng.uniform(0.05, 0.12) if style.ground_style == 'tiles' \
            else rng.uniform(0.03, 0.06)
        for k in range(-30, 31):  # lines to the vanishing point
            bottom_x = vanish_x + k * spacing * width * 2.5
            cv2.line(image, (int(vanish_x + (bottom_x - vanish_x) * 0.02),
                             horizon), (int(bottom_x), height), dark, 1)
        y = float(horizon + 2)
        step = 2.0
        while y < height:  # cross lines, further apart nearer the camera
            cv2.line(image, (0, int(y)), (width, int(y)), dark, 1)
            step *= 1.0 + spacing * 4
            y += step
    elif style.ground_style == 'asphalt':
        for _ in range(int(rng.integers(1, 3))):  # road markings
            y = int(rng.uniform(horizon + 0.1 * rows, height - 0.1 * rows))
            thick = max(1, int((y - horizon) * 0.04))
            for x in range(int(rng.uniform(0, 30)), width, 60):
                cv2.line(image, (x, y), (x + 30, y), (215, 215, 215), thick)
    else:  # grass: tufts
        for _ in range(int(rows * width / 60)):
            x = int(rng.uniform(0, width))
            y = int(rng.uniform(horizon, height))
            length = max(1, int((y - horizon) * 0.06))
            cv2.line(image, (x, y), (x + int(rng.integers(-2, 3)), y - length),
                     _jitter((50, 150, 70), rng, 40), 1)
    for _ in range(int(rng.integers(2, 6))):  # stains and puddles
        y = rng.uniform(horizon, height)
        size = max(2, (y - horizon) * rng.uniform(0.05, 0.2))
        cv2.ellipse(image, (int(rng.uniform(0, width)), int(y)),
                    (int(size * 1.5), int(size * 0.4)), 0, 0, 360,
                    _jitter(dark, rng, 15), -1)


def _draw_clutter(image: np.ndarray, style: CameraStyle,
                  rng: np.random.Generator) -> None:
    height, width = image.shape[:2]
    horizon = style.horizon
    for _ in range(int(rng.integers(12, 28))):
        colour = _jitter(rng.integers(40, 220, size=3), rng, 0)
        x = int(rng.uniform(0, width))
        y = int(rng.uniform(0, horizon + 0.2 * (height - horizon)))
        size = int(rng.uniform(0.01, 0.08) * width) + 1
        shape = int(rng.integers(5))
        if shape == 0:
            cv2.circle(image, (x, y), size, colour, -1)
        elif shape == 1:  # poster or sign
            cv2.rectangle(image, (x, y), (x + size, y + int(size * 1.4)),
                          colour, -1)
            for line in range(1, 4):
                yy = y + int(size * 0.3 * line)
                cv2.line(image, (x + 2, yy), (x + size - 2, yy),
                         _jitter(colour, rng, 90), 1)
        elif shape == 2:
            points = np.array([[x + rng.uniform(-size, size),
                                y + rng.uniform(-size, size)]
                               for _ in range(int(rng.integers(3, 6)))],
                              np.int32)
            cv2.fillPoly(image, [points], colour)
        elif shape == 3:  # cable
            cv2.line(image, (x, y), (int(x + rng.uniform(-1, 1) * width * 0.5),
                                     int(y + rng.uniform(-0.2, 0.2) * height)),
                     colour, 1)
        else:
            cv2.ellipse(image, (x, y), (size, max(1, size // 2)),
                        float(rng.uniform(0, 180)), 0, 360, colour, 2)


def render_background(style: CameraStyle,
                      rng: np.random.Generator) -> np.ndarray:
    """Render the static background of one camera.

    Args:
        style: the camera.
        rng: random generator for the layout.

    Returns:
        ``(H, W, 3)`` float32 BGR image in ``[0, 255]``.
    """
    height, width = style.height, style.width
    sky_top = _jitter(style.sky_colour, rng, 10)
    sky_bottom = tuple(int(min(255, c * 1.1)) for c in style.sky_colour)
    canvas = _vertical_gradient(height, width, sky_top,
                                sky_bottom).astype(np.uint8)
    _draw_buildings(canvas, style, rng)
    _draw_ground(canvas, style, rng)
    _draw_clutter(canvas, style, rng)
    image = canvas.astype(np.float32)
    blotches = rng.normal(0.0, 8.0, size=(max(2, height // 24),
                                           max(2, width // 24), 3))
    image += cv2.resize(blotches.astype(np.float32), (width, height),
                        interpolation=cv2.INTER_CUBIC)
    image += rng.normal(0.0, 4.0, size=(height, width, 1)).astype(np.float32)
    return np.clip(image, 0, 255)


def place_object(style: CameraStyle, kind: str, centre_x: float,
                 foot_y: float, rng: np.random.Generator) -> PlacedSprite:
    """Draw an object of ``kind`` standing at (``centre_x``, ``foot_y``).

    Its size follows the camera's ground-plane geometry (relative to the height a
    person standing there has).

    Args:
        style: the camera.
        kind: object kind (see :mod:`mmssl.synthps.objects`).
        centre_x: x of its centre.
        foot_y: y of its ground contact.
        rng: random generator.

    Returns:
        The placed object.
    """
    low, high = relative_height_range(kind)
    person = max(6.0, style.person_height_at(foot_y))
    sprite = draw_object(kind, int(round(person * rng.uniform(low, high))), rng)
    return PlacedSprite(sprite=sprite,
                        left=int(round(centre_x - sprite.width / 2)),
                        top=int(round(foot_y)) - sprite.height + 1,
                        depth=float(foot_y))


def build_camera_scene(style: CameraStyle,
                       rng: np.random.Generator) -> CameraScene:
    """Render a camera's background and place its fixed objects.

    Args:
        style: the camera.
        rng: random generator for the layout.

    Returns:
        The :class:`CameraScene`.
    """
    background = render_background(style, rng)
    fixed = []
    for _ in range(int(rng.integers(1, 4))):
        kind = ('pole', 'tree', 'bench', 'bin')[int(rng.integers(4))]
        ground = style.height - 1 - style.horizon
        foot_y = style.horizon + ground * rng.uniform(0.08, 0.55)
        fixed.append(
            place_object(style, kind, rng.uniform(0, style.width), foot_y, rng))
    return CameraScene(style=style, background=background, fixed_objects=fixed)
