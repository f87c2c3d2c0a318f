"""Learned signals: causal features, forward labels, purged walk-forward training, stored models.

``tradeterm ml train | list | show`` (``ml/cli.py``) and ``strategies/ml_signal.py`` use it. The
model libraries (LightGBM, scikit-learn) are the optional extra ``ml`` and load only in
``models.py``. See docs/ml.md.
"""
