"""What keeps a fit safe: random streams, restoring state on failure, strict numbers."""

from contextlib import contextmanager

import numpy as np
from sklearn.utils._param_validation import Interval


def _random_state(seed):
    """A RandomState from ``seed``; for None a new one seeded by the OS, not NumPy's global one."""
    if seed is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, np.random.RandomState):
        return seed
    return np.random.RandomState(seed)


@contextmanager
def _restored_on_failure(estimator):
    """Undo any change to the fitted attributes (names ending in ``_``) if the block raises.

    A fit that fails, or is interrupted outside the growth loop, then leaves the
    estimator as it was: still fitted to the previous data, or not fitted at all.
    """
    saved = {name: value for name, value in vars(estimator).items() if name.endswith("_")}
    try:
        yield
    except BaseException:
        for name in [name for name in vars(estimator) if name.endswith("_")]:
            delattr(estimator, name)
        vars(estimator).update(saved)
        raise


class _Number(Interval):
    """An :class:`Interval` that refuses booleans (``True`` is an ``int`` in Python)."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)

    def __str__(self):
        return super().__str__() + " (not a bool)"
