from __future__ import annotations

import pytest

from aipaint.config import Settings


def test_no_key_means_demo_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIPAINT_RUNNINGHUB_API_KEY", raising=False)
    monkeypatch.delenv("RUNNINGHUB_API_KEY", raising=False)
    assert Settings(_env_file=None).demo is True


@pytest.mark.parametrize("variable", ["AIPAINT_RUNNINGHUB_API_KEY", "RUNNINGHUB_API_KEY"])
def test_key_from_either_variable_leaves_demo_mode(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "k" * 32)
    settings = Settings(_env_file=None)
    assert settings.demo is False
    assert settings.runninghub_api_key is not None
    assert settings.runninghub_api_key.get_secret_value() == "k" * 32


def test_the_key_never_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIPAINT_RUNNINGHUB_API_KEY", "secret-key-value-0123456789abcdef")
    settings = Settings(_env_file=None)
    assert "secret-key-value" not in repr(settings)
    assert "secret-key-value" not in str(settings.model_dump())


def test_settings_read_the_aipaint_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIPAINT_UPSTREAM_CONCURRENCY", "3")
    monkeypatch.setenv("AIPAINT_PUBLIC_URL", "https://example.com")
    settings = Settings(_env_file=None)
    assert settings.upstream_concurrency == 3
    assert settings.public_url == "https://example.com"
