"""Write a matplotlib figure to an image file."""
import os
import os.path as osp

from matplotlib.figure import Figure


def save_figure(figure: Figure, path: str, dpi: int = 100) -> str:
    """Save ``figure`` to ``path`` (format from the extension, e.g. ``.png``).

    Creates the parent folder. Returns the path written.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    figure.savefig(path, dpi=dpi)
    return path
