"""The interface the SSL hooks declare: checked once, errors naming what is missing."""
import types

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.registry import init_default_scope

import mmssl  # noqa: F401
from mmssl.engine.hooks import (SSL_MODEL_INTERFACE, MemoryBankHook,
                                PseudoLabelHook, check_ssl_dataset,
                                check_ssl_model)
from mmssl.engine.hooks.invalid_loss_hook import declared_non_finite
from mmssl.engine.hooks.ssl_model import population_norm_head
from mmssl.models.memory import PersonMemory
from mmssl.models.pseudo_labels import PseudoLabelStore
from mmssl.testing import tiny_ssl_config


class Dataset:
    num_instances = 4

    def instance_table(self):
        return {}


def runner_of(model, dataset=None):
    return types.SimpleNamespace(
        model=model,
        train_dataloader=types.SimpleNamespace(dataset=dataset or Dataset()))


def test_the_person_search_detector_offers_the_interface():
    init_default_scope('mmdet')
    model = MODELS.build(tiny_ssl_config('unused', 'unused').model)
    for hook in ('MemoryBankHook', 'PseudoLabelHook'):
        assert check_ssl_model(model, hook) is model
    assert population_norm_head(model) is model.roi_head.embedding_head
    statistics = model.roi_head.embedding_head.population_statistics()
    assert all(torch.is_tensor(s) for s in statistics) and len(statistics) == 4
    # the one buffer InvalidLossHook lets a checkpoint hold as NaN
    assert declared_non_finite(model) == ['pseudo_labels.threshold']


def test_a_model_without_the_members_is_refused_naming_each():
    model = torch.nn.Linear(2, 2)
    model.memory = torch.nn.Identity()  # not a PersonMemory
    with pytest.raises(TypeError) as info:
        MemoryBankHook().before_train(runner_of(model))
    message = str(info.value)
    assert message.startswith('MemoryBankHook needs a model that offers memory '
                              '(a PersonMemory')
    for name in ('pseudo_labels', 'data_preprocessor', 'extract_feat',
                 'reid_features'):
        assert f'; {name} (' in message
    assert 'Linear does not' in message and 'docs/mixing.md' in message


def test_each_hook_asks_only_for_what_it_uses():
    model = torch.nn.Module()
    model.memory = PersonMemory(4, 8)
    model.pseudo_labels = PseudoLabelStore(4)
    # enough for the pseudo-label hook, not for the memory-bank hook
    PseudoLabelHook().before_train(runner_of(model))
    with pytest.raises(TypeError, match='offers data_preprocessor'):
        check_ssl_model(model, 'MemoryBankHook')
    assert {name for name, member in SSL_MODEL_INTERFACE.items()
            if 'PseudoLabelHook' in member.needed_by} == {'memory',
                                                          'pseudo_labels'}


def test_the_training_set_is_checked_too():
    model = torch.nn.Module()
    model.memory = PersonMemory(4, 8)
    model.pseudo_labels = PseudoLabelStore(4)
    with pytest.raises(TypeError, match=r'PseudoLabelHook needs a training set '
                       r'that offers instance_table \(instance_table\(\)'):
        PseudoLabelHook().before_train(runner_of(model, object()))
    with pytest.raises(TypeError, match='offers num_instances'):
        check_ssl_dataset(types.SimpleNamespace(num_instances=None),
                          'MemoryBankHook')
    check_ssl_dataset(Dataset(), 'MemoryBankHook')
