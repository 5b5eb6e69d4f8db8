"""The CUHK-SYSU file formats, read and written with the nesting ``scipy.io.loadmat``
gives for the official release (``struct_as_record=True``, nothing squeezed).

* ``annotation/Images.mat`` key ``Img``: a ``1 x M`` struct array with fields
  ``imname`` (char), ``nAppear`` (1 x 1) and ``box`` (a ``1 x K`` struct array with
  fields ``idlocate`` (1 x 4 ``x, y, w, h``) and ``ishard`` (1 x 1)).
* ``annotation/pool.mat`` key ``pool``: a ``P x 1`` cell of test image names.
* ``annotation/test/train_test/TestG{N}.mat`` key ``TestG{N}``: a ``1 x Q`` struct
  array with fields ``Query`` (1 x 1 struct: ``imname``, ``idlocate``, ``ishard``,
  ``idname``) and ``Gallery`` (``1 x N`` struct: ``imname``, ``idlocate``,
  ``ishard``; an empty ``idlocate`` means the person is not in that image; the
  images holding the person come first).
* ``annotation/test/train_test/Train.mat`` key ``Train``: a ``T x 1`` cell whose
  items are 1 x 1 structs with fields ``idname``, ``nAppear`` and ``scene`` (a
  ``1 x S`` struct array with fields ``imname``, ``idlocate``, ``ishard``).

After ``loadmat`` a char field is a ``(1,)`` str array, a scalar a ``(1, 1)`` array and
a struct array a structured ndarray with object fields; the readers below walk that
nesting, check it and raise a ``ValueError`` that names the file, the record and what
was expected when it differs. Person names (``idname``) look like ``'p1234'``.

Plain functions over numpy arrays; no mmdet import.
"""
import os.path as osp
import re
from typing import List, NamedTuple, Optional, Sequence

import numpy as np
import scipy.io

from .entries import note_first_entry

CUHK_GALLERY_SIZES = (50, 100, 500, 1000, 2000, 4000)


class CUHKImageAnnotation(NamedTuple):
    """One record of ``Images.mat``.

    Attributes:
        name: image file name, e.g. ``'s1.jpg'``.
        boxes: ``(K, 4)`` float64 ``[x, y, w, h]`` rows, as stored (not validated).
        hard: ``(K,)`` bool ``ishard`` flags.
    """
    name: str
    boxes: np.ndarray
    hard: np.ndarray


class CUHKPersonBox(NamedTuple):
    """One appearance of a person: a query, a gallery entry or a train scene.

    Attributes:
        image_name: image file name.
        box: ``(4,)`` float64 ``[x, y, w, h]``, or None when the person is not in
            the image (empty ``idlocate`` of a gallery entry).
        hard: the ``ishard`` flag.
    """
    image_name: str
    box: Optional[np.ndarray]
    hard: bool


class CUHKTestQuery(NamedTuple):
    """One record of a ``TestG{N}.mat`` protocol.

    Attributes:
        person_name: the query's ``idname``, e.g. ``'p5678'``.
        query: the query box.
        gallery: the ``N`` gallery entries, positives (``box`` not None) first.
    """
    person_name: str
    query: CUHKPersonBox
    gallery: List[CUHKPersonBox]


class CUHKTrainIdentity(NamedTuple):
    """One identity of ``Train.mat``.

    Attributes:
        person_name: its ``idname``.
        appearances: its boxes in the training images.
    """
    person_name: str
    appearances: List[CUHKPersonBox]


def parse_cuhk_person_id(person_name: str) -> Optional[int]:
    """Return the integer of a CUHK-SYSU person name (``'p1234'`` -> 1234).

    Returns:
        The number, or None when the name holds no ``p<digits>`` pattern.
    """
    match = re.fullmatch(r'\s*p?(\d+)\s*', str(person_name))
    return int(match.group(1)) if match else None


# --------------------------------------------------------------------- reading


