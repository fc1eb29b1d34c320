"""`aipaint catalog check` and the start-up loader refuse every kind of broken catalog file.

Each case copies the shipped catalog, breaks one thing in it, and expects both the CLI and
`Catalog.load` to name the broken file and field, and nothing else.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aipaint.app import create_app
from aipaint.catalog.errors import CatalogInvalid
from aipaint.catalog.loader import load_specs
from aipaint.catalog.paths import MODELS_DIR, dumps, read_json
from aipaint.catalog.service import Catalog
from aipaint.cli import app
from aipaint.config import Settings, get_settings

runner = CliRunner()

# The models the cases break, each chosen for what it already has.
LTX = "rhart-video/ltx-2.3/text-to-video"  # string, enum without default, int 5..15; no price
HAPPY = "alibaba/happyhorse-1.0/text-to-video"  # price by resolution with two rules
QWEN = "alibaba/qwen-image-2.0/text-to-image"  # fixed price; bool default; max_length 500
SOUL = "higgsfield/soul/image-to-image"  # float 0..1 with a default
SEEDREAM = "seedream-v4/image-to-image"  # image_url_list, max_items 10

Doc = dict[str, Any]
ROOT = "<catalog dir>"


@dataclass(frozen=True)
class Expected:
    """A defect the checks must report: `file: field: …message…`."""

    file: str  # relative to the catalog directory; ROOT stands for the directory itself
    field: str
    message: str

    def file_in(self, root: Path) -> str:
        return str(root) if self.file == ROOT else self.file


@dataclass(frozen=True)
class Case:
    id: str
    breaks: Callable[[Path], None]
    expected: tuple[Expected, ...]

    def files(self, root: Path) -> set[str]:
        return {e.file_in(root) for e in self.expected}


def file_of(model_id: str) -> str:
    return f"{model_id}.json"


def replace_file(path: Path, text: str) -> None:
    """Write a new file in place of a hard link, so the module's pristine copy stays intact."""
    path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def param(doc: Doc, name: str, kind: str | None = None) -> Doc:
    found: Doc = next(p for p in doc["params"] if p["name"] == name)
    if kind is not None:
        assert found["type"] == kind, f"{doc['id']}.{name} is no longer a {kind}"
    return found


def edit(model_id: str, change: Callable[[Doc], object]) -> Callable[[Path], None]:
    """A breaker that applies `change` to one model's JSON document."""

    def breaks(root: Path) -> None:
        path = root / file_of(model_id)
        doc: Doc = read_json(path)
        change(doc)
        replace_file(path, dumps(doc))

    return breaks


def edit_param(model_id: str, name: str, kind: str, **changes: object) -> Callable[[Path], None]:
    return edit(model_id, lambda doc: param(doc, name, kind).update(changes))


def defect(model_id: str, field: str, message: str) -> tuple[Expected, ...]:
    return (Expected(file_of(model_id), field, message),)


def write_text(model_id: str, text: str) -> Callable[[Path], None]:
    return lambda root: replace_file(root / file_of(model_id), text)


def duplicate_file(root: Path) -> None:
    replace_file(root / "zz-copy" / "ltx.json", (root / file_of(LTX)).read_text(encoding="utf-8"))


def empty(root: Path) -> None:
    shutil.rmtree(root)
    root.mkdir()


def _drop_provider(doc: Doc) -> None:
    del doc["provider"]


def _extra_key(doc: Doc) -> None:
    doc["params"][0]["colour"] = "red"


def _remove_choices(doc: Doc) -> None:
    del param(doc, "resolution", "enum")["choices"]


def _duplicate_choice(doc: Doc) -> None:
    choices = param(doc, "resolution", "enum")["choices"]
    choices.append(dict(choices[0]))


def _duplicate_param(doc: Doc) -> None:
    doc["params"].append({**param(doc, "prompt", "string"), "order": 99})


def _drop_amount(doc: Doc) -> None:
    assert doc["price"]["kind"] == "fixed"
    del doc["price"]["amount"]


def _unknown_depends_on(doc: Doc) -> None:
    assert doc["price"]["depends_on"] == ["resolution"]
    doc["price"]["depends_on"].append("fps")


def _rule_outside_depends_on(doc: Doc) -> None:
    doc["price"]["rules"][1]["when"]["duration"] = "5"


def _unknown_price_with_amount(doc: Doc) -> None:
    assert doc["price"]["kind"] == "unknown"
    doc["price"]["amount"] = 1.0


