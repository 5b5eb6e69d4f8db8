"""The dynamic multi-label threshold of the paper (Eq. 9)."""
import math


def dynamic_threshold(epoch: float,
                      t_s: float = 0.6,
                      alpha: float = 0.1,
                      beta: float = -0.1) -> float:
    """Threshold ``t = t_s + alpha * exp(beta * epoch)`` (Eq. 9).

    With the paper's ``t_s=0.6, alpha=0.1, beta=-0.1`` the threshold starts at 0.7
    at epoch 0 and decays toward 0.6: early, noisy features only pair very similar
    boxes; later, better features are trusted with a lower threshold.

    Args:
        epoch: current epoch ``e`` (0-based, as MMEngine counts).
        t_s: initial (asymptotic) threshold ``t_s``.
        alpha: ratio factor ``alpha``.
        beta: ratio factor ``beta`` (negative for a decaying threshold).

    Returns:
        The threshold ``t`` of Eq. 8.

    Raises:
        ValueError: negative or non-finite epoch.
    """
    if not math.isfinite(epoch) or epoch < 0:
        raise ValueError(f'epoch must be a finite number >= 0, got {epoch}')
    return float(t_s + alpha * math.exp(beta * epoch))
