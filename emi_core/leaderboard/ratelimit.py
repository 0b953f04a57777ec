"""A per-client rate limit (token bucket) for the anonymous work the app offers, such as validation."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from emi_core.leaderboard.errors import LeaderboardError


class RateLimited(LeaderboardError):
    """A client asked for more than its share; ``retry_after_s`` says when it may ask again."""

    def __init__(self, message: str, retry_after_s: float):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RateLimiter:
    """At most ``per_minute`` requests per client per minute, in bursts of up to ``burst``.

    Clients are keyed by any string (the app uses the client's address). At most ``max_clients`` are
    remembered (the least recently seen are forgotten), so memory stays bounded. Thread-safe.
    """

    def __init__(
        self,
        per_minute: float,
        burst: int | None = None,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not per_minute > 0:
            raise ValueError(f"per_minute must be positive, got {per_minute}")
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, math.ceil(per_minute)))
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str, what: str = "requests") -> None:
        """Spend one request of ``client``'s allowance; raise :class:`RateLimited` when none is left."""
        now = self._clock()
        with self._lock:
            tokens, seen = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - seen) * self.rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
                raise RateLimited(f"too many {what} from your address; try again in {math.ceil(wait)} s", wait)
            self._buckets[client] = (tokens - 1.0, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
