"""Likelihood-based anomaly detection and purification (the PixelDefend idea).

* :mod:`~jax_ar.anomaly.auroc`      -- AUROC of "in" vs "out" scores (ties counted half).
* :mod:`~jax_ar.anomaly.perturb`    -- anomaly sources for binary images: Bernoulli noise,
  flips, inversion, shifts.
* :mod:`~jax_ar.anomaly.scores`     -- anomaly scores from an AR model: raw NLL, likelihood
  ratio against a simpler background model, typicality.
* :mod:`~jax_ar.anomaly.classifier` -- a small Flax MLP classifier (and k-means pseudo-labels
  for unlabelled data such as the binarized MNIST files).
* :mod:`~jax_ar.anomaly.attack`     -- discrete (pixel-flip) gradient attack on the classifier.
* :mod:`~jax_ar.anomaly.purify`     -- move an image toward higher likelihood within a flip budget.
"""
