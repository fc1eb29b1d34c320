from __future__ import annotations

import pytest

from aipaint.i18n import Text, negotiate


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN", "zh"),
        ("zh", "zh"),
        ("zh-TW,zh;q=0.9", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("zh-CN;q=0.5,en;q=0.9", "en"),
        ("fr-FR,zh-CN;q=0.7", "zh"),
        ("fr-FR", "en"),
        ("zh-CN;q=0", "en"),
        ("zh;q=abc,en", "en"),
        ("en,zh", "en"),
        ("zh,en", "zh"),
    ],
)
def test_negotiate_picks_the_best_supported_language(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_text_gets_each_language() -> None:
    text = Text(zh="时长", en="Duration")
    assert (text.get("zh"), text.get("en")) == ("时长", "Duration")
