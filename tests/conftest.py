"""Suite-wide settings."""
import torch

# One intra-op thread: on a small shared CPU two OpenMP threads that wait for each
# other make the model tests several times slower (see TorchThreadsHook).
torch.set_num_threads(1)
