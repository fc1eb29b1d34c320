"""`aipaint catalog import`: registry + refinements -> the committed catalog files, exactly."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from aipaint.catalog.importer import CatalogImportError, Sources, build_catalog
from aipaint.catalog.paths import DATA_DIR, MODELS_DIR, dumps, read_json
from aipaint.catalog.schemas import dump_spec
from aipaint.cli import app

REGISTRY = DATA_DIR / "registry" / "model-registry.public.json"
EXTRA = DATA_DIR / "registry" / "extra-models.json"
CJK = re.compile(r"[\u3400-\u9fff]")

# A model that has a by-params price, an enum with a default, a bounded int and a long prompt.
TARGET = "alibaba/happyhorse-1.0/text-to-video"
TARGET_FILE = f"{TARGET}.json"

runner = CliRunner()


def run_import(*args: str | Path) -> Result:
    """`aipaint catalog import …`; every call names `--dir`, so the shipped catalog is never hit."""
    assert "--dir" in args
    return runner.invoke(app, ["catalog", "import", *map(str, args)])


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` by its relative path."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def changed_lines(result: Result) -> set[str]:
    return {
        line.removeprefix("changed ")
        for line in result.stdout.splitlines()
        if line.startswith("changed ")
    }


def copy_refinements(root: Path) -> Path:
    """The hand-made refinements (not the registry, not the models) copied to `root`."""
    root.mkdir()
    for name in ("titles.json", "categories.json", "glossary.json", "translations.json"):
        shutil.copy2(DATA_DIR / name, root / name)
    shutil.copytree(DATA_DIR / "overrides", root / "overrides")
    return root


def write_override(refinements: Path, model_id: str, override: dict[str, Any]) -> None:
    path = refinements / "overrides" / f"{model_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(override), encoding="utf-8")


def write_titles(refinements: Path, change: Callable[[dict[str, Any]], object]) -> None:
    titles: dict[str, Any] = read_json(refinements / "titles.json")
    change(titles)
    (refinements / "titles.json").write_text(dumps(titles), encoding="utf-8")


def committed(model_id: str) -> dict[str, Any]:
    data: dict[str, Any] = read_json(MODELS_DIR / f"{model_id}.json")
    return data


def params_by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {param["name"]: param for param in doc["params"]}


def read_override(refinements: Path, model_id: str) -> dict[str, Any]:
    """The params part of a model's override, or {} when it has none."""
    path = refinements / "overrides" / f"{model_id}.json"
    if not path.exists():
        return {}
    params: dict[str, Any] = read_json(path).get("params", {})
    return params


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """One CLI import of the shipped registry into an empty directory."""
    out = tmp_path_factory.mktemp("import") / "models"
    return out, run_import("--dir", out)


@pytest.fixture
def refinements(tmp_path: Path) -> Path:
    return copy_refinements(tmp_path / "refinements")


class TestReproducesCommittedCatalog:
    def test_same_files_byte_for_byte(self, imported: tuple[Path, Result]) -> None:
        out, result = imported
        assert result.exit_code == 0, result.output
        made, shipped = tree(out), tree(MODELS_DIR)
        assert sorted(made) == sorted(shipped)
        assert len(made) == 302
        assert [name for name in shipped if made[name] != shipped[name]] == []

    def test_reports_every_file_as_changed(self, imported: tuple[Path, Result]) -> None:
        out, result = imported
        assert changed_lines(result) == set(tree(MODELS_DIR))
        assert result.stdout.splitlines()[-1] == f"302 models, 302 file(s) changed in {out}"

    def test_second_import_changes_nothing(self, imported: tuple[Path, Result]) -> None:
        out, _ = imported
        before = {path: path.stat().st_mtime_ns for path in out.rglob("*.json")}
        again = run_import("--dir", out)
        assert again.exit_code == 0, again.output
        assert changed_lines(again) == set()
        assert again.stdout.splitlines()[-1] == f"302 models, 0 file(s) changed in {out}"
        # Unchanged files are not even rewritten.
        assert {path: path.stat().st_mtime_ns for path in out.rglob("*.json")} == before
        assert tree(out) == tree(MODELS_DIR)


# Refinements of every overridable kind for TARGET.
OVERRIDE: dict[str, Any] = {
    "category": "reference-to-video",
    "params": {
        "resolution": {
            "label": {"zh": "清晰度", "en": "Sharpness"},
            "group": "advanced",
            "widget": "select",
            "order": 10,
            "choice_labels": {"1080p": {"zh": "全高清", "en": "Full HD"}},
        },
        "prompt": {
            "description": {"zh": "画面与镜头。", "en": "Scene and camera."},
            "example": "A lone astronaut skiing across the moon",
        },
        "seed": {"group": "basic", "order": -1, "widget": "number"},
    },
}
# What only the registry decides.
UPSTREAM_PARAM_KEYS = (
    "type",
    "required",
    "default",
    "min",
    "max",
    "step",
    "max_length",
    "max_items",
    "max_size_mb",
    "accept",
)


