"""Attribute-labelled crops for pretraining: SynthPS's stand-in for ImageNet.

The paper starts from an ImageNet-pretrained ResNet-50; ImageNet cannot be had here.
These samples let a backbone learn, on a task of its own, what ImageNet features give
person search: what a person looks like, and what distinguishes one person's clothing
from another's. Frames are composed exactly as SynthPS composes them (cluttered
places, depth order, occlusion, camera illumination), but

* every frame has a camera of its own and every person a random appearance: there are
  no identities, so nothing of any SynthPS render's training identities can be learnt
  (the task is attribute classification, never identification);
* every person box is labelled with its discrete attributes
  (:data:`ATTRIBUTE_CLASSES`); windows of the background (objects, walls, ground and
  person-like blobs) are labelled as no person.

The frames are kept whole (:func:`render_attribute_frames`), so that a backbone learns
the attributes of persons where a detector meets them, as RoIs of a scene at its own
resolution; :meth:`AttributeFrames.crops` cuts the same boxes out as fixed-size crops,
as the exemplar branch sees persons.

Plain numpy/OpenCV; no mmdet import.
"""
import dataclasses
from typing import Dict, List, Tuple

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from .appearance import (BUILDS, CLOTHING_PALETTE, HAIR_LENGTHS, HAIR_PALETTE,
                         HATS, LOWER_PALETTE, LOWER_STYLES, SHOE_PALETTE, SKIN_PALETTE,
                         SLEEVES, UPPER_PATTERNS, BAGS, PersonAppearance,
                         random_appearance)
from .camera import sample_camera_styles, vary_place
from .composition import compose_frame
from .scene import build_camera_scene

#: The classified attributes and their number of classes.
ATTRIBUTE_CLASSES: Dict[str, int] = dict(
    upper_colour=len(CLOTHING_PALETTE), upper_pattern=len(UPPER_PATTERNS),
    sleeves=len(SLEEVES), lower_colour=len(LOWER_PALETTE),
    lower_style=len(LOWER_STYLES), hair_colour=len(HAIR_PALETTE),
    hair_length=len(HAIR_LENGTHS), skin_tone=len(SKIN_PALETTE),
    shoe_colour=len(SHOE_PALETTE), bag=len(BAGS), hat=len(HATS),
    build=len(BUILDS))
#: The attribute label of a background crop (ignored by the attribute losses).
NO_ATTRIBUTE = -1
#: A person is cropped when at least this share of it is seen and its box is inside.
MIN_VISIBLE = 0.5
#: A background crop overlaps every person box by at most this IoU.
MAX_BACKGROUND_IOU = 0.1
_OPTIONS = dict(upper_pattern=UPPER_PATTERNS, sleeves=SLEEVES,
                lower_style=LOWER_STYLES, hair_length=HAIR_LENGTHS, bag=BAGS,
                hat=HATS, build=BUILDS)


def attribute_labels(appearance: PersonAppearance) -> np.ndarray:
    """``(len(ATTRIBUTE_CLASSES),)`` int64 class index of each attribute."""
    labels = []
    for name in ATTRIBUTE_CLASSES:
        value = getattr(appearance, name)
        labels.append(_OPTIONS[name].index(value) if name in _OPTIONS else value)
    return np.asarray(labels, dtype=np.int64)


@dataclasses.dataclass
class AttributeSamples:
    """Crops and their labels.

    Attributes:
        images: ``(N, H, W, 3)`` uint8 BGR crops, all of one size.
        is_person: ``(N,)`` bool.
        attributes: ``(N, len(ATTRIBUTE_CLASSES))`` int64, :data:`NO_ATTRIBUTE`
            for background crops.
    """

    images: np.ndarray
    is_person: np.ndarray
    attributes: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


@dataclasses.dataclass
class AttributeFrames:
    """Whole frames with labelled boxes: persons and background windows.

    Attributes:
        images: ``(F, H, W, 3)`` uint8 BGR frames.
        boxes: per frame, ``(K, 4)`` float32 ``x1, y1, x2, y2`` boxes.
        is_person: per frame, ``(K,)`` bool.
        attributes: per frame, ``(K, len(ATTRIBUTE_CLASSES))`` int64,
            :data:`NO_ATTRIBUTE` for background windows.
    """

    images: np.ndarray
    boxes: List[np.ndarray]
    is_person: List[np.ndarray]
    attributes: List[np.ndarray]

    def __len__(self) -> int:
        return len(self.images)

    def crops(self, crop_size: Tuple[int, int] = (96, 48),
              seed: int = 0) -> AttributeSamples:
        """Every box cut out and resized to ``crop_size`` (persons with a little
        context around a 2:1 window, jittered; background windows as they are)."""
        rng = np.random.default_rng(seed)
        images, is_person, attributes = [], [], []
        for frame, boxes, persons, labels in zip(self.images, self.boxes,
                                                 self.is_person, self.attributes):
            for box, person, label in zip(boxes, persons, labels):
                window = _person_window(box, rng) if person else tuple(box)
                images.append(crop_window(frame, window, crop_size))
                is_person.append(bool(person))
                attributes.append(label)
        return AttributeSamples(images=np.stack(images),
                                is_person=np.asarray(is_person, dtype=bool),
                                attributes=np.stack(attributes))