def _load_key(path: str, key: str, expected: str) -> np.ndarray:
    """``loadmat(path)[key]`` with errors that name the file and the expectation."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: file not found; expected {expected} '
                                f'under key {key!r}')
    try:
        mat = scipy.io.loadmat(path)
    except Exception as err:  # scipy raises several types for broken files
        raise ValueError(f'{path}: not a readable .mat file ({err})') from err
    if key not in mat:
        found = sorted(k for k in mat if not k.startswith('__'))
        raise ValueError(f'{path}: key {key!r} not found (keys present: {found}); '
                         f'expected {expected}')
    return mat[key]


def _struct_array(value, fields: Sequence[str], where: str,
                  expected: str) -> np.ndarray:
    """Check that ``value`` is a struct array with ``fields``; return it flattened."""
    names = getattr(getattr(value, 'dtype', None), 'names', None)
    if names is None or any(f not in names for f in fields):
        got = (f'fields {list(names)}' if names else
               f'{type(value).__name__} of shape {getattr(value, "shape", None)}')
        raise ValueError(f'{where}: expected {expected} (a struct array with '
                         f'fields {list(fields)}), got {got}')
    return value.reshape(-1)


def _string(value, where: str) -> str:
    """A char field: a ``(1,)`` str array (or a plain str)."""
    if isinstance(value, str):
        return value.strip()
    flat = np.asarray(value).reshape(-1)
    if flat.size != 1 or not isinstance(flat[0], str):
        raise ValueError(f'{where}: expected a string, got {value!r}')
    return str(flat[0]).strip()


def _box(value, where: str, allow_empty: bool) -> Optional[np.ndarray]:
    """An ``idlocate`` field: 4 numbers ``x, y, w, h`` (or empty when allowed)."""
    array = np.asarray(value)
    if array.size == 0 and allow_empty:
        return None
    try:
        box = array.astype(np.float64).reshape(-1)
    except (TypeError, ValueError) as err:
        raise ValueError(f'{where}: idlocate is not numeric ({value!r})') from err
    if box.size != 4:
        raise ValueError(f'{where}: expected idlocate to hold 4 numbers '
                         f'[x, y, w, h], got shape {array.shape}')
    if not np.isfinite(box).all():
        raise ValueError(f'{where}: idlocate holds a non-finite value '
                         f'{box.tolist()}')
    return box


def _flag(value) -> bool:
    array = np.asarray(value).reshape(-1)
    return bool(array.size and float(array[0]) != 0)


def _person_box(record, where: str, allow_empty: bool) -> CUHKPersonBox:
    return CUHKPersonBox(
        image_name=_string(record['imname'], where + ' imname'),
        box=_box(record['idlocate'], where, allow_empty),
        hard=_flag(record['ishard']))


def load_cuhk_images(path: str) -> List[CUHKImageAnnotation]:
    """Load ``annotation/Images.mat`` (key ``Img``).

    Returns:
        One :class:`CUHKImageAnnotation` per image, in file order; boxes are
        returned as stored (a caller drops those with ``w`` or ``h`` <= 0). An
        empty ``box`` (MATLAB ``[]`` or a 1 x 0 struct) is an image without
        persons.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: wrong key or nesting, an image listed twice, a box with
            NaN/inf; the message names the file and record.
    """
    expected = 'a 1 x M struct array Img(imname, nAppear, box)'
    images = _struct_array(
        _load_key(path, 'Img', expected), ('imname', 'box'), f'{path}: Img',
        expected)
    result = []
    first_record = {}
    for i, record in enumerate(images):
        where = f'{path}: Img record {i}'
        name = _string(record['imname'], where + ' imname')
        note_first_entry(first_record, name, i,
                         f'{where}: image {name} is listed twice', 'records')
        where = f'{path}: Img record {i} ({name})'
        if np.asarray(record['box']).size == 0:  # [] or 1 x 0: no persons
            box_records = []
        else:
            box_records = _struct_array(
                record['box'], ('idlocate', 'ishard'), where + ' box',
                'a 1 x K struct array box(idlocate, ishard)')
        boxes = np.zeros((len(box_records), 4), dtype=np.float64)
        hard = np.zeros(len(box_records), dtype=bool)
        for k, box_record in enumerate(box_records):
            boxes[k] = _box(box_record['idlocate'], f'{where} box {k}', False)
            hard[k] = _flag(box_record['ishard'])
        result.append(CUHKImageAnnotation(name, boxes, hard))
    return result


def load_cuhk_pool(path: str) -> List[str]:
    """Load ``annotation/pool.mat`` (key ``pool``): the test image names.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: not a cell of names, or a name listed twice; the message
            names the file and the entry.
    """
    cell = _load_key(path, 'pool', 'a P x 1 cell of test image names')
    cell = np.asarray(cell)
    if cell.dtype != object:
        raise ValueError(f'{path}: pool is a {cell.dtype} array of shape '
                         f'{cell.shape}; expected a P x 1 cell of image names')
    names, first_entry = [], {}
    for i, item in enumerate(cell.reshape(-1)):
        name = _string(item, f'{path}: pool entry {i}')
        note_first_entry(first_entry, name, i,
                         f'{path}: test image {name} is listed twice')
        names.append(name)
    return names


def load_cuhk_test_protocol(path: str, key: str) -> List[CUHKTestQuery]:
    """Load a ``TestG{N}.mat`` protocol (key ``TestG{N}``).

    Returns:
        One :class:`CUHKTestQuery` per query, in file order.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: wrong key or nesting; the message names the file and record.
    """
    expected = f'a 1 x Q struct array {key}(Query, Gallery)'
    records = _struct_array(
        _load_key(path, key, expected), ('Query', 'Gallery'), f'{path}: {key}',
        expected)
    result = []
    for i, record in enumerate(records):
        where = f'{path}: {key} record {i}'
        query = _struct_array(
            record['Query'], ('imname', 'idlocate', 'ishard', 'idname'),
            where + ' Query', 'a 1 x 1 struct Query(imname, idlocate, ishard, '
            'idname)')
        if len(query) != 1:
            raise ValueError(f'{where}: Query holds {len(query)} records, '
                             'expected 1')
        gallery = _struct_array(
            record['Gallery'], ('imname', 'idlocate', 'ishard'),
            where + ' Gallery',
            'a 1 x N struct array Gallery(imname, idlocate, ishard)')
        result.append(CUHKTestQuery(
            person_name=_string(query[0]['idname'], where + ' Query idname'),
            query=_person_box(query[0], where + ' Query', False),
            gallery=[
                _person_box(entry, f'{where} Gallery {g}', True)
                for g, entry in enumerate(gallery)
            ]))
    return result


def load_cuhk_train_identities(path: str) -> List[CUHKTrainIdentity]:
    """Load ``Train.mat`` (key ``Train``): the training identities and their boxes.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: wrong key or nesting; the message names the file and record.
    """
    cell = np.asarray(
        _load_key(path, 'Train', 'a T x 1 cell of structs (idname, nAppear, '
                  'scene)'))
    if cell.dtype != object or cell.dtype.names is not None:
        raise ValueError(f'{path}: Train is a {cell.dtype} array of shape '
                         f'{cell.shape}; expected a T x 1 cell of structs '
                         '(idname, nAppear, scene)')
    result = []
    for i, item in enumerate(cell.reshape(-1)):
        where = f'{path}: Train record {i}'
        identity = _struct_array(item, ('idname', 'scene'), where,
                                 'a 1 x 1 struct (idname, nAppear, scene)')
        if len(identity) != 1:
            raise ValueError(f'{where}: holds {len(identity)} structs, expected 1')
        scenes = _struct_array(
            identity[0]['scene'], ('imname', 'idlocate', 'ishard'),
            where + ' scene', 'a 1 x S struct array scene(imname, idlocate, '
            'ishard)')
        result.append(CUHKTrainIdentity(
            person_name=_string(identity[0]['idname'], where + ' idname'),
            appearances=[
                _person_box(scene, f'{where} scene {s}', False)
                for s, scene in enumerate(scenes)
            ]))
    return result


# --------------------------------------------------------------------- writing


def _row(box: Optional[Sequence[float]]) -> np.ndarray:
    if box is None:
        return np.zeros((0, 0), dtype=np.float64)
    return np.asarray(box, dtype=np.float64).reshape(1, 4)


def _scalar(value: float) -> np.ndarray:
    return np.array([[float(value)]])


_PERSON_BOX_DTYPE = [('imname', object), ('idlocate', object), ('ishard', object)]


def _person_box_array(boxes: Sequence[CUHKPersonBox]) -> np.ndarray:
    array = np.empty((1, len(boxes)), dtype=_PERSON_BOX_DTYPE)
    for j, entry in enumerate(boxes):
        array[0, j] = (str(entry.image_name), _row(entry.box),
                       _scalar(entry.hard))
    return array


def save_cuhk_images(path: str, images: Sequence[CUHKImageAnnotation]) -> None:
    """Write ``Images.mat`` with the official nesting (see the module docstring)."""
    img = np.empty((1, len(images)),
                   dtype=[('imname', object), ('nAppear', object),
                          ('box', object)])
    for i, image in enumerate(images):
        boxes = np.asarray(image.boxes, dtype=np.float64).reshape(-1, 4)
        hard = np.zeros(len(boxes), bool) if image.hard is None else image.hard
        box = np.empty((1, len(boxes)),
                       dtype=[('idlocate', object), ('ishard', object)])
        for k in range(len(boxes)):
            box[0, k] = (_row(boxes[k]), _scalar(hard[k]))
        img[0, i] = (str(image.name), _scalar(len(boxes)), box)
    scipy.io.savemat(path, {'Img': img})


def save_cuhk_pool(path: str, names: Sequence[str]) -> None:
    """Write ``pool.mat``: a ``P x 1`` cell of test image names."""
    cell = np.empty((len(names), 1), dtype=object)
    for i, name in enumerate(names):
        cell[i, 0] = str(name)
    scipy.io.savemat(path, {'pool': cell})


def save_cuhk_test_protocol(path: str, key: str,
                            queries: Sequence[CUHKTestQuery]) -> None:
    """Write a ``TestG{N}.mat`` protocol with the official nesting."""
    records = np.empty((1, len(queries)),
                       dtype=[('Query', object), ('Gallery', object)])
    for i, item in enumerate(queries):
        query = np.empty((1, 1), dtype=_PERSON_BOX_DTYPE + [('idname', object)])
        query[0, 0] = (str(item.query.image_name), _row(item.query.box),
                       _scalar(item.query.hard), str(item.person_name))
        records[0, i] = (query, _person_box_array(item.gallery))
    scipy.io.savemat(path, {key: records})


def save_cuhk_train_identities(path: str,
                               identities: Sequence[CUHKTrainIdentity]) -> None:
    """Write ``Train.mat``: a ``T x 1`` cell of structs (idname, nAppear, scene)."""
    cell = np.empty((len(identities), 1), dtype=object)
    for i, identity in enumerate(identities):
        struct = np.empty((1, 1), dtype=[('idname', object), ('nAppear', object),
                                         ('scene', object)])
        struct[0, 0] = (str(identity.person_name),
                        _scalar(len(identity.appearances)),
                        _person_box_array(identity.appearances))
        cell[i, 0] = struct
    scipy.io.savemat(path, {'Train': cell})


def cuhk_test_protocol_path(data_root: str, gallery_size: int) -> str:
    """Path of ``TestG{gallery_size}.mat`` under a CUHK-SYSU root."""
    return osp.join(data_root, 'annotation', 'test', 'train_test',
                    f'TestG{gallery_size}.mat')


def cuhk_test_protocol_key(gallery_size: int) -> str:
    """The key of ``TestG{gallery_size}.mat``."""
    return f'TestG{gallery_size}'


__all__: List[str] = [
    'CUHK_GALLERY_SIZES', 'CUHKImageAnnotation', 'CUHKPersonBox',
    'CUHKTestQuery', 'CUHKTrainIdentity', 'parse_cuhk_person_id',
    'load_cuhk_images', 'load_cuhk_pool', 'load_cuhk_test_protocol',
    'load_cuhk_train_identities', 'save_cuhk_images', 'save_cuhk_pool',
    'save_cuhk_test_protocol', 'save_cuhk_train_identities',
    'cuhk_test_protocol_path', 'cuhk_test_protocol_key'
]
