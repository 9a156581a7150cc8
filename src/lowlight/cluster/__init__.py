"""Enhancing many image files on a Ray cluster with Ray Data (the ``ray`` extra).

``enhance_on_ray(inputs, output, ...)`` is ``lowlight enhance --engine ray``: the driver plans
the batch (``planning``: local paths as ``lowlight enhance`` plans them, or URIs that pyarrow
opens, ``locations``), loads the model once and hands the pictures to a pool of Ray workers
(``worker``), each of which loads the model once and enhances and writes every picture with the
functions the one-machine command uses, so the results are the same files.
"""

from lowlight.cluster.engine import BatchSummary, Failure, enhance_on_ray

__all__ = ["BatchSummary", "Failure", "enhance_on_ray"]
