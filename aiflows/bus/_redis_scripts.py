"""Server-side scripts, for the protocol steps that decide something in the middle of them.

Answering a request (or dead-lettering it) is one: the first answer wins, so the answer, the
records that go with it (journal entry, span, run end, dead letter) and its publication are
written only if the request's `done` key was empty, and the entry is acked either way (see
`_redis_answer`). Sending an event is another: its stream id goes out with it on the channel.

Answers are published as their JSON alone and kept under `{ns}:done:{request}`; events go to the
caller's stream `{ns}:reply:{client}` and are published as "stream-id json", so that a caller
that was away reads the events it missed from the stream, once.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["ANSWER", "EMIT", "Scripts"]

# Answer a request, first answer wins: keep the answer under its `done` key only if none is there; then
# (only then) run the records that go with it and publish it; ack and delete the inbox entry either way.
# KEYS: done key, inbox. ARGV: answer, ttl ms, channel ('' for none), entry id, record count, then each
# record as its word count followed by its words. Returns {1 written | 2 written before by this same
# answer (a retry) | 0 another answer was first, records that failed, the first failure's text}.
ANSWER = """
local won = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
local failed, first = 0, ''
if won then
  local i = 6
  for _ = 1, tonumber(ARGV[5]) do
    local n = tonumber(ARGV[i])
    local reply = redis.pcall(unpack(ARGV, i + 1, i + n))
    if type(reply) == 'table' and reply.err then
      failed = failed + 1
      if first == '' then first = reply.err end
    end
    i = i + n + 1
  end
  if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], ARGV[1]) end
  won = 1
elseif redis.call('GET', KEYS[1]) == ARGV[1] then
  won = 2
else
  won = 0
end
redis.call('XACK', KEYS[2], 'workers', ARGV[4])
redis.call('XDEL', KEYS[2], ARGV[4])
return {won, failed, first}
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
        self._sha = {source: hashlib.sha1(source.encode()).hexdigest() for source in (ANSWER, EMIT)}

    async def run(self, client: Any, source: str, keys: list[str], args: list[Any]) -> Any:
        import redis.exceptions as rex

        try:
            return await client.execute_command("EVALSHA", self._sha[source], len(keys), *keys, *args)
        except rex.NoScriptError:
            return await client.execute_command("EVAL", source, len(keys), *keys, *args)
