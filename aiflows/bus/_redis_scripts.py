"""Server-side scripts, for the protocol steps that need a value Redis makes in the middle of them.

Answering a request does not need one: it is a MULTI/EXEC of plain commands (see
`_redis_serve.answer_commands`), which costs Redis less than a script that makes the same calls.

Answers are published as their JSON alone and kept under `{ns}:done:{request}`; events go to the
caller's stream `{ns}:reply:{client}` and are published as "stream-id json", so that a caller
that was away reads the events it missed from the stream, once.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["DEAD", "EMIT", "Scripts"]

# Dead-letter an entry: copy it with the reason to the dead stream, answer the caller with an error
# (kept and published like any answer), ack and delete it. KEYS: dead stream, inbox, processed key,
# reply channel. ARGV: raw message, error json, entry id, group, dead maxlen, reply json ('' = none),
# deliveries, processed ttl (ms).
DEAD = """
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], '*', 'm', ARGV[1], 'error', ARGV[2], 'entry', ARGV[3],
           'deliveries', ARGV[7])
if ARGV[6] ~= '' then
  redis.call('SET', KEYS[3], ARGV[6], 'PX', ARGV[8])
  redis.call('PUBLISH', KEYS[4], ARGV[6])
end
redis.call('XACK', KEYS[2], ARGV[4], ARGV[3])
redis.call('XDEL', KEYS[2], ARGV[3])
return 1
"""


# Send events to callers: a stream entry (read by a caller that was away), then the same on the channel.
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
        self._sha = {source: hashlib.sha1(source.encode()).hexdigest() for source in (DEAD, EMIT)}

    async def run(self, client: Any, source: str, keys: list[str], args: list[Any]) -> Any:
        import redis.exceptions as rex

        try:
            return await client.execute_command("EVALSHA", self._sha[source], len(keys), *keys, *args)
        except rex.NoScriptError:
            return await client.execute_command("EVAL", source, len(keys), *keys, *args)
