"""Which git URLs, commits and ids may reach git: the shapes git itself would treat as options or commands are refused."""

from __future__ import annotations

import pytest

from aiflows.hub import HubError
from aiflows.hub._validate import check_commit, check_git_url, check_hf_id, git_protocol


@pytest.mark.parametrize(
    ("url", "protocol"),
    [
        ("https://git.example.org/ada/fmt.git", "https"),
        ("ssh://git@git.example.org/ada/fmt.git", "ssh"),
        ("git+ssh://git.example.org/ada/fmt.git", "ssh"),
        ("git@git.example.org:ada/fmt.git", "ssh"),
        ("git.example.org:ada/fmt.git", "ssh"),
        ("file:///srv/flows/ada/fmt.git", "file"),
        ("/srv/flows/ada/fmt.git", "file"),
        ("git://127.0.0.1:9418/ada/fmt.git", "git"),
    ],
)
def test_git_protocol_of_each_url_shape(url: str, protocol: str) -> None:
    assert git_protocol(url) == protocol


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ext::sh -c touch% /tmp/x", "remote-helper syntax"),
        ("fd::0", "remote-helper syntax"),
        ("--upload-pack=touch /tmp/x", "starts with '-'"),
        ("-oProxyCommand=x:path", "starts with '-'"),
        ("ssh://-oProxyCommand=x/path", "starts with '-'"),
        ("git@-oProxyCommand:path", "starts with '-'"),
        ("svn://example.org/x", "unknown scheme 'svn'"),
        ("relative/path.git", "expected scheme://host/path"),
        ("https://example.org/a\nb", "control characters"),
    ],
)
def test_urls_git_would_misread_are_refused(url: str, why: str) -> None:
    with pytest.raises(HubError, match=why):
        git_protocol(url)


def test_protocols_outside_the_allowed_set_are_refused_with_the_fix() -> None:
    with pytest.raises(HubError, match="add it under 'protocols:' in hub.yaml"):
        check_git_url("git://example.org/ada/fmt.git", "source")
    assert check_git_url("git://example.org/ada/fmt.git", "source", ["git"])


@pytest.mark.parametrize("commit", ["a" * 40, "0123456789abcdef" * 4])
def test_full_commit_ids_pass(commit: str) -> None:
    assert check_commit(commit, "lock") == commit


@pytest.mark.parametrize("commit", ["abc1234", "A" * 40, "--upload-pack=x", "HEAD", "a" * 41, "g" * 40])
def test_anything_else_is_not_a_commit(commit: str) -> None:
    with pytest.raises(HubError, match="not a full commit id"):
        check_commit(commit, "lock")


@pytest.mark.parametrize("repo_id", ["--x/y", "a/../b", "a/b/c", "a b/c"])
def test_hf_ids_are_owner_name(repo_id: str) -> None:
    with pytest.raises(HubError, match="is not 'owner/name'"):
        check_hf_id(repo_id, "hf")
