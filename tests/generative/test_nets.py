"""Networks and checkpoints: a checkpoint rebuilds its network or says why it cannot."""

from __future__ import annotations

import pytest
import torch

from aiflows.generative import CheckpointMismatch, UnknownModel
from aiflows.generative.nets import NetConfig, build_net, load_checkpoint, save_checkpoint


def test_round_trip_prefers_ema_weights(tmp_path):
    torch.manual_seed(0)
    config = NetConfig(kind="average", shape=[1, 8, 8], hidden=16, depth=2, num_classes=10)
    net = build_net(config)
    ema = {k: v + 1 for k, v in net.state_dict().items()}
    path = save_checkpoint(tmp_path / "c.pt", net, config, ema=ema, step=7)
    loaded = load_checkpoint(path)
    assert loaded.config == config and loaded.payload["step"] == 7
    assert torch.equal(loaded.net.state_dict()["out.bias"], ema["out.bias"])
    raw = load_checkpoint(path, use_ema=False)
    x, s, t, y = torch.randn(3, 1, 8, 8), torch.zeros(3), torch.ones(3), torch.tensor([0, 1, 10])
    assert torch.equal(raw.net(x, s, t, y=y), net(x, s, t, y=y))


def test_wrong_checkpoints_get_typed_errors(tmp_path):
    config = NetConfig(shape=[2], hidden=16, depth=2)
    path = save_checkpoint(tmp_path / "a.pt", build_net(config), config)
    with pytest.raises(CheckpointMismatch, match=r"another network; differs in \{'hidden': \(32, 16\)\}"):
        load_checkpoint(path, expect=NetConfig(shape=[2], hidden=32, depth=2))
    # weights of one network under another's config: the keys and shapes that differ are named
    payload = torch.load(path, weights_only=True)
    payload["net"]["hidden"] = 8
    torch.save(payload, tmp_path / "b.pt")
    with pytest.raises(CheckpointMismatch, match="weights do not fit VelocityMLP.*out.weight"):
        load_checkpoint(tmp_path / "b.pt")
    payload["net"]["arch"] = "dit"
    torch.save(payload, tmp_path / "c.pt")
    with pytest.raises(CheckpointMismatch, match="network config is not one this version builds"):
        load_checkpoint(tmp_path / "c.pt")
    (tmp_path / "d.pt").write_text("not a checkpoint")
    with pytest.raises(UnknownModel, match="not a readable torch checkpoint"):
        load_checkpoint(tmp_path / "d.pt")
    with pytest.raises(UnknownModel, match="no such checkpoint file"):
        load_checkpoint(tmp_path / "missing.pt")


def test_a_network_refuses_inputs_of_another_shape():
    net = build_net(NetConfig(shape=[2], hidden=8, depth=1))
    with pytest.raises(ValueError, match=r"input shape \(4, 3\) does not fit"):
        net(torch.zeros(4, 3), torch.zeros(4))