@pytest.fixture(scope="module")
def reimported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """A CLI re-import over a copy of the committed catalog, OVERRIDE added to the refinements."""
    root = tmp_path_factory.mktemp("refined")
    refinements = copy_refinements(root / "refinements")
    write_override(refinements, TARGET, OVERRIDE)
    out = root / "models"
    shutil.copytree(MODELS_DIR, out)
    result = run_import("--refinements", refinements, "--dir", out)
    assert result.exit_code == 0, result.output
    return out, result


class TestRefinementsSurviveReimport:
    def test_override_differs_from_the_committed_catalog(self) -> None:
        """Otherwise the checks below could pass without the override being applied."""
        shipped = committed(TARGET)
        assert shipped["category"] != OVERRIDE["category"]
        params = params_by_name(shipped)
        for name, changes in OVERRIDE["params"].items():
            for key, value in changes.items():
                if key != "choice_labels":
                    assert params[name].get(key) != value, f"{name}.{key}"
        labels = {c["value"]: c["label"] for c in params["resolution"]["choices"]}
        assert labels["1080p"] != OVERRIDE["params"]["resolution"]["choice_labels"]["1080p"]

    def test_model_carries_every_refinement(self, reimported: tuple[Path, Result]) -> None:
        out, _ = reimported
        doc = read_json(out / TARGET_FILE)
        assert doc["category"] == "reference-to-video"
        params = params_by_name(doc)
        resolution = params["resolution"]
        assert resolution["label"] == {"zh": "清晰度", "en": "Sharpness"}
        assert resolution["group"] == "advanced"
        assert resolution["widget"] == "select"
        assert resolution["order"] == 10
        labels = {choice["value"]: choice["label"] for choice in resolution["choices"]}
        assert labels["1080p"] == {"zh": "全高清", "en": "Full HD"}
        shipped_labels = {
            choice["value"]: choice["label"]
            for choice in params_by_name(committed(TARGET))["resolution"]["choices"]
        }
        assert labels["720p"] == shipped_labels["720p"]  # a choice not named keeps its label
        assert params["prompt"]["description"] == {"zh": "画面与镜头。", "en": "Scene and camera."}
        assert params["prompt"]["example"] == "A lone astronaut skiing across the moon"
        assert params["seed"]["group"] == "basic"
        assert params["seed"]["widget"] == "number"
        # Params are listed in their (overridden) order.
        names = [param["name"] for param in doc["params"]]
        assert names[0] == "seed"
        assert names[-1] == "resolution"
        assert [param["order"] for param in doc["params"]] == sorted(
            param["order"] for param in doc["params"]
        )

    def test_upstream_fields_are_unchanged(self, reimported: tuple[Path, Result]) -> None:
        out, _ = reimported
        doc, shipped = read_json(out / TARGET_FILE), committed(TARGET)
        for key in ("id", "title", "provider", "output_type", "price", "source"):
            assert doc[key] == shipped[key], key
        made, before = params_by_name(doc), params_by_name(shipped)
        assert set(made) == set(before)
        for name, param in made.items():
            for key in UPSTREAM_PARAM_KEYS:
                assert param.get(key) == before[name].get(key), f"{name}.{key}"
            values = [choice["value"] for choice in param.get("choices", [])]
            assert values == [choice["value"] for choice in before[name].get("choices", [])]

    def test_only_the_refined_model_changes(self, reimported: tuple[Path, Result]) -> None:
        out, result = reimported
        assert changed_lines(result) == {TARGET_FILE}
        made, shipped = tree(out), tree(MODELS_DIR)
        assert sorted(made) == sorted(shipped)
        assert [name for name in shipped if made[name] != shipped[name]] == [TARGET_FILE]

    def test_refined_catalog_passes_the_checks(self, reimported: tuple[Path, Result]) -> None:
        out, _ = reimported
        result = runner.invoke(app, ["catalog", "check", "--dir", str(out)])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("ok: 302 models")


