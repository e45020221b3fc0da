"""The one device setting: parsed, checked, and applied to a network."""

from __future__ import annotations

import pytest
import torch

from aiflows import ConfigError
from aiflows.generative.device import DeviceSettings
from aiflows.generative.nets import NetConfig, build_net


def test_settings_parse_and_reject(monkeypatch):
    assert DeviceSettings.parse("cpu") == DeviceSettings()
    assert DeviceSettings.parse("cpu:bf16:compile") == DeviceSettings(autocast="bfloat16", compile="default")
    monkeypatch.setenv("AIFLOWS_GEN_DEVICE", "cpu:fp32")
    assert DeviceSettings.parse(None).device == "cpu"
    with pytest.raises(ConfigError, match="unknown part 'fast'"):
        DeviceSettings.parse("cpu:fast")
    with pytest.raises(ConfigError, match="expected auto, cpu or cuda"):
        DeviceSettings.parse("tpu")
    if not torch.cuda.is_available():
        assert DeviceSettings.parse("auto") == DeviceSettings()
        with pytest.raises(ConfigError, match="no CUDA device"):
            DeviceSettings.parse("cuda:bf16")


def test_bfloat16_autocast_keeps_the_state_in_float32():
    torch.manual_seed(0)
    net = build_net(NetConfig(shape=[2], hidden=32, depth=2))
    x, t = torch.randn(8, 2), torch.rand(8)
    exact = net(x, t)
    fast = DeviceSettings.parse("cpu:bf16").prepare(net)(x, t)
    assert fast.dtype == torch.float32
    assert torch.allclose(fast, exact, atol=0.1) and not torch.equal(fast, exact)
    assert torch.equal(DeviceSettings.parse("cpu").prepare(net)(x, t), exact)
