"""Named profiles found from their Qwen OAuth token files: `oauth_creds.work.json` is the profile `work`, and a
file that only looks like one (a name no profile may have) is not ours."""

from __future__ import annotations

from qwen_cli.auth import token_store


def test_each_profile_token_file_names_its_profile_and_other_files_are_skipped(isolated):
    home = isolated.qwen_home
    home.mkdir(parents=True)
    for name in ("oauth_creds.json", "oauth_creds.work.json", "oauth_creds.side-job.json", "oauth_creds.a b.json"):
        (home / name).write_text("{}")
    assert sorted(token_store.profiles(home)) == ["side-job", "work"]
