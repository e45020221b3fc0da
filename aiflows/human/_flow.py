"""`HumanFlow`: an atomic flow whose answer comes from a person.

It renders its question, records it in the human store (keyed by run id and call path, so a
replay finds the same request), and then either finds the answer there or suspends the run:
the run's status becomes "suspended" and no thread waits. When the person answers, a resumer
(`HumanDesk`, the terminal, the web page, or a worker) calls `Runtime.resume`; the run replays
from its journal up to this flow, which now finds its answer and returns it.

    ask_plan = HumanFlow(name="planner", config={
        "question": "Write a plan for:\\n{{ problem }}", "kind": "edit", "proposed_key": "draft"})
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aiflows.context import Context
from aiflows.exceptions import ConfigError, SchemaError, Suspended
from aiflows.flow import AtomicFlow, Data

from ._companion import human_store_for
from ._errors import HumanTimeout, InvalidAnswer, Rejected
from ._models import AnswerKind, HumanRequest, normalize_answer, request_id_for
from ._store import HumanStore
from ._template import QuestionTemplate

__all__ = ["SUSPEND_GRACE_S", "HumanConfig", "HumanFlow", "HumanOutput"]

# How long after suspending a request counts as held by its (finishing) run, so that a resumer does
# not resume a run that has not yet been recorded as suspended.
SUSPEND_GRACE_S = 2.0

_RESERVED = ("question", "choices")


class HumanConfig(BaseModel):
    """How a `HumanFlow` asks. Every field has a default but the question usually wants one."""

    model_config = ConfigDict(extra="forbid")

    question: str = "{{ question }}"  # jinja2 template over the input's keys
    kind: AnswerKind = "text"  # text | choice | approve | edit
    choices: list[str] = Field(default_factory=list)  # for 'choice' (else the input key 'choices')
    proposed_key: str = "proposed"  # for 'edit': the input key holding the value to edit
    context_keys: list[str] | None = None  # input keys shown to the person (default: all but the question's)
    syntax: dict[str, str] = Field(default_factory=lambda: {"code": "python"})  # context key -> language
    timeout_s: float | None = Field(default=None, gt=0)  # deadline after the question is first asked
    default: Any = None  # the answer when the deadline passes; None: fail with HumanTimeout
    wait_s: float = Field(default=0.0, ge=0)  # await the answer in-process this long before suspending
    poll_s: float = Field(default=0.1, gt=0)  # how often a short wait looks at the store
    on_reject: Literal["return", "raise"] = "return"  # 'raise': a rejected gate fails with Rejected


class HumanOutput(BaseModel):
    """A person's answer: `answer` is the text, the choice, the edited value, or the approval as a bool."""

    answer: Any = None
    kind: AnswerKind
    approved: bool | None = None
    comment: str = ""
    edited: bool = False
    timed_out: bool = False
    answered_by: str = ""
    request_id: str


def human_store_of(ctx: Context) -> HumanStore:
    """The human store beside the run store of the runtime this handler runs in."""
    return human_store_for(ctx.runtime.store)


