"""What a fit reports: one record per iteration, why it stopped, its progress lines.

docs/algorithm.md §3.5.
"""

from dataclasses import dataclass, fields

# Stuck (choice): the last STALL_ITERATIONS added neurons together lowered the loss by
# less than STALL_FRACTION of it. On Gaussian inputs with ReLU (docs/benchmarks.md,
# gauss-f1-relu) the training error sits at 0.0903 to four digits from the fifth neuron
# on; fits that are learning lower it by percents per neuron.
STALL_ITERATIONS = 5
STALL_FRACTION = 1e-3


@dataclass(frozen=True)
class StopReason:
    """Why a fit stopped: what to tell the user, and whether to warn (a ConvergenceWarning)."""

    message: str
    warns: bool = True
    # Warns only when early stopping held data out (the validation score then says
    # whether the user has something to fix).
    only_with_early_stopping: bool = False
    # Quiet when the fit is penalised (alpha > 0): the penalised loss has converged, and
    # later neurons only duplicate earlier ones (docs/algorithm.md §10).
    quiet_with_penalty: bool = False
    # Quiet when early stopping chose the network on held-out data: the growth ended
    # where the validation score had stopped improving too (docs/algorithm.md §3.5).
    quiet_with_early_stopping: bool = False
    # Only the paper's protocol stops so (neuron_pursuit with a PaperSchedule), never an
    # estimator.
    paper_only: bool = False


# Every value of ``stop_reason_``; the engine returns the first nine, the estimators'
# per-iteration tracker the last three (docs/algorithm.md §3.5).
STOP_REASONS = {
    "tol": StopReason("the relative training error reached tol", warns=False),
    # With early stopping max_iter is reached while the validation score still improved,
    # and a larger max_iter may do better; without it, max_iter is the capacity the user
    # chose (docs/algorithm.md §3.5).
    "max_iter": StopReason(
        "max_iter iterations ran while the validation score was still improving; "
        "a larger max_iter may score better",
        only_with_early_stopping=True,
    ),
    "no_positive_kkt": StopReason(
        "no positive KKT point of the neural correlation function was found: no "
        "neuron can lower the loss to first order (docs/algorithm.md §7)"
    ),
    "no_descent": StopReason(
        "the best candidate neuron raised the loss at every scale tried (its decrease "
        "is below the working precision); the network of the previous iteration is "
        "kept. dtype='float64' resolves smaller decreases (docs/algorithm.md §3.4)"
    ),
    "penalty": StopReason(
        "no neuron lowers the loss plus its L2 penalty by more than a negligible "
        "amount: alpha limits the size of the network (docs/algorithm.md §10)",
        warns=False,
    ),
    "diverged": StopReason(
        "gradient descent could not lower the loss even after repeated step "
        "halving; the last network with a finite, non-increasing loss is kept"
    ),
    "non_finite": StopReason(
        "a value overflowed to inf or NaN in the search for the next neuron or when it "
        "was added; the network of the previous iteration is kept. A smaller ncf_lr or "
        "gd_lr, or dtype='float64', avoids it"
    ),
    "interrupted": StopReason(
        "the fit was interrupted; the network of the last completed iteration is kept"
    ),
    "stalled": StopReason(
        f"the last {STALL_ITERATIONS} added neurons lowered the training loss by less than "
        f"{STALL_FRACTION:g} of it: the fit is stuck. With ReLU (negative_slope=0) a "
        "network can be trapped where no neuron helps (e.g. a last hidden layer that "
        "cannot output negative values); try a negative_slope such as 0.1",
        quiet_with_penalty=True,
        quiet_with_early_stopping=True,
    ),
    "classified": StopReason(
        "every training sample is classified correctly (the paper's stop for modular "
        "addition, PaperSchedule.stop_when_classified)",
        warns=False,
        paper_only=True,
    ),
    "early_stopping": StopReason(
        "the validation score did not improve for the patience (n_iter_no_change)", warns=False
    ),
    "perfect_validation": StopReason(
        "the validation score reached 1, which no later network could beat; the "
        "network that reached it is kept",
        warns=False,
    ),
    "callback": StopReason("a callback asked the fit to stop", warns=False),
}


