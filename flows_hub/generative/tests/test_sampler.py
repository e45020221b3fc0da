"""SamplerFlow in process: artifacts another reader can open, NFE per solver, typed errors, still serving."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiflows import FlowError, SchemaError
from aiflows.hub import load_folder

torch = pytest.importorskip("torch")

from aiflows.generative.artifacts import load_npz, read_artifact  # noqa: E402
from aiflows.generative.nets import NetConfig, build_net, save_checkpoint  # noqa: E402

FOLDER = Path(__file__).resolve().parents[1]


@pytest.fixture
def models(tmp_path):
    torch.manual_seed(0)
    made = {}
    for name, config in {
        "digits": NetConfig(kind="velocity", shape=[1, 8, 8], hidden=16, depth=1, num_classes=10),
        "toy": NetConfig(kind="average", shape=[2], hidden=16, depth=1),
    }.items():
        made[name] = str(save_checkpoint(tmp_path / f"{name}.pt", build_net(config), config))
    return made


@pytest.fixture
def sampler(models, tmp_path):
    config = {"models": models, "model_root": str(tmp_path), "artifacts": str(tmp_path / "store"), "device": "cpu"}
    return load_folder(FOLDER, config=config)


def test_samples_come_back_as_artifacts(sampler, tmp_path):
    out = sampler.run_sync({"model": "digits", "num_samples": 12, "solver": "heun", "steps": 3, "label": 7})
    assert out["nfe"] == 6 and out["shape"] == [12, 1, 8, 8] and out["wall_s"] > 0
    arrays = load_npz(read_artifact(out["samples"]))
    assert arrays["x"].shape == (12, 1, 8, 8) and arrays["labels"].tolist() == [7] * 12
    png = read_artifact(out["picture"])
    assert png.startswith(b"\x89PNG") and out["picture"]["uri"].startswith(f"file://{tmp_path / 'store'}")
    again = sampler.run_sync({"model": "digits", "num_samples": 12, "solver": "heun", "steps": 3, "label": 7})
    assert again["samples"]["sha256"] == out["samples"]["sha256"]  # same seed, same samples
    assert len(sampler._cache._models) == 1  # loaded once, kept warm for the next calls
    guided = sampler.run_sync({"model": "digits", "steps": 4, "guidance": "cfg", "guidance_scale": 3.0, "label": 1})
    assert guided["nfe"] == 8  # two evaluations per Euler step


def test_average_models_jump_and_also_run_under_ode_solvers(sampler, models):
    one = sampler.run_sync({"model": "toy", "num_samples": 500, "steps": 1})
    assert one["nfe"] == 1 and one["shape"] == [500, 2]
    assert sampler.run_sync({"model": "toy.pt", "solver": "rk4", "steps": 2})["nfe"] == 8  # a file under the root


def test_requests_cannot_reach_outside_the_model_root(models: dict[str, str], tmp_path: Path) -> None:
    """Whoever reaches the worker names models: not files elsewhere on its disk, not Hub downloads."""
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "ok.pt").write_bytes(Path(models["toy"]).read_bytes())
    (root / "escape.pt").symlink_to(models["digits"])  # a link out of the root
    config = {"models": {"digits": models["digits"]}, "model_root": str(root), "artifacts": str(tmp_path / "s")}
    sampler = load_folder(FOLDER, config={**config, "device": "cpu"})
    assert sampler.run_sync({"model": "sub/ok.pt", "steps": 1})["nfe"] == 1
    assert sampler.run_sync({"model": "digits", "steps": 1})["nfe"] == 1  # an alias may point anywhere
    for reference in (models["toy"], "../toy.pt", "sub/../../toy.pt", "escape.pt", "~/x.pt", "diffusers:/tmp",
                      "diffusers:some-user/some-pipeline", "diffusers:../root"):  # fmt: skip
        with pytest.raises(FlowError) as info:
            sampler.run_sync({"model": reference, "steps": 1})
        assert info.value.type == "UnknownModel", reference
    trusting = load_folder(FOLDER, config={**config, "device": "cpu", "any_path": True})
    assert trusting.run_sync({"model": models["toy"], "steps": 1})["nfe"] == 1


def test_bad_requests_get_typed_errors_and_the_flow_keeps_serving(sampler):
    cases = [
        ({"model": "nope"}, "UnknownModel", "no checkpoint at"),
        ({"model": "digits", "solver": "rk45"}, "UnknownSolver", "unknown solver 'rk45'"),
        ({"model": "digits", "solver": "average"}, "UnknownSolver", "unknown solver 'average'"),
        ({"model": "toy", "label": 3}, "GenerativeError", "unconditional"),
        ({"model": "digits", "label": 10}, "GenerativeError", "outside this model's classes 0..9"),
    ]
    for request, kind, text in cases:
        with pytest.raises(FlowError) as info:
            sampler.run_sync(request)
        assert info.value.type == kind and text in info.value.message
    for bad in ({"model": "digits", "steps": 0}, {"model": "digits", "num_samples": -1}, {"model": "x", "extra": 1}):
        with pytest.raises((SchemaError, FlowError), match="input does not fit"):
            sampler.run_sync(bad)
    assert sampler.run_sync({"model": "digits", "steps": 1})["nfe"] == 1


def test_the_shipped_serve_file_builds_the_sampler():
    from aiflows import load_flow

    flow = load_flow(FOLDER / "serve.yaml")
    assert type(flow).__name__ == "SamplerFlow" and set(flow.config.models) == {"digits", "moons"}
