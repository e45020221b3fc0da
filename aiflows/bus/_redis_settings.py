"""The knobs of the Redis transport: one flat, typed record with a default and a reason per field."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RedisBusSettings"]


class RedisBusSettings(BaseModel):
    """How a `RedisBus` behaves. Every process of one deployment should use the same values."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    namespace: str = "aiflows"  # prefix of every key: two deployments on one Redis use two namespaces
    visibility_timeout: float = Field(default=30.0, gt=0)  # a request held this long by a silent worker is taken over
    max_deliveries: int = Field(default=3, ge=1)  # deliveries (worker deaths) before a request is dead-lettered
    # Runs of a handler that raises (a bug below the flow: a flow's own error is an answer) before its
    # request is dead-lettered with the last error.
    attempts: int = Field(default=3, ge=1)
    # Requests one worker handles at once. Its inboxes are read 32 to a read, and every read takes at
    # least one, so a worker serving more than 32 addresses may take one more per further read.
    concurrency: int = Field(default=256, ge=1)
    processed_ttl: float = Field(
        default=600.0, gt=0
    )  # answers are kept this long: for callers that missed them, for duplicates
    reply_maxlen: int = Field(
        default=10_000, ge=100
    )  # the event streams of callers are trimmed to about this many entries
    reply_ttl: float = Field(default=3600.0, gt=0)  # the event stream of a client that went away expires
    dead_maxlen: int = Field(default=10_000, ge=10)  # dead-letter streams are trimmed to about this many entries
    heartbeat: float = Field(default=1.0, gt=0)  # how often a worker says it is alive and keeps its requests
    # How long a worker's liveness key outlives its last heartbeat (None: 3 heartbeats). Once it is gone,
    # the others take over that worker's requests at once, without waiting for the visibility timeout.
    liveness: float | None = Field(default=None, gt=0)
    wait_for_worker: float | None = Field(default=10.0, gt=0)  # fail a request nobody live serves after this long
    # The time budget of a request whose caller gave none (seconds): past it the caller gets a typed
    # Timeout, the handler is stopped and the request is dead-lettered. None: a call may wait forever.
    deadline: float | None = Field(default=3600.0, gt=0)
    backoff_max: float = Field(default=2.0, gt=0)  # longest pause between reconnection attempts
    block_ms: int = Field(default=2000, ge=10)  # how long one blocking read waits before it looks around

    @property
    def liveness_s(self) -> float:
        """Seconds a worker counts as alive after its last heartbeat."""
        return self.liveness if self.liveness is not None else 3 * self.heartbeat
