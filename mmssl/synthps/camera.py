"""Cameras of SynthPS: ground-plane geometry, scene style and illumination.

Each camera maps a person's height to where the feet stand (persons far away are small
and high in the frame, near ones are large and low) and has its own illumination: colour
cast, brightness, contrast, gamma, sensor noise, blur and JPEG quality. The same person
therefore looks different from camera to camera, as in real multi-camera footage. It
also has a usual place (colours and textures of walls and ground), which every frame
varies (:func:`vary_place`).

Plain numpy/OpenCV; no mmdet import.
"""
import dataclasses
from typing import Tuple

import cv2
import numpy as np

Colour = Tuple[int, int, int]

WALL_STYLES = ('bricks', 'panels', 'windows', 'plain')
GROUND_STYLES = ('tiles', 'asphalt', 'paving', 'grass')

#: Colour casts (BGR gains): neutral, warm, cool, green fluorescent, magenta.
_COLOUR_CASTS = ((1.0, 1.0, 1.0), (0.82, 0.98, 1.18), (1.18, 1.0, 0.85),
                 (0.9, 1.14, 0.9), (1.1, 0.88, 1.08))


@dataclasses.dataclass(frozen=True)
class CameraStyle:
    """One camera: where it looks and how it sees.

    Attributes:
        camera_id: the id in frame names (``c<camera_id>s1_...``), 1..9.
        height: frame height (pixels).
        width: frame width (pixels).
        horizon: y of the ground's horizon; a person with feet at ``y`` is about
            ``scale * (y - horizon)`` pixels tall.
        scale: person height per pixel below the horizon.
        wall_colour: base BGR colour of the walls.
        ground_colour: base BGR colour of the ground.
        sky_colour: BGR colour above the buildings.
        wall_style: one of :data:`WALL_STYLES`.
        ground_style: one of :data:`GROUND_STYLES`.
        gain: per-channel BGR gain (the colour cast).
        brightness: added to every channel after the gain.
        contrast: contrast factor around the frame's mean.
        gamma: gamma applied to the normalised intensities.
        noise_sigma: standard deviation of the sensor noise.
        blur: whether the camera is slightly out of focus.
        jpeg_quality: JPEG quality of its frames.
    """

    camera_id: int
    height: int
    width: int
    horizon: float
    scale: float
    wall_colour: Colour
    ground_colour: Colour
    sky_colour: Colour
    wall_style: str
    ground_style: str
    gain: Tuple[float, float, float]
    brightness: float
    contrast: float
    gamma: float
    noise_sigma: float
    blur: bool
    jpeg_quality: int

    def foot_y(self, person_height: float) -> float:
        """Where the feet of a person ``person_height`` pixels tall stand."""
        return self.horizon + person_height / self.scale

    def person_height_at(self, foot_y: float) -> float:
        """Height (pixels) of a person whose feet are at ``foot_y``."""
        return max(0.0, (foot_y - self.horizon) * self.scale)


def _muted_colour(rng: np.random.Generator, low: int = 60,
                  high: int = 200) -> Colour:
    base = rng.uniform(low, high)
    tint = rng.uniform(-35, 35, size=3)
    return tuple(int(np.clip(base + t, 0, 255)) for t in tint)


def sample_camera_styles(rng: np.random.Generator, num_cameras: int,
                         height: int, width: int, min_person_height: int,
                         max_person_height: int) -> Tuple[CameraStyle, ...]:
    """Draw ``num_cameras`` distinct cameras.

    The geometry is chosen so that persons from ``min_person_height`` to
    ``max_person_height`` stand between the horizon and the bottom of the frame.

    Args:
        rng: the random generator to draw from.
        num_cameras: number of cameras (1..9: PRW names hold one digit).
        height: frame height (pixels).
        width: frame width (pixels).
        min_person_height: smallest person height (pixels).
        max_person_height: largest person height (pixels, < ``height``).

    Returns:
        The cameras, ids 1..``num_cameras``.
    """
    styles = []
    casts = rng.permutation(len(_COLOUR_CASTS))
    for index in range(num_cameras):
        # The horizon leaves room above the smallest person's head and below it
        # for the tallest one's feet.
        lowest_foot = height - 2.0 - rng.uniform(0, 0.03 * height)
        highest_horizon = lowest_foot - max_person_height * 0.75
        horizon = rng.uniform(max(min_person_height * 1.3, 0.18 * height),
                              max(min_person_height * 1.3 + 1,
                                  min(0.42 * height, highest_horizon)))
        scale = max_person_height / (lowest_foot - horizon)
        cast = np.asarray(_COLOUR_CASTS[int(casts[index % len(casts)])])
        cast = cast * rng.uniform(0.95, 1.05, size=3)
        styles.append(
            CameraStyle(
                camera_id=index + 1,
                height=height,
                width=width,
                horizon=float(horizon),
                scale=float(scale),
                wall_colour=_muted_colour(rng),
                ground_colour=_muted_colour(rng, 50, 170),
                sky_colour=_muted_colour(rng, 150, 240),
                wall_style=WALL_STYLES[int(rng.integers(len(WALL_STYLES)))],
                ground_style=GROUND_STYLES[int(
                    rng.integers(len(GROUND_STYLES)))],
                gain=tuple(float(g) for g in cast),
                brightness=float(rng.uniform(-28, 22)),
                contrast=float(rng.uniform(0.7, 1.2)),
                gamma=float(rng.uniform(0.8, 1.25)),
                noise_sigma=float(rng.uniform(1.5, 6.0)),
                blur=bool(rng.random() < 0.35),
                jpeg_quality=int(rng.integers(78, 96)),
            ))
    return tuple(styles)


