"""Server-side scripts, for the protocol steps that need a value Redis makes in the middle of them.

Answering a request (or dead-lettering it) does not need one: it is a MULTI/EXEC of plain
commands (see `_redis_answer.answer_commands`), which costs Redis less than a script making the
same calls. Sending an event does: its stream id goes out with it on the channel.

Answers are published as their JSON alone and kept under `{ns}:done:{request}`; events go to the
caller's stream `{ns}:reply:{client}` and are published as "stream-id json", so that a caller
that was away reads the events it missed from the stream, once.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["EMIT", "Scripts"]

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
        self._sha = {source: hashlib.sha1(source.encode()).hexdigest() for source in (EMIT,)}

    async def run(self, client: Any, source: str, keys: list[str], args: list[Any]) -> Any:
        import redis.exceptions as rex

        try:
            return await client.execute_command("EVALSHA", self._sha[source], len(keys), *keys, *args)
        except rex.NoScriptError:
            return await client.execute_command("EVAL", source, len(keys), *keys, *args)
