"""A sampler worker served with `aiflows serve` over a real Redis: callers get artifact references that
another process reads, bad requests get typed errors, and the worker keeps serving."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bus" / "support"))

from redis_support import REPO, WorkerProcess, worker_env  # noqa: E402

from aiflows import FlowError, Runtime  # noqa: E402
from aiflows.bus.redis import RedisBus  # noqa: E402
from aiflows.generative.nets import NetConfig, build_net, save_checkpoint  # noqa: E402
from aiflows.runtime.store.redis import RedisStore  # noqa: E402

READER = """
import json, sys
from aiflows.generative.artifacts import load_npz, read_artifact
ref = json.loads(sys.argv[1])
arrays = load_npz(read_artifact(ref["samples"]))
print(json.dumps({"shape": list(arrays["x"].shape), "labels": arrays["labels"].tolist()[:3],
                  "png": read_artifact(ref["picture"])[:4].hex()}))
"""


async def test_sampler_served_over_redis_returns_artifacts_another_process_reads(redis_url, tmp_path):
    ns = f"g{uuid.uuid4().hex[:10]}"
    config = NetConfig(kind="velocity", shape=[1, 8, 8], hidden=16, depth=1, num_classes=10)
    ckpt = save_checkpoint(tmp_path / "digits.pt", build_net(config), config)
    wider = config.model_copy(update={"hidden": 32})  # says hidden 32, holds hidden 16 weights
    other = save_checkpoint(tmp_path / "other.pt", build_net(config), wider)
    (tmp_path / "serve.yaml").write_text(
        json.dumps(
            {
                "name": "sampler",
                "class": "flows_hub.generative.flow:SamplerFlow",
                "config": {
                    "models": {"digits": str(ckpt), "other": str(other)},
                    "artifacts": redis_url,
                    "device": "cpu",
                },
            }
        )
    )
    with WorkerProcess(str(tmp_path / "serve.yaml"), redis_url, ns, "--address", "gen/sampler") as worker:
        assert worker.served == ["gen/sampler"]
        async with Runtime(bus=RedisBus(redis_url, namespace=ns), store=RedisStore(redis_url, namespace=ns)) as rt:
            out = await rt.call("gen/sampler", {"model": "digits", "num_samples": 9, "steps": 4, "label": 3})
            assert out["nfe"] == 4 and out["samples"]["uri"].startswith(f"{redis_url}#aiflows:artifact:")
            with pytest.raises(FlowError) as info:
                await rt.call("gen/sampler", {"model": "missing-model"})
            assert info.value.type == "UnknownModel" and "missing-model" in info.value.message
            with pytest.raises(FlowError) as info:
                await rt.call("gen/sampler", {"model": "digits", "steps": 0})
            assert "steps" in info.value.message
            with pytest.raises(FlowError) as info:
                await rt.call("gen/sampler", {"model": "digits", "solver": "rk45", "steps": 4})
            assert info.value.type == "UnknownSolver" and "rk45" in info.value.message
            with pytest.raises(FlowError) as info:  # a checkpoint from another architecture
                await rt.call("gen/sampler", {"model": "other", "steps": 4})
            assert info.value.type == "CheckpointMismatch" and "other.pt" in info.value.message
            with pytest.raises(FlowError) as info:
                await rt.call("gen/sampler", {"model": "digits", "label": 10, "steps": 4})
            assert "label 10" in info.value.message
            again = await rt.call("gen/sampler", {"model": "digits", "num_samples": 9, "steps": 4, "label": 3})
            assert again["samples"]["sha256"] == out["samples"]["sha256"]
    read = subprocess.run(
        [sys.executable, "-c", READER, json.dumps(out)], capture_output=True, text=True, env=worker_env(), cwd=REPO
    )
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout) == {"shape": [9, 1, 8, 8], "labels": [3, 3, 3], "png": "89504e47"}
