"""Every catalogue provider and region, with its URL overridden to a loopback stub: `qwen ask` with the provider's
own key variable reaches that stub, with the provider's headers. And the overrides only from trusted files."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from qwen_cli import catalogue
from tests.helpers import invoke
from tests.servers.openai_stub import OpenAIStub

KEY = "sk-test-key"
DASHSCOPE = {"x-dashscope-cachecontrol": "enable"}
# What each provider adds to a request, written out here (not read from the data) so a data edit shows.
EXPECTED_HEADERS = {
    "coding-plan": DASHSCOPE,
    "token-plan": DASHSCOPE,
    "dashscope": DASHSCOPE,
    "dashscope-intl": DASHSCOPE,
    "openrouter": {"x-openrouter-title": "qwen"},
    "requesty": {"x-title": "qwen"},
}
ATTRIBUTION = ("x-openrouter-title", "x-title", "http-referer", "x-dashscope-cachecontrol", "x-dashscope-useragent")


def _cases() -> list[tuple[str, str | None]]:
    cases: list[tuple[str, str | None]] = []
    for prov in catalogue.providers().values():
        if prov.id == "custom" or prov.protocol != "openai":
            continue  # the native protocols' entries: tests/cli/test_protocol_env.py, against their own stubs
        cases += [(prov.id, rid) for rid in prov.regions] if prov.regions else [(prov.id, None)]
    return cases


def _config(isolated, text: str) -> None:
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text(text)


@pytest.fixture
def stub():
    server = OpenAIStub(accept_tokens={KEY}).start()
    yield server
    server.stop()


@pytest.mark.parametrize(("pid", "region"), _cases(), ids=lambda v: v or "-")
def test_ask_reaches_the_overridden_url_of_every_provider_and_region(isolated, stub, pid, region):
    prov = catalogue.provider(pid)
    stub.require_auth = bool(prov.key_env)  # a local server takes no key
    where = (
        f'[providers.{pid}]\nregion = "{region}"\n[providers.{pid}.regions.{region}]\n'
        if region
        else f"[providers.{pid}]\n"
    )
    _config(isolated, f'[auth]\nmethod = "api-key"\nprovider = "{pid}"\n{where}base_url = "{stub.url}"\n')
    env = {prov.key_env: KEY} if prov.key_env else {}
    args = ["ask", "hi"] + ([] if prov.default_model else ["-m", "test-model"])
    result = invoke(args, env=env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Hello from stub\n"
    (req,) = stub.chat_requests
    assert req.path == "/v1/chat/completions"
    assert req.json["model"] == (prov.default_model or "test-model")
    assert req.bearer == (KEY if prov.key_env else None)
    expected = EXPECTED_HEADERS.get(pid, {})
    for name, value in expected.items():
        assert req.headers.get(name) == value
    dashscope = "x-dashscope-cachecontrol" in expected
    for name in ATTRIBUTION:
        if name not in expected and not (dashscope and name.startswith("x-dashscope-")):
            assert name not in req.headers, f"{pid} sent {name}"
    if dashscope:
        assert req.headers["x-dashscope-useragent"].startswith("qwen")


def test_coding_plan_regions_are_overridable_too(isolated, stub):
    for region in catalogue.regions():
        _config(
            isolated,
            f'[auth]\nmethod = "coding-plan"\nregion = "{region}"\n'
            f'[providers.coding-plan.regions.{region}]\nbase_url = "{stub.url}"\n',
        )
        result = invoke(["ask", "hi"], env={"BAILIAN_CODING_PLAN_API_KEY": KEY})
        assert result.exit_code == 0, result.stderr
        assert stub.chat_requests[-1].headers["x-dashscope-cachecontrol"] == "enable"
    assert len(stub.chat_requests) == len(catalogue.regions())


def test_every_dashscope_and_token_plan_host_gets_dashscope_headers():
    for prov in catalogue.providers().values():
        urls = [r.base_url for r in prov.regions.values()] or [prov.base_url or ""]
        for url in urls:
            host = urlsplit(url).hostname or ""
            if "dashscope" in host or (host.startswith("token-plan.") and host.endswith(".maas.aliyuncs.com")):
                assert "dashscope" in prov.header_sets, f"{prov.id}: {url}"


def test_a_regioned_login_asks_its_region_and_stores_it(isolated, stub):
    _config(isolated, f'[providers.minimax.regions.china]\nbase_url = "{stub.url}"\n')
    login = invoke(
        ["auth", "login", "--method", "api-key", "--provider", "minimax", "--region", "cn", "--key-stdin"], input=KEY
    )
    assert login.exit_code == 0, login.stderr
    assert "china region" in login.stderr
    result = invoke(["ask", "hi"])
    assert result.exit_code == 0, result.stderr
    assert stub.chat_requests[-1].bearer == KEY


def test_unknown_region_is_a_usage_error_with_the_choices():
    result = invoke(
        ["auth", "login", "--method", "api-key", "--provider", "moonshot", "--region", "mars", "--key-stdin"], input=KEY
    )
    assert result.exit_code == 2
    assert "unknown Kimi (Moonshot AI) region 'mars'" in result.stderr
    assert "international (intl/global), china (cn)" in result.stderr


def test_region_on_a_provider_without_regions_says_so():
    result = invoke(["auth", "login", "--provider", "deepseek", "--region", "cn", "--key-stdin"], input=KEY)
    assert result.exit_code == 2 and "--region does not apply to DeepSeek" in result.stderr


def test_an_untrusted_project_cannot_route_a_key_through_providers_tables(isolated, stub):
    project = isolated.work / ".qwen"
    project.mkdir()
    (project / "config.toml").write_text(
        f'[providers.openrouter]\nbase_url = "{stub.url}"\nregion = "x"\n'
        f'[providers.minimax.regions.china]\nbase_url = "{stub.url}"\n'
    )
    _config(isolated, '[auth]\nmethod = "api-key"\nprovider = "openrouter"\n')
    result = invoke(["config", "show"], env={"OPENROUTER_API_KEY": KEY})
    for name in (
        "providers.openrouter.base_url",
        "providers.openrouter.region",
        "providers.minimax.regions.china.base_url",
    ):
        assert f"ignoring {name} from {project / 'config.toml'}" in result.stderr
    assert stub.requests == []


def test_a_trusted_project_may_point_a_provider_at_a_gateway(isolated, stub):
    project = isolated.work / ".qwen"
    project.mkdir()
    (project / "config.toml").write_text(f'[providers.openrouter]\nbase_url = "{stub.url}"\n')
    assert invoke(["trust", str(isolated.work)]).exit_code == 0
    _config(isolated, '[auth]\nmethod = "api-key"\nprovider = "openrouter"\n')
    result = invoke(["ask", "hi"], env={"OPENROUTER_API_KEY": KEY})
    assert result.exit_code == 0, result.stderr
    assert stub.chat_requests[-1].headers["x-openrouter-title"] == "qwen"


def test_readme_and_auth_doc_list_the_catalogue():
    from pathlib import Path

    from qwen_cli import catalogue_docs

    root = Path(__file__).resolve().parents[2]
    readme = catalogue_docs.between_markers((root / "README.md").read_text())
    assert readme == catalogue_docs.provider_ids(), "README provider list is stale: paste provider_ids()"
    auth_doc = catalogue_docs.between_markers((root / "docs" / "auth.md").read_text())
    assert auth_doc == catalogue_docs.provider_table(), "docs/auth.md provider table is stale"


@pytest.mark.parametrize(
    ("pid", "region", "documents"),
    [
        ("token-plan", "cn", ["alibaba-cloud-china"]),
        ("token-plan", "ap-southeast-1", ["alibaba-cloud-international"]),
        ("dashscope", "us-virginia", ["alibaba-cloud-international"]),
        ("dashscope", "hk", ["alibaba-cloud-china", "alibaba-cloud-international"]),
        ("dashscope", None, ["alibaba-cloud-china", "alibaba-cloud-international"]),
    ],
)
def test_terms_of_alibaba_products_under_api_key_are_alibaba_clouds_for_the_region(pid, region, documents):
    import json

    args = ["terms", "show", "--provider", pid, "--json"] + (["--region", region] if region else [])
    result = invoke(args)
    assert result.exit_code == 0, result.stderr
    (page,) = json.loads(result.stdout)["pages"]
    assert [d["id"] for d in page["documents"]] == documents
    assert "Alibaba Cloud product" in page["note"] and "no usage statistics" in page["note"]
    assert "collects nothing" in page["statistics"]
    text = invoke([a for a in args if a != "--json"])
    assert "Alibaba Cloud product" in " ".join(text.stdout.split())


def test_completion_offers_the_regions_of_the_provider_on_the_line():
    from tests.cli.test_completion import bash_complete

    line = ["qwen", "auth", "login", "--provider", "minimax", "--region", ""]
    assert bash_complete(line) == ["international", "intl", "global", "china", "cn"]
    assert "us-virginia" in bash_complete(["qwen", "auth", "login", "--region", "us"])
    assert bash_complete(["qwen", "auth", "login", "--method", "coding-plan", "--region", "g"]) == ["global"]