#: Chance that a frame's place gets a new wall (ground) texture or new colours.
PLACE_RESTYLE_CHANCE = 0.5


def _jittered(colour: Colour, rng: np.random.Generator, amount: float) -> Colour:
    values = np.asarray(colour, np.float64) + rng.uniform(-amount, amount, size=3)
    return tuple(int(v) for v in np.clip(values, 0, 255))


def vary_place(style: CameraStyle, rng: np.random.Generator) -> CameraStyle:
    """The camera's style with the place it looks at redrawn for one frame.

    The camera keeps its geometry (horizon, person scale) and its illumination
    (colour cast, brightness, contrast, gamma, noise, blur, JPEG quality), so a
    person still looks the way this camera shows people; what it looks at changes
    from frame to frame: each of the wall texture, the ground texture and the three
    scene colours is redrawn with chance :data:`PLACE_RESTYLE_CHANCE`, and
    otherwise jittered. A detector therefore cannot learn a camera's few fixed
    backgrounds, and a model trained on one render meets new scenes in another.

    Args:
        style: the camera.
        rng: random generator of the frame.

    Returns:
        A :class:`CameraStyle` with the same camera id, geometry and illumination.
    """
    def colour(base: Colour, low: int, high: int) -> Colour:
        if rng.random() < PLACE_RESTYLE_CHANCE:
            return _muted_colour(rng, low, high)
        return _jittered(base, rng, 20.0)

    def texture(current: str, options: Tuple[str, ...]) -> str:
        if rng.random() < PLACE_RESTYLE_CHANCE:
            return options[int(rng.integers(len(options)))]
        return current

    return dataclasses.replace(
        style,
        wall_colour=colour(style.wall_colour, 60, 200),
        ground_colour=colour(style.ground_colour, 50, 170),
        sky_colour=colour(style.sky_colour, 150, 240),
        wall_style=texture(style.wall_style, WALL_STYLES),
        ground_style=texture(style.ground_style, GROUND_STYLES))


def apply_illumination(image: np.ndarray, style: CameraStyle,
                       rng: np.random.Generator) -> np.ndarray:
    """See a composed frame through a camera.

    Applies contrast, colour cast, brightness, gamma, an optional slight blur and
    sensor noise, with a small per-frame jitter of brightness (the light changes
    during the day).

    Args:
        image: ``(H, W, 3)`` float32 BGR frame in ``[0, 255]``.
        style: the camera.
        rng: random generator for the jitter and the noise.

    Returns:
        ``(H, W, 3)`` uint8 BGR frame.
    """
    mean = np.asarray(cv2.mean(image)[:3], dtype=np.float32)
    gain = np.asarray(style.gain, dtype=np.float32)
    offset = (mean * (1.0 - style.contrast) * gain + style.brightness +
              float(rng.uniform(-8, 8)))
    # (x - mean) * contrast * gain + mean * gain + brightness, as one affine map.
    out = image * (style.contrast * gain) + offset
    out = np.clip(out, 0, 255).astype(np.uint8)
    gamma_table = np.clip(
        np.round(255.0 * (np.arange(256) / 255.0)**style.gamma), 0,
        255).astype(np.uint8)
    out = cv2.LUT(out, gamma_table)
    if style.blur:
        out = cv2.GaussianBlur(out, (3, 3), 0.8)
    noise = rng.standard_normal(size=out.shape[:2], dtype=np.float32)
    noisy = out.astype(np.float32) + (style.noise_sigma * noise)[..., None]
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)