def _box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one ``x0, y0, x1, y1`` box with ``(n, 4)`` boxes."""
    if len(boxes) == 0:
        return np.zeros(0)
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-6)


def crop_window(image: np.ndarray, window: Tuple[float, float, float, float],
                size: Tuple[int, int]) -> np.ndarray:
    """Crop ``window`` (``x0, y0, x1, y1``, may leave the image: edge pixels are
    repeated) and resize it to ``size`` = ``(height, width)``."""
    x0, y0, x1, y1 = (int(round(v)) for v in window)
    height, width = image.shape[:2]
    pad = max(0, -x0, -y0, x1 - width, y1 - height)
    if pad:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    crop = image[y0:y1, x0:x1]
    shrink = crop.shape[0] > size[0]
    return cv2.resize(crop, (size[1], size[0]),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def _person_window(box: np.ndarray, rng: np.random.Generator) -> Tuple[float, ...]:
    """A window of aspect 2:1 around an ``x1, y1, x2, y2`` box, a little jittered."""
    x, y = box[0], box[1]
    w, h = box[2] - box[0], box[3] - box[1]
    side = h * rng.uniform(1.05, 1.2)
    centre_x = x + w / 2 + rng.uniform(-0.05, 0.05) * w
    centre_y = y + h / 2 + rng.uniform(-0.03, 0.03) * h
    return (centre_x - side / 4, centre_y - side / 2, centre_x + side / 4,
            centre_y + side / 2)


def render_attribute_frames(seed: int,
                            num_frames: int,
                            backgrounds_per_frame: int = 2,
                            height: int = 256,
                            width: int = 384,
                            min_person_height: int = 24,
                            max_person_height: int = 208,
                            progress: bool = False) -> AttributeFrames:
    """Compose ``num_frames`` frames with labelled person and background boxes.

    Args:
        seed: random seed (the same seed gives the same frames). Any seed is
            disjoint from the identities of every SynthPS render: there are none.
        num_frames: frames to compose (each shows 2 to 7 persons).
        backgrounds_per_frame: background windows (person-shaped, off every
            person) labelled in each frame.
        height: frame height.
        width: frame width.
        min_person_height: smallest person height (pixels).
        max_person_height: largest person height (pixels).
        progress: show an mmengine progress bar.

    Returns:
        :class:`AttributeFrames`; a person is labelled when its box lies inside
        the frame and at least :data:`MIN_VISIBLE` of it is seen.
    """
    images = []
    all_boxes, all_persons, all_attributes = [], [], []
    no_attributes = np.full(len(ATTRIBUTE_CLASSES), NO_ATTRIBUTE, np.int64)
    bar = ProgressBar(num_frames) if progress else None
    for index in range(num_frames):
        rng = np.random.default_rng([int(seed), index])
        style = sample_camera_styles(rng, 1, height, width, min_person_height,
                                     max_person_height)[0]
        scene = build_camera_scene(vary_place(style, rng), rng)
        people = [random_appearance(rng) for _ in range(int(rng.integers(2, 8)))]
        frame = compose_frame(scene, people, rng, min_person_height,
                              max_person_height)
        corners = np.concatenate([frame.boxes[:, :2],
                                  frame.boxes[:, :2] + frame.boxes[:, 2:]], 1)
        boxes, persons, labels = [], [], []
        for k, appearance in enumerate(people):
            if frame.inside[k] and frame.visible_fractions[k] >= MIN_VISIBLE:
                boxes.append(corners[k])
                persons.append(True)
                labels.append(attribute_labels(appearance))
        for _ in range(backgrounds_per_frame):
            for _attempt in range(20):
                side = np.exp(rng.uniform(np.log(min_person_height),
                                          np.log(max_person_height)))
                x0 = rng.uniform(0, width - 0.5 * side)
                y0 = rng.uniform(0, max(1.0, height - side))
                window = np.array([x0, y0, x0 + side / 2, min(height, y0 + side)])
                if (_box_iou(window, corners) <= MAX_BACKGROUND_IOU).all():
                    boxes.append(window)
                    persons.append(False)
                    labels.append(no_attributes)
                    break
        images.append(frame.image)
        all_boxes.append(np.asarray(boxes, np.float32).reshape(-1, 4))
        all_persons.append(np.asarray(persons, bool))
        all_attributes.append(np.asarray(labels, np.int64).reshape(
            -1, len(ATTRIBUTE_CLASSES)))
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.file.write('\n')
    return AttributeFrames(images=np.stack(images), boxes=all_boxes,
                           is_person=all_persons, attributes=all_attributes)
