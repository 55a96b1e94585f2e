"""In-process rate-limit storage that sweeps expired counters once a second.

limits' ``MemoryStorage`` starts a new ``threading.Timer(0.01)`` on every hit once the
previous timer has fired, so under steady traffic almost every rate-limited request
(each vote) creates and tears down an OS thread: about 0.3 ms of CPU per request on the
2-core benchmark machine (issue 7, ``bench/web_load.py``). Counters are expired lazily on
read anyway (``MemoryStorage.get``), and moving windows are bounded by their timestamps,
so the sweep only frees memory; once a second is plenty.

Select it with ``RATELIMIT_STORAGE_URI=swept-memory://`` (the default). Like
``memory://`` it counts per process; deployments with several processes point
``RATELIMIT_STORAGE_URI`` at a shared store such as Redis.
"""

from __future__ import annotations

import threading

from limits.storage import MemoryStorage

SWEEP_INTERVAL_SECONDS = 1.0


class SweptMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["swept-memory"]

    # Replaces MemoryStorage.__schedule_expiry (name-mangled; limits is pinned in
    # requirements.txt and tests/test_ratelimit_storage.py fails if this stops applying).
    def _MemoryStorage__schedule_expiry(self) -> None:
        if self.timer.is_alive():
            return
        self.timer = threading.Timer(SWEEP_INTERVAL_SECONDS, self._MemoryStorage__expire_events)
        self.timer.daemon = True  # never delays interpreter exit
        self.timer.start()
