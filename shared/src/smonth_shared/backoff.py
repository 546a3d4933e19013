"""Exponential back-off with jitter, for every retry loop in the project."""

import random


class Backoff:
    def __init__(self, initial: float = 0.2, maximum: float = 10.0, factor: float = 2.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self._attempt = 0

    def next(self) -> float:
        """The delay before the next attempt; jitter keeps replicas from retrying in step."""
        ceiling = min(self.maximum, self.initial * self.factor**self._attempt)
        self._attempt += 1
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret

    def reset(self) -> None:
        self._attempt = 0
