"""Running the generated ``train`` loop for ``Kernels.fit``: in one call, or in chunks between
which a progress bar is updated; and ``LossHistory``, what ``fit`` returns."""

from __future__ import annotations

import time

import numpy as np

from symbprop.training.history import History
from symbprop.training.progress import EpochProgress


class LossHistory(np.ndarray):
    """What ``fit`` returns: the loss of each epoch, a NumPy array that plots itself
    (``history.plot("loss.png")``, PNG/PDF/SVG; needs matplotlib)."""

    def plot(self, path, title: str | None = None):
        return History(losses=[float(v) for v in self]).plot(path, title)


def in_chunks(run, theta, epochs: int, progress: bool):
    """``run(theta, first_epoch, count)`` over all epochs: in one call, or in chunks of about
    0.2 s between which the progress bar (``training.progress``) is updated (the result is the
    same)."""
    if not progress or epochs == 0:
        return run(theta, 0, epochs)
    histories, done, chunk = [], 0, 1
    with EpochProgress(True, epochs) as bar:
        while done < epochs:
            count = min(chunk, epochs - done)
            start = time.perf_counter()
            theta, history = run(theta, done, count)
            histories.append(history)
            done += count
            bar.advance(done, float(history[-1]))
            elapsed = time.perf_counter() - start
            chunk = max(1, min(chunk * 4, int(count * 0.2 / max(elapsed, 1e-6))))
    return theta, np.concatenate(histories)
