"""Checkpoints of a run: the policy (safetensors, `save_pretrained`), the optimizer and the step log.

`run/checkpoints/step-N/` holds one; `latest` finds the newest complete one (a folder is complete
once its `state.pt` is written, last). Data order and sampling are functions of (seed, step), so the
model, the optimizer and the step are all a resumed run needs to go on exactly as it would have.
The frozen reference (the initial weights) is saved once, in `run/reference/`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["latest", "load_checkpoint", "load_weights", "save_checkpoint", "save_weights"]


def save_weights(model: Any, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)


def load_weights(model: Any, folder: Path) -> None:
    """Weights saved by `save_weights` into `model` (a full model or a peft model's adapters)."""
    from safetensors.torch import load_file

    adapter = folder / "adapter_model.safetensors"
    if adapter.is_file():
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, load_file(str(adapter)))
        return
    state: dict[str, Any] = {}
    for file in sorted(folder.glob("*.safetensors")):
        state.update(load_file(str(file)))
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any("lm_head" not in k for k in missing):  # a tied head is not saved
        raise RuntimeError(f"checkpoint {folder} does not fit the policy: missing {missing}, unexpected {unexpected}")
    if hasattr(model, "tie_weights"):
        model.tie_weights()


def save_checkpoint(folder: Path, model: Any, optimizer: Any, step: int, history: list[dict[str, Any]]) -> Path:
    import torch

    save_weights(model, folder)
    torch.save({"step": step, "optimizer": optimizer.state_dict(), "history": history}, folder / "state.pt")
    return folder


def latest(run: Path) -> Path | None:
    found = [p for p in (run / "checkpoints").glob("step-*") if (p / "state.pt").is_file()]
    return max(found, key=lambda p: int(p.name.split("-")[1])) if found else None


def load_checkpoint(folder: Path, model: Any, optimizer: Any) -> tuple[int, list[dict[str, Any]]]:
    import torch

    load_weights(model, folder)
    state = torch.load(
        folder / "state.pt", weights_only=False, map_location="cpu"
    )  # the optimizer moves it to its params
    optimizer.load_state_dict(state["optimizer"])
    return int(state["step"]), list(state["history"])
