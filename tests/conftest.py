"""Suite-wide settings."""
import pytest
import torch

# One intra-op thread: on a small shared CPU two OpenMP threads that wait for each
# other make the model tests several times slower (see TorchThreadsHook).
torch.set_num_threads(1)


@pytest.fixture(scope='session')
def tiny_searcher(tmp_path_factory) -> dict:
    """Paths (``config``, ``checkpoint``, ``data_root``, ``work_dir``) of a tiny SSL
    run trained once per session (:mod:`mmssl.testing.tiny_searcher`)."""
    from mmssl.testing.tiny_searcher import tiny_searcher_run
    return tiny_searcher_run(tmp_path_factory.getbasetemp() / 'tiny_searcher')