def _choice_label(doc: Doc, value: str) -> Doc:
    choices = param(doc, "resolution", "enum")["choices"]
    label: Doc = next(c for c in choices if c["value"] == value)["label"]
    return label


CASES = [
    # What the schema refuses.
    Case("invalid-json", write_text(LTX, '{"id": "rhart-video/'), defect(LTX, "-", "Invalid JSON")),
    Case("missing-field", edit(LTX, _drop_provider), defect(LTX, "provider", "Field required")),
    Case(
        "unknown-key",
        edit(LTX, _extra_key),
        defect(LTX, "params.0.colour", "Extra inputs are not permitted"),
    ),
    # Ids.
    Case(
        "id-not-path",
        edit(LTX, lambda doc: doc.update(id="rhart-video/ltx-2.3/text-to-video-v2")),
        defect(LTX, "id", "'rhart-video/ltx-2.3/text-to-video-v2' does not match the file path"),
    ),
    Case(
        "duplicate-id",
        duplicate_file,
        (
            Expected("zz-copy/ltx.json", "id", f"duplicate id {LTX!r}, also in {file_of(LTX)}"),
            Expected("zz-copy/ltx.json", "id", "does not match the file path"),
        ),
    ),
    # Labels.
    Case(
        "empty-title-zh",
        edit(LTX, lambda doc: doc["title"].update(zh="")),
        defect(LTX, "title.zh", "is empty"),
    ),
    Case(
        "blank-param-label-en",
        edit(LTX, lambda doc: param(doc, "prompt")["label"].update(en="  ")),
        defect(LTX, "params.prompt.label.en", "is empty"),
    ),
    Case(
        "empty-choice-label-zh",
        edit(LTX, lambda doc: _choice_label(doc, "720p").update(zh="")),
        defect(LTX, "params.resolution.choices.720p.label.zh", "is empty"),
    ),
    Case(
        "title-is-the-id",
        edit(LTX, lambda doc: doc["title"].update(en=LTX)),
        defect(LTX, "title.en", f"is the model's endpoint path {LTX!r}, not a readable title"),
    ),
    Case(
        "title-is-the-last-path-segment-in-capitals",
        edit(LTX, lambda doc: doc["title"].update(zh="Text-To-Video ")),
        defect(LTX, "title.zh", "is the model's endpoint path 'Text-To-Video ', not a readable"),
    ),
    Case(
        "title-is-the-path-joined-by-dashes",
        edit(LTX, lambda doc: doc["title"].update(en="ltx-2.3-text-to-video")),
        defect(LTX, "title.en", "is the model's endpoint path 'ltx-2.3-text-to-video'"),
    ),
    Case(
        "title-is-a-single-segment-id",
        edit("kling-elements", lambda doc: doc["title"].update(zh="KLING-ELEMENTS")),
        defect("kling-elements", "title.zh", "is the model's endpoint path 'KLING-ELEMENTS'"),
    ),
    Case(
        "chinese-in-english-label",
        edit(LTX, lambda doc: param(doc, "duration")["label"].update(en="时长")),
        defect(LTX, "params.duration.label.en", "is not English: '时长'"),
    ),
    # Choices.
    Case(
        "enum-without-choices",
        edit(LTX, _remove_choices),
        defect(LTX, "params.resolution.choices", "an enum needs at least one choice"),
    ),
    Case(
        "choices-on-string",
        edit_param(
            LTX, "prompt", "string", choices=[{"value": "a", "label": {"zh": "甲", "en": "A"}}]
        ),
        defect(LTX, "params.prompt.choices", "only enum parameters have choices, not string"),
    ),
    Case(
        "duplicate-choice",
        edit(LTX, _duplicate_choice),
        defect(LTX, "params.resolution.choices", "value '1080p' is listed twice"),
    ),
    # Bounds.
    Case(
        "min-above-max",
        edit_param(LTX, "duration", "int", min=20),
        defect(LTX, "params.duration.min", "min 20 is above max 15"),
    ),
    Case(
        "bounds-on-string",
        edit_param(LTX, "prompt", "string", min=1, max=10, step=1),
        tuple(
            Expected(file_of(LTX), f"params.prompt.{bound}", f"a string parameter has no {bound}")
            for bound in ("min", "max", "step")
        ),
    ),
    Case(
        "fractional-bound-on-int",
        edit_param(LTX, "duration", "int", max=15.5),
        defect(LTX, "params.duration.max", "15.5 is not an integer but the parameter is"),
    ),
    Case(
        "max-length-on-int",
        edit_param(LTX, "duration", "int", max_length=10),
        defect(LTX, "params.duration.max_length", "a int parameter has no max_length"),
    ),
    Case(
        "max-items-on-scalar",
        edit_param(LTX, "prompt", "string", max_items=3),
        defect(LTX, "params.prompt.max_items", "a string parameter is not a list"),
    ),
    Case(
        "file-limits-on-non-file",
        edit_param(LTX, "prompt", "string", max_size_mb=10, accept=["PNG"]),
        (
            Expected(file_of(LTX), "params.prompt.max_size_mb", "a string parameter is not a file"),
            Expected(file_of(LTX), "params.prompt.accept", "a string parameter is not a file"),
        ),
    ),
    # Defaults.
    Case(
        "int-default-above-max",
        edit_param(LTX, "duration", "int", default=16),
        defect(LTX, "params.duration.default", "16 is above max 15"),
    ),
    Case(
        "float-default-above-max",
        edit_param(SOUL, "strength", "float", default=1.5),
        defect(SOUL, "params.strength.default", "1.5 is above max 1"),
    ),
    Case(
        "enum-default-not-a-choice",
        edit_param(LTX, "resolution", "enum", default="4k"),
        defect(LTX, "params.resolution.default", "'4k' is not one of the choices"),
    ),
    Case(
        "string-default-on-bool",
        edit_param(QWEN, "promptExtend", "bool", default="yes"),
        defect(QWEN, "params.promptExtend.default", "'yes' is not a boolean"),
    ),
    Case(
        "list-default-on-scalar",
        edit_param(LTX, "duration", "int", default=[5]),
        defect(LTX, "params.duration.default", "[5] is not an integer"),
    ),
    Case(
        "scalar-default-on-list",
        edit_param(SEEDREAM, "imageUrls", "image_url_list", default="https://a.example/x.png"),
        defect(SEEDREAM, "params.imageUrls.default", "is not a list"),
    ),
    Case(
        "default-over-max-length",
        edit_param(QWEN, "negativePrompt", "string", default="x" * 501),
        defect(
            QWEN, "params.negativePrompt.default", "is 501 characters, more than max_length 500"
        ),
    ),
    Case(
        "default-over-max-items",
        edit_param(
            SEEDREAM, "imageUrls", "image_url_list", default=["https://a.example/x.png"] * 11
        ),
        defect(SEEDREAM, "params.imageUrls.default", "has 11 items, more than max_items 10"),
    ),
    # Params as a whole.
    Case(
        "duplicate-param-name",
        edit(LTX, _duplicate_param),
        defect(LTX, "params.prompt", "parameter name is used more than once"),
    ),
    Case(
        "shared-order",
        edit_param(LTX, "duration", "int", order=0),
        defect(LTX, "params", "two parameters share one order"),
    ),
    Case(
        "params-not-published-but-listed",
        edit(LTX, lambda doc: doc.update(params_published=False)),
        defect(LTX, "params_published", "is false but the model lists parameters"),
    ),
    # Prices.
    Case(
        "fixed-price-without-amount",
        edit(QWEN, _drop_amount),
        defect(QWEN, "price.amount", "a fixed price needs an amount"),
    ),
    Case(
        "depends-on-unknown-param",
        edit(HAPPY, _unknown_depends_on),
        defect(HAPPY, "price.depends_on", "'fps' is not a parameter of this model"),
    ),
    Case(
        "rule-outside-depends-on",
        edit(HAPPY, _rule_outside_depends_on),
        defect(HAPPY, "price.rules[1]", "names a parameter outside depends_on"),
    ),
    Case(
        "negative-price",
        edit(QWEN, lambda doc: doc["price"].update(amount=-0.13)),
        defect(QWEN, "price", "a price is negative"),
    ),
    Case(
        "unknown-price-with-amount",
        edit(LTX, _unknown_price_with_amount),
        defect(LTX, "price", "an unknown price has no amount or rules"),
    ),
    # The directory.
    Case("empty-directory", empty, (Expected(ROOT, "-", "holds no catalog files"),)),
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the shipped catalog per module; cases break hard-linked copies of it."""
    copy = tmp_path_factory.mktemp("shipped") / "models"
    shutil.copytree(MODELS_DIR, copy)
    return copy


def linked_copy(pristine: Path, root: Path) -> Path:
    copy = root / "models"
    shutil.copytree(pristine, copy, copy_function=os.link)
    return copy


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No AIPAINT_CATALOG_DIR from the environment, and no settings cached across tests."""
    monkeypatch.delenv("AIPAINT_CATALOG_DIR", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def check(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["catalog", "check", *args])
    return result.exit_code, result.stdout, result.stderr


class TestShippedCatalog:
    def test_check_passes(self, settings_env: None) -> None:
        code, out, err = check()
        assert (code, err) == (0, "")
        assert out == f"ok: 302 models in {MODELS_DIR}\n"

    def test_check_of_a_copy_passes(self, pristine: Path) -> None:
        code, out, err = check("--dir", str(pristine))
        assert (code, err) == (0, "")
        assert out == f"ok: 302 models in {pristine}\n"

    def test_titles_read_like_a_catalog(self) -> None:
        """No title is a bare slug, and no two models share one, in either language."""
        slug = re.compile(r"[a-z0-9._/\-]+")
        specs = load_specs(MODELS_DIR)
        for lang in ("zh", "en"):
            titles = [getattr(spec.title, lang) for spec in specs]
            assert [t for t in titles if slug.fullmatch(t) or " · " not in t] == [], lang
            assert len(set(titles)) == len(titles) == 302, lang


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_broken_copy_is_refused(case: Case, pristine: Path, tmp_path: Path) -> None:
    copy = linked_copy(pristine, tmp_path)
    case.breaks(copy)

    code, out, err = check("--dir", str(copy))

    assert code == 1
    assert out == ""
    lines = err.splitlines()
    for expected in case.expected:
        prefix = f"{expected.file_in(copy)}: {expected.field}: "
        assert any(line.startswith(prefix) and expected.message in line for line in lines), (
            f"no line {prefix}…{expected.message}… in:\n{err}"
        )
    # Only the broken file is reported: the rest of the copy is as clean as the shipped catalog.
    defect_lines = lines[:-1]
    assert {line.split(": ", 1)[0] for line in defect_lines} == case.files(copy)
    assert lines[-1] == f"{len(defect_lines)} defect(s) in {copy}"

    with pytest.raises(CatalogInvalid) as raised:
        Catalog.load(copy)
    defects = raised.value.defects
    assert [str(d) for d in defects] == defect_lines
    for expected in case.expected:
        assert any(
            (d.file, d.field) == (expected.file_in(copy), expected.field)
            and expected.message in d.message
            for d in defects
        )


def test_pristine_copy_is_untouched_by_the_cases(pristine: Path) -> None:
    """The cases replace hard-linked files instead of writing through them."""
    for name in (LTX, HAPPY, QWEN, SOUL, SEEDREAM):
        path = file_of(name)
        assert (pristine / path).read_bytes() == (MODELS_DIR / path).read_bytes()
    assert not (pristine / "zz-copy").exists()


class TestStartUp:
    def test_app_starts_on_a_sound_copy(self, pristine: Path) -> None:
        app_ = create_app(Settings(catalog_dir=pristine, _env_file=None))
        assert len(app_.state.catalog) == 302

    def test_app_refuses_a_broken_catalog(self, pristine: Path, tmp_path: Path) -> None:
        copy = linked_copy(pristine, tmp_path)
        edit_param(LTX, "duration", "int", default=16)(copy)
        with pytest.raises(CatalogInvalid) as raised:
            create_app(Settings(catalog_dir=copy, _env_file=None))
        assert [str(d) for d in raised.value.defects] == [
            f"{file_of(LTX)}: params.duration.default: 16 is above max 15"
        ]

    def test_app_refuses_a_missing_catalog(self, tmp_path: Path) -> None:
        with pytest.raises(CatalogInvalid, match="holds no catalog files"):
            create_app(Settings(catalog_dir=tmp_path / "nowhere", _env_file=None))

    def test_check_reads_the_catalog_dir_setting(
        self, settings_env: None, pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        copy = linked_copy(pristine, tmp_path)
        edit(QWEN, lambda doc: doc["price"].update(amount=-1))(copy)
        monkeypatch.setenv("AIPAINT_CATALOG_DIR", str(copy))
        code, _, err = check()
        assert code == 1
        assert f"{file_of(QWEN)}: price: a price is negative" in err
