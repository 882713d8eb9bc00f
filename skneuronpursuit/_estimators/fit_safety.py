"""What keeps a fit safe: restoring state on failure, strict numbers."""

import functools
from contextlib import contextmanager

from .._engine.settings import _Number  # noqa: F401 (the estimators' strict numbers)


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


def restores_on_failure(fit):
    """``fit`` run within :func:`_restored_on_failure`, outside the callbacks' set-up
    and teardown: a callback that fails there fails the fit, which then changes nothing."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        with _restored_on_failure(self):
            return fit(self, *args, **kwargs)

    return wrapper
