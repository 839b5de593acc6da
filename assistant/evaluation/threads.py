"""Query loops run one search at a time; torch's intra-op thread pool only slows a single short encode.

On a busy 2-core machine an encode of one query took 26 ms with one torch thread and 540 ms with two
(OpenMP threads spin while descheduled). The service sets one thread per request for the same reason;
the eval runs do the same so that their latency numbers match what the service sees.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Limit torch to one intra-op thread inside the block, restoring the previous count after."""
    torch = sys.modules.get("torch")  # loaded by a sentence-transformers encoder, not by `fake`
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