class TestGlossary:
    NEW = {"zh": "创作描述", "en": "Creative brief"}  # noqa: RUF012 - read only

    @staticmethod
    def registry_params(key: str) -> dict[str, bool]:
        """Model id -> whether its `key` param has a real Chinese registry label of its own."""
        found: dict[str, bool] = {}
        for path in (REGISTRY, EXTRA):
            for model in read_json(path)["models"]:
                for param in model["params"]:
                    if param["fieldKey"] == key:
                        label = param.get("label")
                        found[model["endpoint"]] = bool(
                            label and label != key and CJK.search(label)
                        )
        return found

    def test_changing_an_entry_relabels_every_model_using_it(self, refinements: Path) -> None:
        glossary = read_json(refinements / "glossary.json")
        assert glossary["prompt"] != self.NEW
        glossary["prompt"] = self.NEW
        (refinements / "glossary.json").write_text(dumps(glossary), encoding="utf-8")
        relabelled = {
            model_id
            for model_id, own in self.registry_params("prompt").items()
            if not own and "label" not in read_override(refinements, model_id).get("prompt", {})
        }
        own_label = {model_id for model_id, own in self.registry_params("prompt").items() if own}
        assert len(relabelled) > 200
        assert own_label  # a few models keep the label the registry gives them

        specs = build_catalog(Sources(refinements=refinements))

        # Exactly the models whose prompt label comes from the glossary change, and only there.
        changed = {
            spec.id
            for spec in specs
            if dumps(dump_spec(spec)) != (MODELS_DIR / f"{spec.id}.json").read_text("utf-8")
        }
        assert changed == relabelled
        for spec in specs:
            prompt = spec.param("prompt")
            if spec.id in relabelled:
                assert prompt is not None
                assert prompt.label.model_dump() == self.NEW, spec.id
            elif spec.id in own_label:
                assert prompt is not None
                assert prompt.label.model_dump() != self.NEW
                assert (
                    prompt.label.model_dump()
                    == (params_by_name(committed(spec.id))["prompt"]["label"])
                )


class TestTitles:
    NEW = {"zh": "快乐马 1.0 · 文本生成视频", "en": "HappyHorse 1.0 · Video from Text"}  # noqa: RUF012

    def test_every_model_has_a_title_of_its_own(self) -> None:
        titles = read_json(DATA_DIR / "titles.json")
        assert sorted(titles) == sorted(
            path.relative_to(MODELS_DIR).with_suffix("").as_posix()
            for path in MODELS_DIR.rglob("*.json")
        )
        for model_id, title in titles.items():
            assert committed(model_id)["title"] == title, model_id

    def test_changing_an_entry_retitles_only_its_model(self, refinements: Path) -> None:
        assert committed(TARGET)["title"] != self.NEW
        write_titles(refinements, lambda titles: titles.update({TARGET: self.NEW}))

        specs = build_catalog(Sources(refinements=refinements))

        changed = [
            spec
            for spec in specs
            if dumps(dump_spec(spec)) != (MODELS_DIR / f"{spec.id}.json").read_text("utf-8")
        ]
        assert [spec.id for spec in changed] == [TARGET]
        assert changed[0].title.model_dump() == self.NEW
        assert {**dump_spec(changed[0]), "title": committed(TARGET)["title"]} == committed(TARGET)

    def test_without_an_entry_the_registry_name_is_the_title_and_the_check_refuses_it(
        self, refinements: Path, tmp_path: Path
    ) -> None:
        write_titles(refinements, lambda titles: titles.pop(TARGET))
        out = tmp_path / "models"
        shutil.copytree(MODELS_DIR, out)

        result = run_import("--refinements", refinements, "--dir", out)

        assert result.exit_code == 0, result.output
        assert changed_lines(result) == {TARGET_FILE}
        slug = "happyhorse-1.0/text-to-video"  # the registry's name_cn and name_en
        assert read_json(out / TARGET_FILE)["title"] == {"zh": slug, "en": slug}
        check = runner.invoke(app, ["catalog", "check", "--dir", str(out)])
        assert check.exit_code == 1
        assert check.stderr.splitlines() == [
            f"{TARGET_FILE}: title.{lang}: is the model's endpoint path {slug!r}, not a readable"
            " title (add one to titles.json)"
            for lang in ("zh", "en")
        ] + [f"2 defect(s) in {out}"]

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            pytest.param(
                lambda titles: titles.update({"retired/model": {"zh": "旧", "en": "Old"}}),
                "titles.json names models the registry does not have: ['retired/model']",
                id="unknown-model",
            ),
            pytest.param(
                lambda titles: titles.update({TARGET: {"zh": "快乐马"}}),
                f"{TARGET}: 1 validation error for Text\nen\n",
                id="without-english",
            ),
        ],
    )
    def test_a_bad_entry_fails_the_import(
        self,
        refinements: Path,
        tmp_path: Path,
        change: Callable[[dict[str, Any]], object],
        message: str,
    ) -> None:
        write_titles(refinements, change)
        out = tmp_path / "models"

        result = run_import("--refinements", refinements, "--dir", out)

        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(f"import failed: {message}")
        assert not out.exists()


