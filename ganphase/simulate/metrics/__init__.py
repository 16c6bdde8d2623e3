"""Collapse and quality metrics of GAN runs: ``Evaluator(dataset_name, real_x, real_y)(samples) -> dict``.

Modules, each named after what it measures:

* :mod:`.mixture`    modes covered, high-quality, mode-mixture and off-support shares (Gaussian mixtures);
* :mod:`.classifier` the small CNN q(x) per image data set (Section 6.1, Appendix F.1), cached;
* :mod:`.fitting`    pair counts of classes above tau = 1e-2 (Appendix F.1), class histogram and its TV;
* :mod:`.stacked`    modes hit and KL from uniform over Stacked MNIST's 1000 modes;
* :mod:`.frechet`    Frechet distance of classifier features (FID-style; Appendix G.4);
* :mod:`.prdc`       precision / recall / density / coverage, and the fixed-radius support precision / recall;
* :mod:`.duality`    duality gap and perturbed duality gap (Appendix G.5);
* :mod:`.collapse`   the measured collapse epoch and the checkpoint score.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from ganphase.simulate.data import STACKED, stacked_modes
from ganphase.simulate.device import resolve_device
from ganphase.simulate.metrics.classifier import IMAGE_NAMES, get_classifier, to_side
from ganphase.simulate.metrics.fitting import TAU, class_histogram, classes_covered, mixed_share, pair_counts, \
    total_variation
from ganphase.simulate.metrics.frechet import frechet_distance, gaussian_fit
from ganphase.simulate.metrics.mixture import mixture_metrics
from ganphase.simulate.metrics.prdc import knn_radii, prdc, support_precision_recall
from ganphase.simulate.metrics.stacked import N_MODES, stacked_metrics

__all__ = ["Evaluator"]


def _is_mixture(name: str) -> bool:
    return name in ("gmm-3d", "gmm-2d") or name.startswith(("grid:", "ring:"))


def _mixture_spec(name: str):
    from ganphase.simulate.data import mixture_spec

    return mixture_spec(name)


class Evaluator:
    """Metrics of a batch of generated samples in [-1, 1] against a data set's real samples.

    Mixtures (``gmm-3d``, ``gmm-2d``, ``grid:...``, ``ring:...``): :func:`.mixture.mixture_metrics`
    with the exact centres and sigma of the data set (``real_x`` only fixes the dimension).

    Images (``digits``, ``mnist``, ``fashion-mnist``, ``cifar10``): every image is resized to the
    classifier's side (bilinear, anti-aliased) and passed through the cached classifier;
    ``n_samples`` real images (a seeded random subset of ``real_x``) form the reference:

    * ``fd``: Frechet distance of penultimate features, generated batch vs the reference;
    * ``precision``, ``recall``, ``density``, ``coverage`` (k = ``k``) of the first M generated images
      against the first M reference images, M = min(batch size, ``n_samples``) (equal set sizes, as
      Naeem et al. 2020 recommend; it also keeps a 10,000-image evaluation from an all-pairs k-NN
      of 10,000 generated images);
    * ``support_precision``, ``support_recall``: fixed radius tau = median k-NN radius of those M;
    * ``class_tv``: TV between the argmax-class histogram of the batch and the real label histogram;
      ``classes_covered`` (classes given >= 1/(4C) of the batch), ``mixed_share`` (images with two
      classes above 1e-2); arrays ``pair_counts`` (Appendix F.1) and ``class_hist``.

    Stacked MNIST (``stacked-mnist``): each channel goes through the ``mnist`` classifier; the
    features of an image are its three channels' features side by side (for ``fd`` and the
    precision / recall family), and instead of the class entries it reports :mod:`.stacked`'s
    ``modes_covered``, ``n_modes`` (1000) and ``kl``, ``class_tv`` over the 1000 modes, and the
    array ``mode_hist``.

    The classifier is trained with seed ``classifier_seed`` (not ``seed``, which only picks the
    reference subset), so runs of different seeds share one classifier; ``classifier_options``
    overrides fields of its recipe (:class:`.classifier.ClassifierConfig`, e.g. ``epochs``).

    Every call returns JSON-able scalars plus ``"arrays"`` (numpy arrays) and ``eval_seconds``.
    """

    def __init__(self, dataset_name: str, real_x, real_y=None, device="auto", cache_dir=None, seed: int = 0,
                 n_samples: int = 2000, data_dir=None, k: int = 5, radius: float = 3.0,
                 min_share: float | None = None, tau: float = TAU, classifier_seed: int = 0,
                 classifier_options: dict | None = None, progress: bool = True):
        if not isinstance(dataset_name, str):
            raise ValueError(f"dataset_name must be a string, got {dataset_name!r}")
        if not (isinstance(n_samples, int) and n_samples >= 2):
            raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")
        if not (isinstance(k, int) and k >= 1):
            raise ValueError(f"k must be a positive integer, got {k!r}")
        real_x = torch.as_tensor(real_x)
        if real_x.dim() < 2 or len(real_x) < 2 or not torch.isfinite(real_x).all():
            raise ValueError(f"real_x must be a finite tensor of at least 2 samples, got shape {tuple(real_x.shape)}")
        self.name, self.k, self.radius, self.min_share, self.tau = dataset_name, k, radius, min_share, tau
        self.device = resolve_device(device)
        self.mixture = _is_mixture(dataset_name)
        self.sample_shape = tuple(real_x.shape[1:])
        if self.mixture:
            self.means, self.sigma = _mixture_spec(dataset_name)
            if real_x.dim() != 2 or real_x.shape[1] != self.means.shape[1]:
                raise ValueError(f"real_x of {dataset_name} must be (N, {self.means.shape[1]}), got {tuple(real_x.shape)}")
            return
        if dataset_name not in IMAGE_NAMES + (STACKED,):
            raise ValueError(f"no metrics for data set {dataset_name!r}: use a mixture (gmm-3d, gmm-2d, grid:..., "
                             f"ring:...) or one of {', '.join(IMAGE_NAMES + (STACKED,))}")
        self.stacked = dataset_name == STACKED
        if real_x.dim() != 4:
            raise ValueError(f"real_x of {dataset_name} must be images (N, C, H, W), got shape {tuple(real_x.shape)}")
        self.classifier, self.classifier_info = get_classifier(
            "mnist" if self.stacked else dataset_name, cache_dir=cache_dir, data_dir=data_dir, device=self.device,
            seed=classifier_seed, progress=progress, **(classifier_options or {}))
        self.channels = 3 if self.stacked else self.classifier.in_channels
        if real_x.shape[1] != self.channels:
            raise ValueError(f"real_x has {real_x.shape[1]} channels, {dataset_name} images have {self.channels}")
        self.n_classes = N_MODES if self.stacked else self.classifier.out.out_features
        perm = torch.randperm(len(real_x), generator=torch.Generator().manual_seed(seed))[:n_samples]
        feats, probs = self.features_and_probs(real_x[perm])
        self.ref_features = feats
        self.ref_mu, self.ref_cov = gaussian_fit(feats)
        if real_y is not None:
            y = torch.as_tensor(real_y)
            if y.shape[0] != real_x.shape[0]:
                raise ValueError(f"real_y must hold one label per real sample ({len(real_x)}), got {y.shape[0]}")
            self.real_hist = class_histogram(y[perm].cpu().numpy().astype(np.int64), self.n_classes)
        else:  # the classifier's labels of the real reference
            self.real_hist = class_histogram(self._labels(probs), self.n_classes)
        self._radii = {}

    # ------------------------------------------------------------------ images
    @torch.no_grad()
    def features_and_probs(self, x, batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """(penultimate features (M, d), softmax probabilities (M, C)) of images in [-1, 1].

        Stacked MNIST: features (M, 3 d), the channels' side by side, and probabilities (M, 3, 10).
        """
        feats, probs = [], []
        c = self.classifier.in_channels
        for i in range(0, len(x), batch):
            xb = torch.as_tensor(x[i:i + batch]).to(self.device, torch.float32)
            n = len(xb)
            xb = to_side(xb.reshape(-1, c, *xb.shape[-2:]), self.classifier.side)   # channels as images
            f = self.classifier.features(xb)
            p = torch.softmax(self.classifier.out(f).double(), 1)
            feats.append(f.double().reshape(n, -1).cpu())
            probs.append((p.reshape(n, -1, p.shape[1]) if self.stacked else p).cpu())
        return torch.cat(feats).numpy(), torch.cat(probs).numpy()

    def _labels(self, probs) -> np.ndarray:
        """Argmax class of each image; for Stacked MNIST the mode of its three channel digits."""
        return stacked_modes(probs.argmax(-1)) if self.stacked else probs.argmax(1)

    def _reference(self, m: int):
        m = min(m, len(self.ref_features))
        if m not in self._radii:
            ref = self.ref_features[:m]
            k = min(self.k, m - 1)
            radii = knn_radii(ref, k)
            self._radii[m] = (ref, k, radii, float(np.median(radii)))
        return self._radii[m]

    def _images(self, samples: torch.Tensor) -> dict:
        if samples.dim() != 4 or samples.shape[1] != self.channels:
            raise ValueError(f"samples must be images (M, {self.channels}, H, W), got shape {tuple(samples.shape)}")
        feats, probs = self.features_and_probs(samples)
        ref, k, radii, tau_support = self._reference(len(samples))
        k = min(k, len(samples) - 1)
        pr = prdc(ref, feats[:len(ref)], k=k, real_radii=radii if k == min(self.k, len(ref) - 1) else None)
        sp = support_precision_recall(ref, feats[:len(ref)], tau_support)
        labels = self._labels(probs)
        hist = class_histogram(labels, self.n_classes)
        out = {"fd": frechet_distance(self.ref_mu, self.ref_cov, *gaussian_fit(feats)),
               **pr, "support_precision": sp["precision"], "support_recall": sp["recall"],
               "support_tau": tau_support, "class_tv": total_variation(hist, self.real_hist),
               "n_generated": len(samples), "n_reference": len(self.ref_features)}
        if self.stacked:
            modes = stacked_metrics(probs.argmax(-1))
            out.update(modes_covered=modes["modes_covered"], n_modes=modes["n_modes"], kl=modes["kl"],
                       arrays={"mode_hist": modes["mode_hist"]})
            return out
        out.update(classes_covered=classes_covered(labels, self.n_classes, self.min_share),
                   n_classes=self.n_classes, mixed_share=mixed_share(probs, self.tau),
                   arrays={"pair_counts": pair_counts(probs, self.tau), "class_hist": hist})
        return out

    # ------------------------------------------------------------------ both
    def __call__(self, samples) -> dict:
        t0 = time.perf_counter()
        samples = torch.as_tensor(samples).detach()
        if samples.dim() < 2 or len(samples) < 2:
            raise ValueError(f"samples must be a batch of at least 2 samples, got shape {tuple(samples.shape)}")
        if not torch.isfinite(samples).all():
            raise ValueError("samples hold NaN or infinite values")
        if self.mixture:
            out = mixture_metrics(samples.reshape(len(samples), -1).double().cpu().numpy(), self.means, self.sigma,
                                  self.radius, self.min_share)
            out["arrays"] = {"mode_counts": np.asarray(out.pop("mode_counts"))}
            out["n_generated"] = len(samples)
        else:
            out = self._images(samples)
        out["eval_seconds"] = time.perf_counter() - t0
        return out
