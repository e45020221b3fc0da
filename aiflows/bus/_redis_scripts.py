"""Server-side scripts: each is one atomic step of the protocol, sent as a single command.

A Lua script runs as one transaction, like MULTI/EXEC, and costs redis-py a single command
instead of a five-command pipeline: this is where most of the worker's time per request goes.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["ACK", "DEAD", "EMIT", "Scripts"]

# Answer a request: write the reply (unless fire-and-forget), remember it for redeliveries, ack and
# delete the inbox entry. The reply is also published on the caller's channel with its stream id
# ("id json"), so that a caller hears it without asking; the stream keeps it for a caller that
# was away. KEYS: reply stream, inbox, processed key, reply channel.
# ARGV: reply json ('' = none), reply maxlen, reply ttl, entry id, processed ttl (ms), group.
ACK = """
if ARGV[1] ~= '' then
  local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'm', ARGV[1])
  redis.call('PUBLISH', KEYS[4], id .. ' ' .. ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[5])
end
redis.call('XACK', KEYS[2], ARGV[6], ARGV[4])
redis.call('XDEL', KEYS[2], ARGV[4])
return 1
"""

# Dead-letter an entry: copy it with the reason to the dead stream, answer the caller with an error,
# ack and delete it. KEYS: dead stream, inbox, reply stream ('' when unknown), processed key, reply channel.
# ARGV: raw message, error json, entry id, group, dead maxlen, reply json ('' = none), reply maxlen,
# reply ttl, deliveries, processed ttl (ms).
DEAD = """
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], '*', 'm', ARGV[1], 'error', ARGV[2], 'entry', ARGV[3],
           'deliveries', ARGV[9])
if ARGV[6] ~= '' then
  local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', 'm', ARGV[6])
  redis.call('PUBLISH', KEYS[5], id .. ' ' .. ARGV[6])
  redis.call('EXPIRE', KEYS[3], ARGV[8])
  redis.call('SET', KEYS[4], ARGV[6], 'PX', ARGV[10])
end
redis.call('XACK', KEYS[2], ARGV[4], ARGV[3])
redis.call('XDEL', KEYS[2], ARGV[3])
return 1
"""


# Send events to callers the way answers go: stream entry, then the same on the channel.
# KEYS: reply stream and reply channel of each event, in pairs. ARGV: reply maxlen, reply ttl, the events.
EMIT = """
for i = 1, #KEYS / 2 do
  local id = redis.call('XADD', KEYS[2 * i - 1], 'MAXLEN', '~', ARGV[1], '*', 'm', ARGV[i + 2])
  redis.call('PUBLISH', KEYS[2 * i], id .. ' ' .. ARGV[i + 2])
  redis.call('EXPIRE', KEYS[2 * i - 1], ARGV[2])
end
return #KEYS / 2
"""


class Scripts:
    """Runs scripts by hash, loading them again when the server forgot them (after a restart)."""

    def __init__(self) -> None:
        self._sha = {source: hashlib.sha1(source.encode()).hexdigest() for source in (ACK, DEAD, EMIT)}

    def call(self, source: str, keys: list[str], args: list[Any]) -> tuple[Any, ...]:
        """The EVALSHA command, to send in a pipeline (then `run` it again if the server forgot it)."""
        return ("EVALSHA", self._sha[source], len(keys), *keys, *args)

    async def run(self, client: Any, source: str, keys: list[str], args: list[Any]) -> Any:
        import redis.exceptions as rex

        try:
            return await client.execute_command("EVALSHA", self._sha[source], len(keys), *keys, *args)
        except rex.NoScriptError:
            return await client.execute_command("EVAL", source, len(keys), *keys, *args)
