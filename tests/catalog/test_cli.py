"""`aipaint models` and `aipaint models show`: browsing the catalog from a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aipaint.catalog.paths import MODELS_DIR
from aipaint.catalog.service import Catalog
from aipaint.cli import app
from aipaint.config import get_settings

LTX = "rhart-video/ltx-2.3/text-to-video"

runner = CliRunner()


@pytest.fixture(autouse=True)
def shipped_catalog(monkeypatch: pytest.MonkeyPatch, catalog: Catalog) -> Iterator[None]:
    """Every command here reads the catalog AIPAINT_CATALOG_DIR names: the shipped one.

    The shipped catalog is parsed once per session (the `catalog` fixture) rather than once per
    command; any other directory is loaded for real.
    """
    load = Catalog.load

    def load_once(directory: Path) -> Catalog:
        return catalog if directory == MODELS_DIR else load(directory)

    monkeypatch.setattr(Catalog, "load", staticmethod(load_once))
    monkeypatch.setenv("AIPAINT_CATALOG_DIR", str(MODELS_DIR))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def aipaint(*args: str) -> Result:
    # A wide terminal, so that Rich tables neither wrap nor truncate ids.
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def rows(output: str) -> list[list[str]]:
    """The body rows of the Rich table in `output`, as stripped cells."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in output.splitlines()
        if line.startswith("│")
    ]


def listed(output: str) -> list[str]:
    """The model ids in the first column (a wrapped title continues on a row with no id)."""
    return [row[0] for row in rows(output) if row[0]]