class HumanFlow(AtomicFlow):
    """Ask a person; return their answer as a `HumanOutput`.

    Use it wherever a flow needs a person: a plan to follow, a choice, a gate before a risky tool
    call, or an edit of a proposed value (a plan, code) that the run then continues with. Its input
    is free-form: every key is a variable of the question template and, unless `context_keys` says
    otherwise, shown to the person as context. See the module docstring for the life of a question.

        gate = HumanFlow(name="gate", config={"question": "Run `{{ command }}`?", "kind": "approve",
                                              "on_reject": "raise", "timeout_s": 3600, "default": False})

    Args:
        name, config, timeout: as for every flow; `config` is a `HumanConfig` or its dict.

    Raises (to its caller, as `FlowError` of that type):
        Suspended: nobody has answered yet; the run is suspended and resumes when someone does.
        HumanTimeout: the deadline passed and there is no default answer.
        Rejected: the gate was rejected and `on_reject` is "raise".
        SchemaError: the input cannot fill the template, or lacks the proposed value or the choices.
    """

    Input = Data
    Output = HumanOutput
    Config = HumanConfig

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        config: HumanConfig = self.config
        self._template = QuestionTemplate(config.question, flow_name=self.name)
        if (
            config.kind == "choice"
            and config.default is not None
            and config.choices
            and (config.default not in config.choices)
        ):
            raise ConfigError(
                f"flow '{self.name}': the default '{config.default}' is not one of the choices", key="default"
            )
        if config.kind == "approve" and config.default is not None and not isinstance(config.default, bool):
            raise ConfigError(f"flow '{self.name}': an approval's default must be true or false", key="default")

    async def handle(self, ctx: Context, data: Data) -> HumanOutput:
        values = dict(data.model_extra or {})
        store = human_store_of(ctx)
        await store.open()
        request_id = request_id_for(ctx.run_id, ctx.path)
        request = await store.get(request_id)
        if request is None:
            request = await store.create(self._build_request(ctx, request_id, values))
            ctx.emit("human.request", {"request_id": request_id, "kind": request.kind, "question": request.question})
        return await self._settle(ctx, store, request)

    def _build_request(self, ctx: Context, request_id: str, values: dict[str, Any]) -> HumanRequest:
        config: HumanConfig = self.config
        question = self._template.render(values, address=ctx.address)
        proposed = None
        if config.kind == "edit":
            if config.proposed_key not in values:
                given = ", ".join(sorted(values)) or "none"
                raise SchemaError(
                    f"an 'edit' question needs the value to edit in the input key '{config.proposed_key}' "
                    f"(input keys: {given})",
                    address=ctx.address,
                )
            proposed = values[config.proposed_key]
        given_choices = values.get("choices")
        choices = list(config.choices or (given_choices if isinstance(given_choices, list) else []))
        if config.kind == "choice" and (not choices or not all(isinstance(c, str) for c in choices)):
            raise SchemaError(
                "a 'choice' question needs a list of text choices (config 'choices' or input key 'choices')",
                address=ctx.address,
            )
        keys = (
            config.context_keys
            if config.context_keys is not None
            else [k for k in values if k not in _RESERVED and k != config.proposed_key]
        )
        created = time.time()
        return HumanRequest(
            id=request_id,
            run_id=ctx.run_id,
            path=ctx.path,
            address=ctx.address,
            session=ctx.session,
            kind=config.kind,
            question=question,
            choices=choices,
            proposed=proposed,
            context={k: values[k] for k in keys if k in values},
            syntax=self._syntax(keys),
            created_at=created,
            deadline=created + config.timeout_s if config.timeout_s is not None else None,
        )

    def _syntax(self, keys: list[str]) -> dict[str, str]:
        """Languages of the context keys shown, and of the proposed value under the key 'proposed'."""
        config: HumanConfig = self.config
        languages = {k: v for k, v in config.syntax.items() if k in keys}
        if config.kind == "edit" and config.proposed_key in config.syntax:
            languages["proposed"] = config.syntax[config.proposed_key]
        return languages

    async def _settle(self, ctx: Context, store: HumanStore, request: HumanRequest) -> HumanOutput:
        if request.status == "pending" and self.config.wait_s > 0:
            request = await self._wait(store, request)
        if request.status == "pending" and request.deadline is not None and time.time() >= request.deadline:
            _, closed = await store.close_request(request.id, "expired", None, None, time.time())
            request = closed or request
        if request.status == "answered":
            await store.consume(request.id)
            return self._output(request)
        if request.status == "expired":
            await store.consume(request.id)
            return self._timed_out(request)
        await store.hold(request.id, time.time() + SUSPEND_GRACE_S)
        raise Suspended(
            f"waiting for a person to answer request {request.id}",
            details={"request_id": request.id, "session": request.session, "kind": request.kind},
        )

    async def _wait(self, store: HumanStore, request: HumanRequest) -> HumanRequest:
        """Short-wait mode: poll the store while holding the request, for at most `wait_s`."""
        config: HumanConfig = self.config
        until = time.time() + config.wait_s
        if request.deadline is not None:
            until = min(until, request.deadline)
        held = 0.0
        try:
            while True:
                now = time.time()
                if now + SUSPEND_GRACE_S / 2 >= held:  # heartbeat: a dead process's hold runs out soon
                    held = now + SUSPEND_GRACE_S
                    await store.hold(request.id, held)
                current = await store.get(request.id)
                if current is not None and current.status != "pending":
                    return current
                if now >= until:
                    return current or request
                await asyncio.sleep(min(config.poll_s, max(until - now, 0.0)))
        finally:
            await store.hold(request.id, 0.0)

    def _output(self, request: HumanRequest) -> HumanOutput:
        payload = request.answer or {}
        base: dict[str, Any] = {
            "kind": request.kind,
            "request_id": request.id,
            "answered_by": request.answered_by or "",
        }
        if request.kind == "text":
            return HumanOutput(answer=payload["text"], **base)
        if request.kind == "choice":
            return HumanOutput(answer=payload["choice"], **base)
        if request.kind == "edit":
            return HumanOutput(answer=payload["value"], edited=payload["value"] != request.proposed, **base)
        approved, comment = bool(payload["approved"]), str(payload.get("comment", ""))
        if not approved and self.config.on_reject == "raise":
            why = f": {comment}" if comment else ""
            raise Rejected(f"{request.answered_by or 'the person'} rejected request {request.id}{why}")
        return HumanOutput(answer=approved, approved=approved, comment=comment, **base)

    def _timed_out(self, request: HumanRequest) -> HumanOutput:
        config: HumanConfig = self.config
        if config.default is None:
            raise HumanTimeout(f"nobody answered request {request.id} within {config.timeout_s:g} s")
        try:
            payload = normalize_answer(request, config.default)
        except InvalidAnswer as exc:
            raise ConfigError(
                f"flow '{self.name}': the default answer does not fit: {exc.problem}", key="default"
            ) from None
        output = self._output(request.model_copy(update={"answer": payload, "answered_by": "timeout"}))
        return output.model_copy(update={"timed_out": True})
