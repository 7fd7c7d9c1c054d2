"""How many threads torch may use while our estimators train and predict.

torch's intra-op pool has one thread per core, and every operation waits for
all of them. A small network (a judge: a few thousand weights) gains nothing
from a second thread (8,000 rows: 0.81 s with one, 0.77 s with two), but
when another process keeps a core busy each operation waits for the thread
that shares it, and a fit takes 3.5 to 5.6 times longer. So networks whose
batches are small work run on one thread; larger ones keep torch's setting,
and an ensemble that fits members in parallel leaves each ``cores / n_jobs``.
The caller's setting is restored when the outermost block ends, whatever
threads run such blocks at once.
"""

import os
import threading
from contextlib import contextmanager

from joblib import effective_n_jobs

# Multiply-adds per batch under which one thread does the work: a batch of 1,024
# rows through a network of 131,072 weights (a KAN or an MLP does one per
# weight and row). Measured here: MNIST's KAN [784, 64, 10] gains 9% from two
# threads at batch 128 (58 M) and 1.6x at batch 1,024 (462 M).
MIN_THREADED_WORK = 2**27

_lock = threading.Lock()
_depth = 0
_callers = None


def available_cores():
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def threads_per_job(n_jobs):
    """Torch threads for each of ``n_jobs`` parallel jobs (joblib's meaning of
    ``n_jobs``): ``cores // jobs``, or None (unchanged) for one job."""
    jobs = effective_n_jobs(n_jobs)
    return None if jobs <= 1 else max(1, available_cores() // jobs)


def threads_for_work(work):
    """Threads worth using for ``work`` multiply-adds per operation: 1 below
    :data:`MIN_THREADED_WORK`, else None (torch's setting)."""
    return 1 if work < MIN_THREADED_WORK else None


@contextmanager
def torch_threads(n_threads):
    """Run the block with at most ``n_threads`` torch threads (None: unchanged).

    Blocks may nest, and run in several threads at once: each gives back the
    setting it found, and the last to end the caller's, so that whatever
    threads interleave, the caller finds its own setting afterwards. None
    leaves torch alone, and does not import it.
    """
    global _depth, _callers
    if n_threads is None:
        yield
        return
    import torch  # only where a block has threads to set: torch takes seconds to import

    with _lock:
        found = torch.get_num_threads()
        if _depth == 0:
            _callers = found
        _depth += 1
        if n_threads < found:
            torch.set_num_threads(max(1, int(n_threads)))
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            torch.set_num_threads(found if _depth else _callers)
