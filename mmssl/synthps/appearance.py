"""Person appearances for SynthPS: identities built from attributes shared across people.

Every identity is a fixed combination of discrete attributes (clothing colours from a
small palette, clothing pattern, sleeve and leg style, hair, skin tone, bag, hat, body
build). The palettes are small on purpose, so different people often share most of
their attributes; a share of the identities is built as a *look-alike* of an earlier
one that differs in one or two attributes only. Unlabelled passers-by draw their
appearance from the same distribution.

Plain Python and numpy; no mmdet import.
"""
import dataclasses
from typing import List, Tuple

import numpy as np

Colour = Tuple[int, int, int]  # BGR, as OpenCV draws

#: Clothing colours (BGR). Shared by upper and lower garments, bags and hats.
CLOTHING_PALETTE: Tuple[Colour, ...] = (
    (40, 40, 200),    # red
    (160, 80, 30),    # blue
    (90, 40, 20),     # navy
    (60, 140, 50),    # green
    (235, 235, 235),  # white
    (30, 30, 30),     # black
    (130, 130, 130),  # grey
    (40, 200, 220),   # yellow
    (150, 60, 140),   # purple
    (60, 110, 180),   # orange-brown
)
#: Trouser colours (BGR): jeans, black, grey, khaki, brown, white, navy.
LOWER_PALETTE: Tuple[Colour, ...] = (
    (150, 100, 60), (35, 35, 35), (110, 110, 110), (120, 170, 190),
    (40, 70, 110), (225, 225, 225), (80, 40, 25))
HAIR_PALETTE: Tuple[Colour, ...] = (
    (20, 20, 25), (30, 50, 90), (90, 170, 210), (170, 170, 170), (40, 40, 130))
SKIN_PALETTE: Tuple[Colour, ...] = (
    (170, 195, 235), (130, 165, 215), (90, 125, 180), (55, 80, 120))
SHOE_PALETTE: Tuple[Colour, ...] = ((20, 20, 20), (230, 230, 230), (50, 70, 100))

UPPER_PATTERNS = ('plain', 'hstripes', 'vstripes', 'checks', 'logo')
LOWER_STYLES = ('trousers', 'shorts', 'skirt')
SLEEVES = ('long', 'short')
HAIR_LENGTHS = ('short', 'long', 'bald')
BAGS = ('none', 'backpack', 'shoulder', 'handbag')
HATS = ('none', 'cap')
BUILDS = (0.82, 0.95, 1.08, 1.22)  # body width factors

_PROBABILITIES = {
    'upper_pattern': (0.45, 0.15, 0.1, 0.15, 0.15),
    'lower_style': (0.7, 0.15, 0.15),
    'sleeves': (0.65, 0.35),
    'hair_length': (0.6, 0.32, 0.08),
    'bag': (0.45, 0.25, 0.18, 0.12),
    'hat': (0.85, 0.15),
}


@dataclasses.dataclass(frozen=True)
class PersonAppearance:
    """The fixed look of one person (indices into the module's palettes and styles).

    Attributes:
        upper_colour: index into :data:`CLOTHING_PALETTE` of the top.
        upper_pattern: one of :data:`UPPER_PATTERNS`.
        pattern_colour: index into :data:`CLOTHING_PALETTE` of the pattern's second
            colour (stripes, checks, logo).
        sleeves: one of :data:`SLEEVES`.
        lower_colour: index into :data:`LOWER_PALETTE`.
        lower_style: one of :data:`LOWER_STYLES`.
        hair_colour: index into :data:`HAIR_PALETTE`.
        hair_length: one of :data:`HAIR_LENGTHS`.
        skin_tone: index into :data:`SKIN_PALETTE`.
        shoe_colour: index into :data:`SHOE_PALETTE`.
        bag: one of :data:`BAGS`.
        bag_colour: index into :data:`CLOTHING_PALETTE`.
        hat: one of :data:`HATS`.
        hat_colour: index into :data:`CLOTHING_PALETTE`.
        build: body width factor, one of :data:`BUILDS`.
    """

    upper_colour: int
    upper_pattern: str
    pattern_colour: int
    sleeves: str
    lower_colour: int
    lower_style: str
    hair_colour: int
    hair_length: str
    skin_tone: int
    shoe_colour: int
    bag: str
    bag_colour: int
    hat: str
    hat_colour: int
    build: float

    def colours(self) -> dict:
        """BGR colours of the parts, resolved from the palettes."""
        return dict(
            upper=CLOTHING_PALETTE[self.upper_colour],
            pattern=CLOTHING_PALETTE[self.pattern_colour],
            lower=LOWER_PALETTE[self.lower_colour],
            hair=HAIR_PALETTE[self.hair_colour],
            skin=SKIN_PALETTE[self.skin_tone],
            shoes=SHOE_PALETTE[self.shoe_colour],
            bag=CLOTHING_PALETTE[self.bag_colour],
            hat=CLOTHING_PALETTE[self.hat_colour],
        )


