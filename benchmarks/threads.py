"""The ``--threads`` option that every benchmark command line shares."""

import torch


def add_threads_option(parser, default=0):
    """``--threads N``: torch's CPU threads; 0 keeps torch's default (one per core)."""
    parser.add_argument(
        "--threads", type=int, default=default, help="torch CPU threads (0: torch's default)"
    )


def apply_threads(args):
    """Set the threads that ``args.threads`` asks for; returns the number torch uses."""
    if args.threads:
        torch.set_num_threads(args.threads)
    return torch.get_num_threads()
