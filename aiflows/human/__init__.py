"""Human-in-the-loop: flows that ask a person, and the channels people answer from.

    HumanFlow        an atomic flow that asks (text, choice, approve, edit) and suspends its run
    HumanDesk        answer questions (first answer wins) and resume the runs that waited
    HumanRequest     a question as stored: kind, text, choices, proposed value, context, answer
    HumanStore       where questions wait: MemoryHumanStore, SqliteHumanStore, RedisHumanStore

Channels: the terminal (`aiflows human`, `aiflows.human.terminal`) and the web page
(`aiflows ui`, `aiflows.human.web`). Modules: `_models` (data and answer rules), `_store`,
`_sqlite`, `_redis` (stores), `_companion` (which store goes with a runtime), `_template`,
`_flow`, `_desk`, `_errors`.

    flow = HumanFlow(name="ask", config={"question": "Plan for {{ problem }}?"})
    async with Runtime() as rt:
        result = await rt.run(flow, {"problem": "two-sum"})        # status "suspended"
        desk = HumanDesk(rt)
        [request] = await desk.pending()
        await desk.answer(request.id, "use a hash map", by="ada")
        [done] = await desk.resume_due()                            # status "done"
"""

from ._companion import attach_human_store, human_store_for
from ._desk import HumanDesk
from ._errors import (
    AlreadyAnswered,
    HumanError,
    HumanTimeout,
    InvalidAnswer,
    Rejected,
    UnknownRequest,
)
from ._flow import HumanConfig, HumanFlow, HumanOutput
from ._models import (
    AnswerKind,
    HumanRequest,
    RequestStatus,
    normalize_answer,
    request_id_for,
)
from ._redis import RedisHumanStore
from ._sqlite import SqliteHumanStore
from ._store import HumanStore, MemoryHumanStore

__all__ = [
    "AlreadyAnswered",
    "AnswerKind",
    "HumanConfig",
    "HumanDesk",
    "HumanError",
    "HumanFlow",
    "HumanOutput",
    "HumanRequest",
    "HumanStore",
    "HumanTimeout",
    "InvalidAnswer",
    "MemoryHumanStore",
    "RedisHumanStore",
    "Rejected",
    "RequestStatus",
    "SqliteHumanStore",
    "UnknownRequest",
    "attach_human_store",
    "human_store_for",
    "normalize_answer",
    "request_id_for",
]
