"""Optional integrations: training-loop loggers and a PyTorch Lightning callback.

* :mod:`vaelib.integrations.loggers` — :class:`~vaelib.integrations.loggers.CSVLogger` (no extra
  dependency) and :class:`~vaelib.integrations.loggers.TensorBoardLogger` (``torch.utils.tensorboard``,
  which needs the ``tensorboard`` package), both :func:`vaelib.fit` callbacks.
* :mod:`vaelib.integrations.lightning` — :class:`~vaelib.integrations.lightning.KLAnnealing`, a
  Lightning callback that drives a LightningModule's KL weight from an :class:`~vaelib.Annealer`
  (``pip install 'vaelib[lightning]'``).

Each module imports its optional dependency only when used, with an error naming the extra.
"""
from vaelib.integrations.loggers import CSVLogger, TensorBoardLogger

__all__ = ["CSVLogger", "TensorBoardLogger"]
