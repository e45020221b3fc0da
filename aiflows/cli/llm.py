"""`aiflows llm`: talk to a model from the shell, and serve a loopback model for trying things.

    aiflows llm ask "Write a haiku about flows" --model openai/gpt-4o-mini
    aiflows llm ask "def fib(n):" --model hf: --max-tokens 64          # local Qwen2.5-Coder-0.5B
    aiflows llm ask "hi" --model openai/qwen --api-base http://127.0.0.1:8000/v1 --cache on
    aiflows llm loopback --port 8000     # an OpenAI-protocol echo model on 127.0.0.1

`ask` streams the answer to stdout and prints usage to stderr. The model comes from --model,
else AIFLOWS_MODEL, else the default local model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ._aio import run_async

__all__ = ["register"]


def register(sub: Any) -> None:
    llm = sub.add_parser("llm", help="ask a model, or serve a loopback model")
    cmds = llm.add_subparsers(dest="llm_command", metavar="SUBCOMMAND")

    ask = cmds.add_parser("ask", help="send one prompt to a model and stream the answer")
    ask.add_argument("prompt", help="the user message")
    ask.add_argument("--model", default=None, help="model string: provider/model, hf:<repo>, local:<path>")
    ask.add_argument("--api-base", default=None, help="OpenAI-compatible endpoint (vLLM, llama.cpp, a proxy)")
    ask.add_argument("--system", default=None, help="system prompt")
    ask.add_argument("--temperature", type=float, default=None, help="sampling temperature")
    ask.add_argument("--max-tokens", type=int, default=None, help="most tokens to generate")
    ask.add_argument(
        "--cache", default=None, help="response cache: on (SQLite under $AIFLOWS_HOME), a path, redis://..."
    )
    ask.add_argument("--no-stream", action="store_true", help="print the answer at the end instead of streaming it")
    ask.add_argument("--json", action="store_true", help="print the flow's whole output as JSON")
    ask.set_defaults(func=_ask)

    loop = cmds.add_parser("loopback", help="serve an OpenAI-protocol echo model on 127.0.0.1 until interrupted")
    loop.add_argument("--port", type=int, default=0, help="port to listen on (0 picks a free one)")
    loop.set_defaults(func=_loopback)

    llm.set_defaults(func=lambda args: (llm.print_help(), 2)[1])


def _ask(args: argparse.Namespace) -> int:
    from aiflows.llm import ChatFlow

    env = dict(os.environ)
    if args.model:
        env["AIFLOWS_MODEL"] = args.model
        if args.api_base:
            env["AIFLOWS_API_BASE"] = args.api_base
    stream = not args.no_stream and not args.json
    chat = ChatFlow(
        name="ask",
        config={
            "api_base": args.api_base,
            "system_prompt": args.system,
            "temperature": args.temperature,
            "max_tokens": args.max_tokens,
            "cache": args.cache,
            "stream": stream,
        },
        env=env,
    )

    def show(event: Any) -> None:
        if event.data.get("type") == "token":
            sys.stdout.write(event.data.get("text", ""))
            sys.stdout.flush()

    out = run_async(chat.run({"query": args.prompt}, session=f"ask-{os.getpid()}", on_event=show))
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print("" if stream else out["content"])
    u = out["usage"]
    cached = " (cached)" if u.get("cached_calls") else ""
    print(
        f"[{chat.model}] {u['prompt_tokens']} prompt + {u['completion_tokens']} completion tokens, "
        f"${u['cost_usd']:.6f}{cached}",
        file=sys.stderr,
    )
    return 0


def _loopback(args: argparse.Namespace) -> int:
    from aiflows.llm.testing import main

    return main(["--port", str(args.port)])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="aiflows")
    register(parser.add_subparsers(dest="command"))
    ns = parser.parse_args()
    raise SystemExit(ns.func(ns) if getattr(ns, "func", None) else 2)
