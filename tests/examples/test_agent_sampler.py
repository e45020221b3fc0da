"""examples/agent_sampler.py run as a user would: the agent's modules answer from a loopback
OpenAI-protocol server that plays a careful model, the sampler tool draws from a real checkpoint."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aiflows.llm.testing import LoopbackLLMServer, SeenRequest

pytestmark = pytest.mark.slow
torch = pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[2]


def draw_responder(seen: SeenRequest) -> str:
    """Plays every module: the executor reads the class and "sharp" from the query itself."""
    prompt = str(seen.messages[-1]["content"])
    if "Analyse the query" in prompt:
        return "The user wants pictures of one digit class, sharp: the sampler tool with guidance."
    if "Choose the single next step" in prompt:
        return "Justification: only the sampler draws.\nContext: none\nSub-Goal: draw the digits\nTool Name: sampler"
    if "Write the tool call" in prompt:
        digit = re.search(r"look like an? (\d)", prompt)
        sharp = "sharp" in prompt.lower()
        command = {"model": "digits", "label": int(digit.group(1)) if digit else None, "num_samples": 16, "steps": 8}
        if sharp:
            command |= {"guidance": "cfg", "guidance_scale": 3.0}
        return json.dumps({"analysis": "class from the query, guidance for sharpness", "command": command})
    if "Does the memory hold" in prompt:
        return "The picture was written.\nConclusion: STOP" if "picture: file://" in prompt else "Conclusion: CONTINUE"
    if "answer the query" in prompt:
        found = re.search(r"picture: (file://\S+\.png)", prompt)
        return f"<answer>{found.group(1) if found else 'unknown'}</answer>"
    return "I do not know this prompt."


def test_the_agent_picks_class_guidance_and_steps_and_the_picture_exists(tmp_path: Path) -> None:
    from aiflows.generative.nets import NetConfig, build_net, save_checkpoint

    config = NetConfig(kind="velocity", shape=[1, 8, 8], hidden=32, depth=2, num_classes=10)
    checkpoint = save_checkpoint(tmp_path / "digits.pt", build_net(config), config)
    with LoopbackLLMServer() as server:
        server.responder = draw_responder
        done = subprocess.run(
            [sys.executable, str(REPO / "examples" / "agent_sampler.py"), "--model", "openai/scripted"]
            + ["--api-base", server.url, "--checkpoint", str(checkpoint), "--artifacts", str(tmp_path / "art")],
            capture_output=True,
            text=True,
            timeout=180,
            cwd=REPO,
            env={**os.environ, "OPENAI_API_KEY": "sk-test", "AIFLOWS_HOME": str(tmp_path / "home")},
        )
    assert done.returncode == 0, done.stderr
    assert '"label": 7' in done.stdout and '"guidance_scale": 3.0' in done.stdout and '"steps": 8' in done.stdout
    assert "16 samples of class 7 from digits (16 NFE, cfg scale 3)" in done.stdout
    answer = done.stdout.strip().splitlines()[-1].removeprefix("answer: ")
    assert answer.startswith("file://") and Path(answer[len("file://") :]).read_bytes().startswith(b"\x89PNG")
