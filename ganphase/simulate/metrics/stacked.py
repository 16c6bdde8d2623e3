"""Mode counts of Stacked MNIST (1000 modes), as the unrolled GAN, VEEGAN and PacGAN papers count them.

A generated image x (3 channels) is assigned the mode 100 d_0 + 10 d_1 + d_2, d_c the MNIST
classifier's argmax digit of channel c (:func:`ganphase.simulate.data.stacked_modes`).  Over M
generated images with mode histogram n_0..n_999 (p_k = n_k / M):

* ``modes_covered``: the number of modes hit at least once, #{k : n_k >= 1} (Metz et al. 2017,
  Table 2; Srivastava et al. 2017, Table 2; Lin et al. 2018, Table 2, all with M = 26,000);
* ``kl``: KL(p || u) = sum_{k : p_k > 0} p_k log(1000 p_k), the divergence of the mode histogram
  from the uniform u_k = 1/1000 (natural log, as those tables); 0 for a uniform histogram,
  log 1000 = 6.908 when every image falls in one mode.
"""
from __future__ import annotations

import numpy as np

from ganphase.simulate.data import stacked_modes

N_MODES = 1000


def mode_histogram(channel_digits) -> np.ndarray:
    """Counts n_k of the 1000 modes among images with channel digits (M, 3)."""
    return np.bincount(stacked_modes(channel_digits).ravel(), minlength=N_MODES)


def kl_from_uniform(hist) -> float:
    """KL(p || uniform) in nats for a histogram of counts over its bins (module docstring)."""
    hist = np.asarray(hist, np.float64)
    if hist.ndim != 1 or hist.size < 1 or (hist < 0).any() or hist.sum() <= 0:
        raise ValueError("the mode histogram must be a 1-D array of non-negative counts with a positive total")
    p = hist[hist > 0] / hist.sum()
    return float(np.sum(p * np.log(p * hist.size)))


def stacked_metrics(channel_digits) -> dict:
    """``modes_covered``, ``n_modes`` (1000), ``kl`` and the ``mode_hist`` array of images' channel digits."""
    hist = mode_histogram(channel_digits)
    return {"modes_covered": int((hist > 0).sum()), "n_modes": N_MODES, "kl": kl_from_uniform(hist),
            "mode_hist": hist}
