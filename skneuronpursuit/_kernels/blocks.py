"""Rows in blocks: what a fit on many rows computes over all of them, block by block.

A pass of the network over every row holds a few numbers per row and hidden unit at
once; on millions of rows that is most of a fit's memory. Where a fit has more than
``BLOCK_ROWS`` rows, the passes over all rows (the loss, Levenberg-Marquardt's
gradient, the candidate search's values and signals) run block by block and add up
their sums (docs/big-data.md, "Memory"). With fewer rows there is one block, and every
number is the one of a single pass.
"""

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
    """The sum of ``parts``, an iterable of tensors, in their order (``((p1 + p2) + p3)...``);
    the first part itself when it is the only one.

    Each part is added as it comes into one running sum, so that a caller passing a
    generator holds one block's part at a time. A list of small per-block sums kept
    between the blocks' large temporaries fragments the heap: at 10^6 rows the search's
    value passes left ~100 MiB free but unreturned (docs/big-data.md, "Memory").
    """
    total = None
    for index, part in enumerate(parts):
        if index == 0:
            total = part
        elif index == 1:
            total = total + part  # a tensor of its own: the first part may be the caller's
        else:
            total.add_(part)
    return total


def sum_lists(lists):
    """Element-wise :func:`sum_of` of an iterable of lists of tensors (one list per block)."""
    totals = None
    for index, parts in enumerate(lists):
        if index == 0:
            totals = list(parts)
        elif index == 1:
            totals = [total + part for total, part in zip(totals, parts)]
        else:
            for total, part in zip(totals, parts):
                total.add_(part)
    return totals


def rows_by_blocks(blocks, n_rows, compute):
    """``torch.cat([compute(rows) for rows in blocks], dim=-2)``, each block's rows written
    into one tensor as they come, without a list of the blocks' results between their
    temporaries (see :func:`sum_of`)."""
    result = None
    for rows in blocks:
        part = compute(rows)
        if result is None:
            result = part.new_empty((*part.shape[:-2], n_rows, part.shape[-1]))
        result[..., rows, :] = part
    return result