class TestStaleFiles:
    def test_models_dropped_from_the_registry_are_removed(
        self, refinements: Path, tmp_path: Path
    ) -> None:
        folder = "hitem3d-portrait-v15"
        gone = {f"{folder}/image-to-3d.json", f"{folder}/multi-image-to-3d.json"}
        assert {
            p.relative_to(MODELS_DIR).as_posix() for p in (MODELS_DIR / folder).iterdir()
        } == gone
        registry = read_json(REGISTRY)
        kept = [m for m in registry["models"] if not m["endpoint"].startswith(f"{folder}/")]
        assert len(kept) == len(registry["models"]) - 2
        trimmed = tmp_path / "registry.json"
        trimmed.write_text(dumps({**registry, "models": kept}), encoding="utf-8")
        shutil.rmtree(refinements / "overrides" / folder, ignore_errors=True)
        write_titles(
            refinements,
            lambda titles: [
                titles.pop(f"{folder}/{name}") for name in ("image-to-3d", "multi-image-to-3d")
            ],
        )
        out = tmp_path / "models"
        shutil.copytree(MODELS_DIR, out)
        (out / "leftover" / "empty").mkdir(parents=True)

        result = run_import(
            "--registry", trimmed, "--registry", EXTRA, "--refinements", refinements, "--dir", out
        )

        assert result.exit_code == 0, result.output
        assert changed_lines(result) == gone
        assert result.stdout.splitlines()[-1] == f"300 models, 2 file(s) changed in {out}"
        assert not (out / folder).exists()  # the emptied directory goes too
        assert not (out / "leftover").exists()  # and so do directories that were empty
        shipped = tree(MODELS_DIR)
        assert tree(out) == {name: data for name, data in shipped.items() if name not in gone}


class TestBadRefinements:
    @pytest.mark.parametrize(
        ("model_id", "override", "message"),
        [
            pytest.param(
                "retired-vendor/old-model",
                {"title": {"zh": "旧模型", "en": "Old model"}},
                "overrides name models the registry does not have: ['retired-vendor/old-model']",
                id="unknown-model",
            ),
            pytest.param(
                TARGET,
                {"title": {"zh": "快乐马", "en": "HappyHorse"}},
                f"overrides/{TARGET}.json: a title belongs in titles.json",
                id="title-in-an-override",
            ),
            pytest.param(
                TARGET,
                {"params": {"fps": {"group": "basic"}}},
                f"overrides/{TARGET}.json: unknown params ['fps']",
                id="unknown-param",
            ),
            pytest.param(
                TARGET,
                {"params": {"duration": {"type": "int"}}},
                f"overrides for {TARGET}.duration: keys ['type'] cannot be overridden",
                id="param-type",
            ),
            pytest.param(
                TARGET,
                {"params": {"seed": {"min": 5, "label": {"zh": "种子", "en": "Seed"}}}},
                f"overrides for {TARGET}.seed: keys ['min'] cannot be overridden",
                id="param-min",
            ),
            pytest.param(
                TARGET,
                {"provider": "Somebody else"},
                f"overrides for {TARGET}: keys ['provider'] cannot be overridden",
                id="model-provider",
            ),
            pytest.param(
                TARGET,
                {"params": {"resolution": {"choice_labels": {"4k": {"zh": "4K", "en": "4K"}}}}},
                f"{TARGET}.resolution: choice_labels for unknown values",
                id="choice-label-of-unknown-value",
            ),
            pytest.param(
                TARGET,
                {"params": {"prompt": {"choice_labels": {"a": {"zh": "甲", "en": "A"}}}}},
                f"{TARGET}.prompt: choice_labels for unknown values",
                id="choice-label-on-non-enum",
            ),
            pytest.param(
                TARGET,
                {"params": {"resolution": {"choice_labels": {"1080p": {"zh": "全高清"}}}}},
                f"overrides/{TARGET}.json: resolution: 1 validation error for Text\nen\n",
                id="choice-label-without-english",
            ),
            pytest.param(
                TARGET,
                {"params": {"resolution": {"widget": "dial"}}},
                f"overrides/{TARGET}.json: resolution: 1 validation error for ParamSpec\nwidget\n",
                id="unknown-widget",
            ),
        ],
    )
    def test_import_fails_naming_the_problem(
        self,
        refinements: Path,
        tmp_path: Path,
        model_id: str,
        override: dict[str, Any],
        message: str,
    ) -> None:
        write_override(refinements, model_id, override)
        out = tmp_path / "models"

        result = run_import("--refinements", refinements, "--dir", out)

        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit)  # a clean exit, not a traceback
        assert result.stderr.startswith(f"import failed: {message}")
        assert not out.exists()  # nothing is written when the import fails

    def test_build_catalog_raises(self, refinements: Path) -> None:
        write_override(refinements, TARGET, {"params": {"duration": {"max": 30}}})
        with pytest.raises(CatalogImportError, match=r"keys \['max'\] cannot be overridden"):
            build_catalog(Sources(refinements=refinements))