@dataclass(frozen=True)
class Addition:
    """How an iteration added its neuron(s), before the inner minimisation."""

    layer: int | None  # 1-based hidden layer that grew; None in iteration 1
    delta: float  # scale the new weights were added at
    delta_halvings: int
    loss_before: float
    loss_after_add: float


@dataclass(frozen=True)
class IterationRecord:
    """One iteration of ``history_``; losses on the rescaled problem (docs/algorithm.md §1).

    Read as attributes (``record.loss``) or by key: ``record["loss"]``, ``"loss" in
    record``, ``keys()``, ``items()``, ``get()``. Not iterable, so that a list of records
    is a table of dataclasses to pandas (``pandas.DataFrame(reg.history_)``).
    """

    iteration: int
    layer: int | None  # 1-based hidden layer that grew; None in iteration 1
    ncf_value: float  # NCF of the chosen unit-norm KKT point
    delta: float  # scale the new weights were added at
    delta_halvings: int
    loss_before: float
    loss_after_add: float
    loss: float  # after the inner minimisation
    solver: str  # the inner minimisation of this iteration: "gd", "lm" or "gd+lm"
    gd_steps: int  # accepted gradient-descent steps
    gd_step_size: float  # the gradient-descent step in force at the end
    gd_halvings: int
    lm_steps: int  # accepted Levenberg-Marquardt steps
    lm_rejected: int  # rejected Levenberg-Marquardt steps
    train_error: float  # loss / loss of the zero network
    hidden_layer_sizes: tuple
    seconds: float
    search_seconds: float
    gd_seconds: float
    ncf_steps: int | None = None  # the ascent's steps and step size in this iteration
    ncf_lr: float | None = None
    gd_budget: int | None = None  # the paper's schedule: the descent's step count
    validation_score: float | None = None  # with early stopping; set by the estimator

    def __getitem__(self, name):
        if not isinstance(name, str) or name not in self.keys():
            raise KeyError(name)
        return getattr(self, name)

    def __contains__(self, name):
        return isinstance(name, str) and name in self.keys()

    # Not iterable: ``__getitem__`` alone would let ``iter()`` call it with 0, 1, ...
    __iter__ = None

    def keys(self):
        return [f.name for f in fields(self)]

    def items(self):
        return [(name, getattr(self, name)) for name in self.keys()]

    def get(self, name, default=None):
        return getattr(self, name) if name in self else default


def settled(losses):
    """Whether the last iteration lowered the loss by at most ``STALL_FRACTION`` of it."""
    return len(losses) >= 2 and losses[-2] - losses[-1] <= STALL_FRACTION * losses[-2]


def stalled(losses, floor=0.0):
    """Whether the last ``STALL_ITERATIONS`` iterations lowered the loss by a negligible amount.

    A loss at or below ``floor`` (what rounding leaves of an exact fit) cannot be
    lowered: such a fit is not stuck.
    """
    if len(losses) <= STALL_ITERATIONS or losses[-1] <= floor:
        return False
    earlier, now = losses[-1 - STALL_ITERATIONS], losses[-1]
    return earlier - now <= STALL_FRACTION * earlier


def print_record(record, verbose):
    """The ``verbose`` progress line(s) of one record, printed."""
    layer = "first" if record["layer"] is None else f"layer {record['layer']}"
    print(
        f"[NeuronPursuit] iter {record['iteration']:3d} | {layer:>8} | "
        f"NCF {record['ncf_value']:.3e} | loss {record['loss']:.4e} | "
        f"train error {record['train_error']:.3e} | widths {record['hidden_layer_sizes']} | "
        f"{record['seconds']:.2f}s",
        flush=True,
    )
    if verbose < 2:
        return
    parts = []
    if record["solver"] != "lm":
        parts.append(
            f"{record['gd_steps']} GD steps | step {record['gd_step_size']:.3e} "
            f"({record['gd_halvings']} halvings)"
        )
    if record["solver"] != "gd":
        parts.append(f"{record['lm_steps']} LM steps ({record['lm_rejected']} rejected)")
    descent = " + ".join(parts)
    print(
        f"[NeuronPursuit]          delta {record['delta']:.3e} "
        f"({record['delta_halvings']} halvings) | loss {record['loss_before']:.4e} -> "
        f"{record['loss_after_add']:.4e} on adding -> {record['loss']:.4e} after {descent}",
        flush=True,
    )
