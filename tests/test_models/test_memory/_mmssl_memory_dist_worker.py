"""Worker of test_distributed_memory.py (a plain module so spawned processes can
import it; pytest does not collect it)."""
import datetime
import importlib
import importlib.util
import os
import sys
import types

import torch
import torch.distributed as torch_dist

NUM_SAMPLES, FEAT_DIM, WORLD_SIZE = 12, 6, 2


def memory_script():
    """Per step: (method, {rank: (indices, instance_feats, exemplar_feats)})."""
    gen = torch.Generator().manual_seed(0)

    def feats(n):
        return torch.randn(n, FEAT_DIM, generator=gen)

    def rows(*values):
        return torch.tensor(values, dtype=torch.long)

    empty = (rows(), feats(0), feats(0))
    return [
        # initialisation pass: disjoint rows, unequal counts
        ('fill', {0: (rows(0, 1, 2, 3), feats(4), feats(4)),
                  1: (rows(*range(4, 12)), feats(8), feats(8))}),
        # disjoint updates of both banks
        ('update', {0: (rows(1, 3, 5), feats(3), feats(3)),
                    1: (rows(0, 2, 4, 6, 8), feats(5), feats(5))}),
        # a rank without persons; the other updates M_I only
        ('update', {0: empty, 1: (rows(7, 9), feats(2), None)}),
        # M_M only, on both ranks
        ('update', {0: (rows(10, ), None, feats(1)), 1: (rows(11, 1), None, feats(2))}),
        # no rank has persons
        ('update', {0: empty, 1: empty}),
        # both ranks update row 2: rank order decides
        ('update', {0: (rows(2, ), feats(1), feats(1)),
                    1: (rows(2, 3), feats(2), feats(2))}),
    ]


def label_script():
    """Two label sets of different sizes, as rank 0 would compute them."""
    first = (torch.tensor([0, 0, 1, -1, 1, 2, 2, -1, 0, 1, 2, -1]),
             torch.tensor([0, 2, 3, 5, 6, 8, 9, 10, 11, 13, 14, 15, 16]),
             torch.tensor([0, 8, 1, 2, 4, 3, 4, 2, 5, 6, 7, 8, 0, 9, 10, 11]), 2, 0.66)
    second = (None, torch.arange(NUM_SAMPLES + 1), torch.arange(NUM_SAMPLES), 5, 0.63)
    return [first, second]


def import_model_package(name):
    """Import ``mmssl.models.<name>`` without running ``mmssl/__init__.py``.

    The package ``__init__`` imports every component of mmssl (about 10 s per
    process on the 2-core test machine); the memory and pseudo-label packages
    need none of them. The parent packages are registered as bare namespace
    modules pointing at their folders, so only ``mmssl/models/<name>/`` (and
    mmdet's registry) is executed.
    """
    full_name = f'mmssl.models.{name}'
    if full_name in sys.modules:
        return sys.modules[full_name]
    if 'mmssl' in sys.modules:  # a namespace module of an earlier call
        package_dir = list(sys.modules['mmssl'].__path__)[0]
    else:
        package_dir = importlib.util.find_spec(
            'mmssl').submodule_search_locations[0]
    for parent, folder in (('mmssl', package_dir),
                           ('mmssl.models', os.path.join(package_dir, 'models'))):
        if parent not in sys.modules:
            module = types.ModuleType(parent)
            module.__path__ = [folder]
            sys.modules[parent] = module
    return importlib.import_module(full_name)


def run(rank, port, out_dir):
    """One rank: apply its share of the scripts, broadcast labels, save the state."""
    torch.set_num_threads(1)
    torch_dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                                  rank=rank, world_size=WORLD_SIZE,
                                  timeout=datetime.timedelta(seconds=60))
    try:
        PersonMemory = import_model_package('memory').PersonMemory
        PseudoLabelStore = import_model_package('pseudo_labels').PseudoLabelStore
        memory = PersonMemory(num_samples=NUM_SAMPLES, feat_dim=FEAT_DIM)
        for method, per_rank in memory_script():
            getattr(memory, method)(*per_rank[rank])
        memory.mark_initialised()

        store = PseudoLabelStore(num_samples=NUM_SAMPLES if rank == 0 else 0)
        received = []
        for labels in label_script():
            if rank == 0:
                store.set(*labels)
            store.broadcast(src=0)
            received.append({k: v.clone() for k, v in store.state_dict().items()})
        torch.save({'memory': memory.state_dict(), 'labels': received},
                   os.path.join(out_dir, f'rank{rank}.pth'))
    finally:
        torch_dist.destroy_process_group()
