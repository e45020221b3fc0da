"""`aiflows.hub.__all__` lists exactly its public names, and every one of them exists."""

from __future__ import annotations

from aiflows import hub
from aiflows.exceptions import AiflowsError


def test_all_matches_public_names() -> None:
    public = {n for n in vars(hub) if not n.startswith("_") and n not in {"annotations", "Any"}}
    assert set(hub.__all__) == public
    assert hub.__all__ == sorted(hub.__all__, key=str)


def test_errors_form_one_tree() -> None:
    assert issubclass(hub.HubError, AiflowsError)
    for cls in (hub.ResolutionError, hub.IntegrityError, hub.TrustError):
        assert issubclass(cls, hub.HubError)
