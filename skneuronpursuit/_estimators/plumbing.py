"""Small pieces of the estimators' plumbing: their ``__init__`` and the per-iteration hook."""

import inspect
from dataclasses import fields

from .._engine.settings import PursuitOptions

# What scikit-learn's MLP parameters are called here, for those who bring them along.
MLP_EQUIVALENTS = {
    "hidden_layer_sizes": "the network grows: depth sets its layers, max_iter bounds its neurons",
    "activation": "activation_power and negative_slope set sigma(z) = max(z, a*z)**p",
    "learning_rate_init": "the descent's step is options=PursuitOptions(gd_lr=...)",
    "batch_size": "the descent uses all rows (or options=PursuitOptions(descent_samples=...))",
}


def estimator_init(base_init, **defaults):
    """``base_init`` with other ``defaults``, and new parameters for new names.

    A subclass that changes defaults or adds parameters takes this instead of writing
    the base's signature out again: ``get_params``, ``clone`` and the docs read the
    signature it carries.
    """
    signature = inspect.signature(base_init)
    parameters = [
        p.replace(default=defaults.pop(p.name, p.default)) for p in signature.parameters.values()
    ]
    parameters += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=value)
        for name, value in defaults.items()
    ]
    signature = signature.replace(parameters=parameters)

    def __init__(self, **params):
        try:
            bound = signature.bind(self, **params)
        except TypeError as error:
            moved = sorted(set(params) & {field.name for field in fields(PursuitOptions)})
            hint = f"; pass {moved} in options=PursuitOptions(...)" if moved else ""
            hint += "".join(
                f"; {name}: {MLP_EQUIVALENTS[name]}"
                for name in sorted(params)
                if name in MLP_EQUIVALENTS
            )
            raise TypeError(f"{type(self).__name__}.__init__() {error}{hint}") from None
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__


def either(*hooks):
    """One ``on_iteration`` hook calling each of ``hooks`` (None: absent); the first
    reason to stop wins, and every hook runs."""
    hooks = [hook for hook in hooks if hook is not None]
    if not hooks:
        return None

    def on_iteration(weights, record):
        reasons = [hook(weights, record) for hook in hooks]
        return next((reason for reason in reasons if reason), None)

    return on_iteration