class TestList:
    def test_lists_every_model(self, catalog: Catalog) -> None:
        result = aipaint("models")
        assert result.exit_code == 0, result.output
        assert "302 models" in result.stdout.splitlines()[0]
        ids = listed(result.stdout)
        assert len(ids) == 302
        assert ids == sorted(spec.id for spec in catalog.search())

    def test_category_filter(self, catalog: Catalog) -> None:
        expected = [s.id for s in catalog.search() if s.category == "text-to-video"]
        assert 0 < len(expected) < 302

        result = aipaint("models", "--category", "text-to-video")

        assert result.exit_code == 0, result.output
        assert f"{len(expected)} models" in result.stdout.splitlines()[0]
        assert listed(result.stdout) == expected
        assert {row[2] for row in rows(result.stdout) if row[0]} == {"text-to-video"}

    def test_search(self, catalog: Catalog) -> None:
        expected = [
            s.id
            for s in catalog.search()
            if "kling" in f"{s.id} {s.title.zh} {s.title.en}".casefold()
        ]
        assert 0 < len(expected) < 302

        result = aipaint("models", "--search", "kling")

        assert result.exit_code == 0, result.output
        assert listed(result.stdout) == expected
        assert f"{len(expected)} models" in result.stdout.splitlines()[0]

    def test_search_with_every_word(self) -> None:
        result = aipaint("models", "--search", "ltx-2.3 text-to-video")
        assert result.exit_code == 0, result.output
        assert listed(result.stdout) == [LTX]

    def test_nothing_found(self) -> None:
        result = aipaint("models", "--search", "no-such-model-anywhere")
        assert result.exit_code == 0, result.output
        assert "0 models" in result.stdout
        assert listed(result.stdout) == []

    def test_titles_in_english_by_default(self, catalog: Catalog) -> None:
        result = aipaint("models", "--search", LTX)
        assert result.exit_code == 0, result.output
        assert [row[:2] for row in rows(result.stdout)] == [[LTX, catalog.get(LTX).title.en]]

    def test_titles_in_chinese(self, catalog: Catalog) -> None:
        result = aipaint("models", "--lang", "zh")
        assert result.exit_code == 0, result.output
        titles = {row[0]: row[1] for row in rows(result.stdout) if row[0]}
        assert len(titles) == 302
        for model_id, title in titles.items():
            # A long title may wrap; its first line starts the Chinese title.
            assert catalog.get(model_id).title.zh.startswith(title), model_id
        assert titles[LTX] == catalog.get(LTX).title.zh == "LTX 2.3 · 文生视频"
        chinese = [t for t in titles.values() if any("\u4e00" <= ch <= "\u9fff" for ch in t)]
        assert len(chinese) > 100

    def test_unknown_language_is_rejected(self) -> None:
        result = aipaint("models", "--lang", "xx")
        assert result.exit_code == 2
        assert "Invalid value for --lang: use en or zh" in result.stderr
        assert result.stdout == ""

    def test_broken_catalog_is_refused(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("AIPAINT_CATALOG_DIR", str(tmp_path))
        get_settings.cache_clear()
        result = aipaint("models")
        assert result.exit_code == 1
        assert "holds no catalog files" in result.stderr


class TestShow:
    def test_params_table(self, catalog: Catalog) -> None:
        result = aipaint("models", "show", LTX)

        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines[0] == f"{LTX}  {catalog.get(LTX).title.en}"
        assert lines[1] == (
            "category text-to-video · provider RHArt Video · output video · price unknown"
        )
        table = [
            [name, kind, required, allowed]
            for name, kind, required, _, allowed, _ in rows(result.stdout)
        ]
        assert table == [
            ["prompt", "string", "yes", "≤ 10000 chars"],
            ["resolution", "enum", "yes", "1080p | 720p | 480p"],
            ["aspectRatio", "enum", "yes", "16:9 | 9:16"],
            ["duration", "int", "yes", "5..15"],
        ]
        labels = {row[0]: row[3] for row in rows(result.stdout)}
        assert labels == {p.name: p.label.en for p in catalog.get(LTX).params}

    def test_chinese_labels(self, catalog: Catalog) -> None:
        result = aipaint("models", "show", LTX, "--lang", "zh")
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[0] == f"{LTX}  LTX 2.3 · 文生视频"
        labels = {row[0]: row[3] for row in rows(result.stdout)}
        assert labels == {p.name: p.label.zh for p in catalog.get(LTX).params}
        assert labels["duration"] == "时长"

    def test_optional_params_defaults_and_files(self) -> None:
        result = aipaint("models", "show", "higgsfield/soul/image-to-image")
        assert result.exit_code == 0, result.output
        table = {row[0]: row for row in rows(result.stdout)}
        assert "0.7–1.4 CNY per call by quality" in result.stdout.splitlines()[1]
        assert table["strength"][1:3] == ["float", ""]  # optional: no required marker
        assert table["strength"][4] == "0..1, step 0.01"
        assert table["strength"][5] == "1.0"
        assert table["quality"][5] == "'medium'"
        assert table["imageUrl"][1:3] == ["image_url", "yes"]
        assert table["imageUrl"][4] == "≤ 10 MB, JPG/JPEG/PNG/WEBP"
        assert table["prompt"][4] == "≤ 2048 chars"

    def test_model_without_published_params(self, catalog: Catalog) -> None:
        unpublished = next(s for s in catalog.search() if not s.params_published)
        result = aipaint("models", "show", unpublished.id)
        assert result.exit_code == 0, result.output
        assert "RunningHub publishes no parameters for this model" in result.stdout
        assert rows(result.stdout) == []

    def test_unknown_model(self) -> None:
        result = aipaint("models", "show", "nobody/no-such-model")
        assert result.exit_code == 1
        assert result.stderr == "Model 'nobody/no-such-model' does not exist.\n"
        assert result.stdout == ""

    def test_unknown_model_in_chinese(self) -> None:
        result = aipaint("models", "show", "nobody/no-such-model", "--lang", "zh")
        assert result.exit_code == 1
        assert result.stderr == "模型 'nobody/no-such-model' 不存在。\n"

    def test_unknown_language_is_rejected(self) -> None:
        result = aipaint("models", "show", LTX, "--lang", "xx")
        assert result.exit_code == 2
        assert "Invalid value for --lang: use en or zh" in result.stderr
