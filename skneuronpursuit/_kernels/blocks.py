"""Rows in blocks: what a fit on many rows computes over all of them, block by block.

A pass of the network over every row holds a few numbers per row and hidden unit at
once; on millions of rows that is most of a fit's memory. Where a fit has more than
``BLOCK_ROWS`` rows, the passes over all rows (the loss, Levenberg-Marquardt's
gradient, the candidate search's values and signals) run block by block and add up
their sums (docs/big-data.md, "Memory"). With fewer rows there is one block, and every
number is the one of a single pass.
"""

import functools
import operator

# (choice) Rows per block: 32,768 rows of a 16-wide layer are 2 MiB in float32. Larger
# blocks leave more memory to the allocator: at 10^6 rows a fit grew its peak by 50, 110
# and 167 MiB with blocks of 2^15, 2^16 and 2^17 rows (docs/big-data.md, "Memory").
BLOCK_ROWS = 1 << 15


def row_blocks(n_rows, sparse=False):
    """Slices of at most ``BLOCK_ROWS`` rows covering ``n_rows`` rows; all of them in one
    for fewer rows or sparse inputs (which are not split)."""
    if sparse or n_rows <= BLOCK_ROWS:
        return [slice(None)]
    return [slice(start, start + BLOCK_ROWS) for start in range(0, n_rows, BLOCK_ROWS)]


def sum_of(parts):
    """The sum of ``parts`` in their order; the first part itself when it is the only one."""
    return functools.reduce(operator.add, parts)


def sum_lists(lists):
    """Element-wise :func:`sum_of` of lists of tensors (one list per block)."""
    return [sum_of(column) for column in zip(*lists)]
