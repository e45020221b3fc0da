"""The loop end to end on kbqa through the real agent flow, with a tiny random planner on the CPU."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from aiflows.exceptions import ConfigError
from training.flow_grpo import FlowGRPOConfig, TrainError, load_config, train

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "flow_grpo_kbqa.yaml"

pytestmark = pytest.mark.slow


def _config(tmp: Path, **changes: Any) -> FlowGRPOConfig:
    data = yaml.safe_load(EXAMPLE.read_text())
    data.update({"out": str(tmp), "progress": False, "plot": False, **changes})
    return FlowGRPOConfig(**data)


def test_a_few_steps_raise_success(tmp_path: Path) -> None:
    result = train(_config(tmp_path, steps=8, group=8, queries=4))
    success = [h["success"] for h in result.history]
    # the first token decides: a random planner is right about 1 time in 8; eight steps make it the habit
    assert sum(success[:2]) / 2 < 0.3
    assert sum(success[-2:]) / 2 > sum(success[:2]) / 2 + 0.3
    line = result.history[-1]
    for key in ("reward_mean", "zero_variance_fraction", "clip_fraction", "kl", "entropy", "mean_turns"):
        assert key in line
    assert (tmp_path / "log.jsonl").read_text().count("\n") == 8
    assert (tmp_path / "checkpoints" / "step-8" / "model.safetensors").is_file()


def _answered(answer: str, example: Any) -> float:
    """A reward that varies within groups of a random planner: did the agent give any value at all."""
    return float(answer.strip() != "")


@pytest.fixture
def one_thread() -> Any:
    """Float sums in one fixed order: Adam's first steps magnify the last bit of a gradient."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_resume_gives_the_same_next_batch_and_loss(tmp_path: Path, one_thread: Any) -> None:
    import torch

    def run(out: str, steps: int) -> Any:
        config = _config(tmp_path / out, steps=steps, checkpoint_every=2, group=4, queries=2, kl_coef=0.1)
        return train(config, reward=_answered)

    whole = run("whole", 4)
    run("cut", 2)  # a run killed after its step-2 checkpoint
    resumed = run("cut", 4)
    assert len(resumed.history) == 4 and any(h["rows"] for h in whole.history)
    for a, b in zip(whole.history[2:], resumed.history[2:], strict=True):
        assert a["queries"] == b["queries"]
        assert a["reward_mean"] == b["reward_mean"] and a["rows"] == b["rows"]
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-6) and a["kl"] == pytest.approx(b["kl"], abs=1e-6)
    for name, value in whole.model.state_dict().items():
        assert torch.allclose(value, resumed.model.state_dict()[name], atol=1e-6), name


def test_reward_that_raises_is_counted_and_all_failing_stops(tmp_path: Path) -> None:
    calls = {"n": 0}

    def flaky(answer: str, example: Any) -> float:
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            raise ValueError("scorer broke")
        return float(answer.strip() == example.answer)

    result = train(_config(tmp_path / "a", steps=1, group=3, queries=2), reward=flaky)
    assert result.history[0]["failed_trajectories"] == 2

    def broken(answer: str, example: Any) -> float:
        raise ValueError("scorer broke")

    with pytest.raises(TrainError, match="every trajectory failed.*scorer broke"):
        train(_config(tmp_path / "b", steps=1, group=2, queries=1), reward=broken)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    calls = {"n": 0}

    def alternating(answer: str, example: Any) -> float:  # every group has reward variance: rows to train on
        calls["n"] += 1
        return float(calls["n"] % 2)

    train(_config(tmp_path, steps=1, checkpoint_every=1, group=4, queries=2), reward=alternating)
    good = (tmp_path / "checkpoints" / "step-1" / "model.safetensors").read_bytes()
    with pytest.raises(TrainError, match="not finite.*step-1"):
        train(_config(tmp_path, steps=3, checkpoint_every=1, group=4, queries=2), reward=lambda a, e: float("nan"))
    assert (tmp_path / "checkpoints" / "step-1" / "model.safetensors").read_bytes() == good
    assert not (tmp_path / "checkpoints" / "step-2").exists()


def test_prompts_that_do_not_fit_are_marked_and_dropped(tmp_path: Path) -> None:
    from training.flow_grpo import build_tiny_policy, load_policy

    folder = build_tiny_policy(tmp_path / "p", ["Tool Name: retrieve\nSub-Goal: entity 1", "x"], max_positions=8)
    result = train(_config(tmp_path / "run", steps=1, group=4, queries=2), policy=load_policy(folder))
    line = result.history[0]
    assert line["rows"] == 0 and (line["truncated_rows"] > 0 or line["zero_variance_fraction"] == 1.0)


def test_bad_configs_name_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("agent: nowhere\n")
    with pytest.raises(ConfigError, match="agent"):
        load_config(bad)
    bad.write_text("task: chess\n")
    with pytest.raises(ConfigError, match="task.*chess"):
        load_config(bad)
    bad.write_text("group: 0\n")
    with pytest.raises(ConfigError, match="group"):
        load_config(bad)
    bad.write_text("gorup: 8\n")
    with pytest.raises(ConfigError, match="gorup"):
        load_config(bad)
    with pytest.raises(ConfigError, match="no such file") as missing:
        load_config(tmp_path / "missing.yaml")
    assert missing.value.file == str(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="agent.*no_such_module"):
        train(_config(tmp_path / "r", agent="no_such_module:make"))
    with pytest.raises(ConfigError, match="policy"):
        train(_config(tmp_path / "r2", policy=str(tmp_path / "nothing")))
    bad.write_text("device: gpu0\n")
    with pytest.raises(ConfigError, match="device.*gpu0"):
        load_config(bad)


def test_device_and_dtype_place_the_policy(tmp_path: Path) -> None:
    import torch

    result = train(_config(tmp_path / "bf16", steps=1, device="cpu", dtype="bfloat16"))
    weights = list(result.model.parameters())
    assert {p.dtype for p in weights} == {torch.bfloat16} and {p.device.type for p in weights} == {"cpu"}
    assert result.history[-1]["rows"] > 0
    if not torch.cuda.is_available():
        with pytest.raises(TrainError, match="CUDA is not available"):
            train(_config(tmp_path / "gpu", steps=1, device="cuda"))


def test_the_example_config_through_the_command(tmp_path: Path) -> None:
    out = subprocess.run(
        ["aiflows", "train", "flow-grpo", str(EXAMPLE), f"out={tmp_path}", "steps=2"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    last = json.loads(out.stdout.strip().splitlines()[-1])
    assert last["step"] == 2 and 0.0 <= last["reward_mean"] <= 1.0
    assert (tmp_path / "curve.png").is_file() and (tmp_path / "log.jsonl").is_file()


def test_lora_adapters_train_against_the_disabled_adapters(tmp_path: Path) -> None:
    def run(steps: int) -> Any:
        config = _config(tmp_path, steps=steps, group=4, queries=2, lora_r=4, checkpoint_every=1)
        return train(config, reward=_answered)

    first = run(2)
    assert (tmp_path / "checkpoints" / "step-2" / "adapter_model.safetensors").is_file()
    assert first.history[0]["kl"] == 0.0 and first.history[1]["kl"] > 0  # the reference: adapters off
    assert len(run(3).history) == 3  # a LoRA run resumes from its adapters too
