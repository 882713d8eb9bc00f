"""The ``--threads`` option that every benchmark command line shares."""

import torch
from threadpoolctl import threadpool_limits


def add_threads_option(parser, default=0):
    """``--threads N``: the CPU threads of every learner, torch's and those of the BLAS and
    OpenMP pools that scikit-learn's learners use; 0 keeps each library's default (one
    per core)."""
    parser.add_argument(
        "--threads",
        type=int,
        default=default,
        help="CPU threads of every learner, torch's and the BLAS/OpenMP pools' (0: defaults)",
    )


def apply_threads(args):
    """Give every learner the threads that ``args.threads`` asks for: torch's and, through
    threadpoolctl, the BLAS and OpenMP pools of the other learners (the MLP's products,
    gradient boosting's loops), so that time ratios compare the same resources. Returns
    the number torch uses."""
    if args.threads:
        torch.set_num_threads(args.threads)
        # threadpoolctl limits the pools loaded when it is called: load the learners' first.
        import sklearn.ensemble  # noqa: F401
        import sklearn.neural_network  # noqa: F401

        threadpool_limits(args.threads)  # for the rest of the process
    return torch.get_num_threads()