def _choice(rng: np.random.Generator, options, key: str = None):
    probabilities = _PROBABILITIES.get(key) if key else None
    return options[int(rng.choice(len(options), p=probabilities))]


def _other_index(rng: np.random.Generator, size: int, avoid: int) -> int:
    value = int(rng.integers(size - 1))
    return value + 1 if value >= avoid else value


def random_appearance(rng: np.random.Generator) -> PersonAppearance:
    """Draw one appearance from the attribute distribution.

    Args:
        rng: the random generator to draw from.

    Returns:
        A :class:`PersonAppearance`.
    """
    upper = int(rng.integers(len(CLOTHING_PALETTE)))
    return PersonAppearance(
        upper_colour=upper,
        upper_pattern=_choice(rng, UPPER_PATTERNS, 'upper_pattern'),
        pattern_colour=_other_index(rng, len(CLOTHING_PALETTE), upper),
        sleeves=_choice(rng, SLEEVES, 'sleeves'),
        lower_colour=int(rng.integers(len(LOWER_PALETTE))),
        lower_style=_choice(rng, LOWER_STYLES, 'lower_style'),
        hair_colour=int(rng.integers(len(HAIR_PALETTE))),
        hair_length=_choice(rng, HAIR_LENGTHS, 'hair_length'),
        skin_tone=int(rng.integers(len(SKIN_PALETTE))),
        shoe_colour=int(rng.integers(len(SHOE_PALETTE))),
        bag=_choice(rng, BAGS, 'bag'),
        bag_colour=int(rng.integers(len(CLOTHING_PALETTE))),
        hat=_choice(rng, HATS, 'hat'),
        hat_colour=int(rng.integers(len(CLOTHING_PALETTE))),
        build=float(_choice(rng, BUILDS)),
    )


#: Attributes a look-alike may change, with how to redraw each.
_MUTABLE_ATTRIBUTES = ('upper_colour', 'upper_pattern', 'lower_colour', 'bag',
                       'hair_colour', 'sleeves', 'hat', 'build', 'lower_style')


def look_alike(rng: np.random.Generator,
               model: PersonAppearance) -> PersonAppearance:
    """A new appearance that differs from ``model`` in one or two attributes.

    Args:
        rng: the random generator to draw from.
        model: the appearance to imitate.

    Returns:
        An appearance equal to ``model`` except for one or two redrawn attributes
        (a redraw may land on the same value; callers reject exact duplicates).
    """
    fresh = random_appearance(rng)
    count = 1 + int(rng.random() < 0.5)
    names = rng.choice(len(_MUTABLE_ATTRIBUTES), size=count, replace=False)
    changes = {}
    for index in names:
        name = _MUTABLE_ATTRIBUTES[int(index)]
        changes[name] = getattr(fresh, name)
        if name == 'upper_colour':
            changes['pattern_colour'] = fresh.pattern_colour
    if changes.get('upper_colour', model.upper_colour) == changes.get(
            'pattern_colour', model.pattern_colour):
        changes['pattern_colour'] = _other_index(
            rng, len(CLOTHING_PALETTE), changes.get('upper_colour',
                                                    model.upper_colour))
    return dataclasses.replace(model, **changes)


def sample_identity_appearances(rng: np.random.Generator,
                                count: int,
                                look_alike_fraction: float = 0.35,
                                max_tries: int = 1000) -> List[PersonAppearance]:
    """Draw ``count`` pairwise distinct identity appearances with look-alikes.

    Args:
        rng: the random generator to draw from.
        count: number of identities.
        look_alike_fraction: chance that an identity (after the first) is built as a
            :func:`look_alike` of a random earlier identity.
        max_tries: give up after this many duplicate draws in a row.

    Returns:
        ``count`` distinct appearances, in identity order.

    Raises:
        RuntimeError: the attribute space could not supply ``count`` distinct
            appearances within ``max_tries`` draws.
    """
    appearances: List[PersonAppearance] = []
    seen = set()
    tries = 0
    while len(appearances) < count:
        if appearances and rng.random() < look_alike_fraction:
            model = appearances[int(rng.integers(len(appearances)))]
            candidate = look_alike(rng, model)
        else:
            candidate = random_appearance(rng)
        if candidate in seen:
            tries += 1
            if tries > max_tries:
                raise RuntimeError(
                    f'could not draw {count} distinct appearances '
                    f'(stuck at {len(appearances)})')
            continue
        tries = 0
        seen.add(candidate)
        appearances.append(candidate)
    return appearances
