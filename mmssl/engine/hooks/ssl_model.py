"""What a model and its training set offer the SSL hooks: the one declared interface.

:class:`MemoryBankHook` and :class:`PseudoLabelHook` work with any detector, not only
:class:`~mmssl.models.PersonSearchDetector`, that offers the members of
:data:`SSL_MODEL_INTERFACE` on the model (unwrapped from DDP) and of
:data:`SSL_DATASET_INTERFACE` on the training set. Each hook checks, once before
training, what it needs (:func:`ssl_model`, :func:`check_ssl_dataset`) and raises one
``TypeError`` naming every missing member. ``docs/mixing.md`` shows how another
detector offers them.

Beyond these, a model may offer ``roi_head.embedding_head``: an embedding head with
``norm_stats == 'population'``, ``calibrating()`` and ``population_statistics()``
(:class:`~mmssl.models.ReIDEmbeddingHead`) has its statistics estimated by
``MemoryBankHook`` before the banks are filled (:func:`population_norm_head`).
"""
from typing import Callable, Dict, NamedTuple, Optional, Tuple

import torch
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmssl.models.memory import PersonMemory
from mmssl.models.pseudo_labels import PseudoLabelStore

MEMORY_BANK_HOOK = 'MemoryBankHook'
PSEUDO_LABEL_HOOK = 'PseudoLabelHook'
BOTH_HOOKS = (MEMORY_BANK_HOOK, PSEUDO_LABEL_HOOK)


class Member(NamedTuple):
    """One member of an interface.

    Attributes:
        offers: whether a value is a fitting member.
        what: what the member is, for the error message.
        needed_by: the hooks that use it.
    """

    offers: Callable[[object], bool]
    what: str
    needed_by: Tuple[str, ...]


def _instance_of(kind: type) -> Callable[[object], bool]:
    return lambda value: isinstance(value, kind)


#: The model's members the hooks use, by attribute name.
SSL_MODEL_INTERFACE: Dict[str, Member] = dict(
    memory=Member(
        _instance_of(PersonMemory),
        'a PersonMemory: the banks M_I and M_M (read by both hooks; sized, filled '
        'and refreshed by MemoryBankHook; updated by the model itself, Eq. 5)',
        BOTH_HOOKS),
    pseudo_labels=Member(
        _instance_of(PseudoLabelStore),
        'a PseudoLabelStore: the labels PseudoLabelHook sets every epoch and '
        'the losses read', BOTH_HOOKS),
    data_preprocessor=Member(
        callable, 'the data preprocessor, data_preprocessor(data_batch, True) '
        '-> dict(inputs=..., data_samples=...)', (MEMORY_BANK_HOOK, )),
    extract_feat=Member(
        callable, 'extract_feat(inputs) -> the feature maps',
        (MEMORY_BANK_HOOK, )),
    reid_features=Member(
        callable, 'reid_features(inputs, feature_maps, data_samples) -> dict with '
        "'rows' (P,) memory rows of the ground-truth boxes, 'instance_feats' (P, d) "
        "for M_I and 'merged_feats' (P, d) for M_M", (MEMORY_BANK_HOOK, )),
)

#: The training set's members the hooks use, by attribute name.
SSL_DATASET_INTERFACE: Dict[str, Member] = dict(
    num_instances=Member(
        lambda value: isinstance(value, int) and value >= 0,
        'num_instances: the number of training boxes (memory rows)',
        (MEMORY_BANK_HOOK, )),
    instance_table=Member(
        callable, "instance_table() -> dict with 'image_index', 'person_id' and "
        "'bboxes' per memory row", (PSEUDO_LABEL_HOOK, )),
)


def unwrap_model(runner: Runner) -> torch.nn.Module:
    """The runner's model without its DDP (or other) wrapper."""
    return runner.model.module if is_model_wrapper(runner.model) else runner.model


def _missing(obj: object, interface: Dict[str, Member], hook: str) -> list:
    return [
        f'{name} ({member.what})' for name, member in interface.items()
        if hook in member.needed_by
        and not member.offers(getattr(obj, name, None))
    ]


def check_ssl_model(model: torch.nn.Module, hook: str) -> torch.nn.Module:
    """Raise ``TypeError`` unless ``model`` offers what ``hook`` needs.

    Args:
        model: the unwrapped model.
        hook: ``'MemoryBankHook'`` or ``'PseudoLabelHook'``.

    Returns:
        ``model``.
    """
    missing = _missing(model, SSL_MODEL_INTERFACE, hook)
    if missing:
        raise TypeError(
            f'{hook} needs a model that offers {"; ".join(missing)}; '
            f'{type(model).__name__} does not (see SSL_MODEL_INTERFACE in '
            'mmssl/engine/hooks/ssl_model.py and docs/mixing.md)')
    return model


def ssl_model(runner: Runner, hook: str) -> torch.nn.Module:
    """The runner's unwrapped model, checked by :func:`check_ssl_model`."""
    return check_ssl_model(unwrap_model(runner), hook)


def check_ssl_dataset(dataset: object, hook: str) -> None:
    """Raise ``TypeError`` unless the training set offers what ``hook`` needs."""
    missing = _missing(dataset, SSL_DATASET_INTERFACE, hook)
    if missing:
        raise TypeError(
            f'{hook} needs a training set that offers {"; ".join(missing)}; '
            f'{type(dataset).__name__} does not (every PersonSearchDataset does; '
            'see docs/mixing.md)')


def population_norm_head(model: torch.nn.Module) -> Optional[torch.nn.Module]:
    """The model's embedding head when it normalises with population statistics
    (``roi_head.embedding_head`` with ``norm_stats == 'population'``), else None."""
    head = getattr(getattr(model, 'roi_head', None), 'embedding_head', None)
    if getattr(head, 'norm_stats', None) != 'population':
        return None
    return head
