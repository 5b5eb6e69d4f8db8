"""The sprite: a drawn thing (person or object) ready to be composited into a frame.

A sprite keeps its colour *premultiplied* by its coverage (alpha), so that resizing it
with area interpolation blends colour and coverage consistently (no dark fringe from
the empty canvas around it) and compositing is ``frame * (1 - alpha) + colour``.

Plain numpy/OpenCV; no mmdet import.
"""
import dataclasses

import cv2
import numpy as np


@dataclasses.dataclass
class Sprite:
    """A premultiplied-alpha image.

    Attributes:
        colour: ``(h, w, 3)`` float32 BGR colour premultiplied by ``alpha``.
        alpha: ``(h, w)`` float32 coverage in ``[0, 1]``.
    """

    colour: np.ndarray
    alpha: np.ndarray

    @property
    def height(self) -> int:
        """Height in pixels."""
        return self.alpha.shape[0]

    @property
    def width(self) -> int:
        """Width in pixels."""
        return self.alpha.shape[1]

    @classmethod
    def from_drawing(cls, image: np.ndarray, coverage: np.ndarray) -> 'Sprite':
        """Build a sprite from a drawn BGR image and its binary coverage.

        Args:
            image: ``(h, w, 3)`` uint8 BGR drawing.
            coverage: ``(h, w)`` bool or {0, 1} array, True where the drawing is.

        Returns:
            The sprite, cropped to the tight box of ``coverage``.

        Raises:
            ValueError: ``coverage`` is empty.
        """
        alpha = coverage.astype(np.float32)
        rows = np.flatnonzero(alpha.any(axis=1))
        cols = np.flatnonzero(alpha.any(axis=0))
        if rows.size == 0:
            raise ValueError('cannot build a sprite from an empty drawing')
        window = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        alpha = np.ascontiguousarray(alpha[window])
        colour = image[window].astype(np.float32) * alpha[..., None]
        return cls(colour=colour, alpha=alpha)

    def resized(self, height: int, width: int = None) -> 'Sprite':
        """Resample to ``height`` pixels (width keeps the aspect unless given).

        Shrinking low-pass filters first (a Gaussian a bit under half the shrink
        factor wide, as a camera's optics blur) and then uses area interpolation,
        so detail finer than the new pixel size is averaged away, as a
        low-resolution camera would lose it, instead of aliasing into beats.

        Args:
            height: new height in pixels (>= 1).
            width: new width in pixels; default keeps the aspect ratio.

        Returns:
            The resized sprite.
        """
        height = max(1, int(round(height)))
        if width is None:
            width = self.width * height / self.height
        width = max(1, int(round(width)))
        factor = self.height / height
        source_colour, source_alpha = self.colour, self.alpha
        if factor > 1.5:
            sigma = 0.45 * (factor - 1.0)
            source_colour = cv2.GaussianBlur(source_colour, (0, 0), sigma)
            source_alpha = cv2.GaussianBlur(source_alpha, (0, 0), sigma)
        interpolation = cv2.INTER_AREA if factor > 1 else cv2.INTER_LINEAR
        colour = cv2.resize(source_colour, (width, height),
                            interpolation=interpolation)
        alpha = cv2.resize(source_alpha, (width, height),
                           interpolation=interpolation)
        return Sprite(colour=colour.reshape(height, width, 3),
                      alpha=np.clip(alpha, 0.0, 1.0).reshape(height, width))

    def mask(self, threshold: float = 0.5) -> np.ndarray:
        """Binary foreground: ``alpha >= threshold``."""
        return self.alpha >= threshold


def paste_sprite(canvas: np.ndarray, sprite: Sprite, left: int,
                 top: int) -> tuple:
    """Composite ``sprite`` onto ``canvas`` (in place) with its top-left at (left, top).

    Args:
        canvas: ``(H, W, 3)`` float32 BGR frame, modified in place.
        sprite: the sprite; parts outside the canvas are cut off.
        left: x of the sprite's first column in canvas coordinates (may be < 0).
        top: y of the sprite's first row in canvas coordinates (may be < 0).

    Returns:
        ``(canvas_window, sprite_window)``: the two ``(slice, slice)`` windows that
        overlap, or ``None`` when the sprite lies entirely outside the canvas.
    """
    height, width = canvas.shape[:2]
    x0, y0 = max(left, 0), max(top, 0)
    x1 = min(left + sprite.width, width)
    y1 = min(top + sprite.height, height)
    if x0 >= x1 or y0 >= y1:
        return None
    canvas_window = (slice(y0, y1), slice(x0, x1))
    sprite_window = (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))
    alpha = sprite.alpha[sprite_window][..., None]
    region = canvas[canvas_window]
    region *= 1.0 - alpha
    region += sprite.colour[sprite_window]
    return canvas_window, sprite_window
