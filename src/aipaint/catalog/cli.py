"""Catalog commands: `aipaint models [show]`, `aipaint catalog import | check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aipaint.catalog.errors import CatalogInvalid, ModelNotFound
from aipaint.catalog.importer import CatalogImportError, Sources, build_catalog, write_catalog
from aipaint.catalog.loader import read_specs
from aipaint.catalog.schemas import ModelSpec, ParamSpec, Price, PriceKind
from aipaint.catalog.service import Catalog
from aipaint.config import get_settings
from aipaint.i18n import Lang

models_app = typer.Typer(help="Browse the model catalog.", no_args_is_help=False)
catalog_app = typer.Typer(help="Maintain the catalog data files.", no_args_is_help=True)

LangOption = Annotated[str, typer.Option("--lang", help="Label language: en or zh")]
DirOption = Annotated[
    Path | None, typer.Option("--dir", help="Catalog directory (default: AIPAINT_CATALOG_DIR)")
]


def _console() -> Console:
    return Console(soft_wrap=False)


def _lang(value: str) -> Lang:
    if value not in ("en", "zh"):
        raise typer.BadParameter("use en or zh", param_hint="--lang")
    return "zh" if value == "zh" else "en"


def _load(directory: Path | None) -> Catalog:
    try:
        return Catalog.load(directory or get_settings().catalog_dir)
    except CatalogInvalid as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


@models_app.callback(invoke_without_command=True)
def list_models(
    ctx: typer.Context,
    category: Annotated[str | None, typer.Option(help="Only this category")] = None,
    search: Annotated[str | None, typer.Option(help="Words to find in id or title")] = None,
    lang: LangOption = "en",
) -> None:
    """List catalog models (or `aipaint models show ID` for one)."""
    if ctx.invoked_subcommand is not None:
        return
    language = _lang(lang)
    catalog = _load(None)
    found = catalog.search(category, search)
    table = Table("id", "title", "category", "output", "price", title=f"{len(found)} models")
    for spec in found:
        table.add_row(
            spec.id,
            spec.title.get(language),
            spec.category,
            spec.output_type,
            price_text(spec.price),
        )
    _console().print(table)


@models_app.command("show")
def show_model(
    model_id: Annotated[
        str, typer.Argument(help="Model id, e.g. rhart-video/ltx-2.3/text-to-video")
    ],
    lang: LangOption = "en",
) -> None:
    """Print one model's parameters as a table."""
    language = _lang(lang)
    catalog = _load(None)
    try:
        spec = catalog.get(model_id)
    except ModelNotFound as exc:
        typer.echo(exc.message.get(language), err=True)
        raise typer.Exit(1) from None
    console = _console()
    console.print(f"[bold]{spec.id}[/bold]  {spec.title.get(language)}")
    console.print(
        f"category {spec.category} · provider {spec.provider} · output {spec.output_type}"
        f" · price {price_text(spec.price)}"
    )
    if not spec.params_published:
        console.print(
            "RunningHub publishes no parameters for this model; any params are passed on."
        )
        return
    table = Table("param", "type", "required", "label", "allowed", "default")
    for param in sorted(spec.params, key=lambda p: p.order):
        table.add_row(
            param.name,
            param.type.value,
            "yes" if param.required else "",
            param.label.get(language),
            allowed_text(param),
            "" if param.default is None else repr(param.default),
        )
    console.print(table)


def price_text(price: Price) -> str:
    if price.kind is PriceKind.UNKNOWN:
        return "unknown"
    label = price.unit_label.en if price.unit_label else ""
    prefix = "from " if price.minimum else ""
    if price.kind is PriceKind.FIXED:
        return f"{prefix}{price.amount} {price.currency} {label}"
    amounts = [rule.amount for rule in price.rules or []]
    depends = ", ".join(price.depends_on or [])
    return f"{prefix}{min(amounts)}–{max(amounts)} {price.currency} {label} by {depends}"


def allowed_text(param: ParamSpec) -> str:
    parts: list[str] = []
    if param.choices:
        parts.append(" | ".join(c.value for c in param.choices))
    if param.min is not None or param.max is not None:
        parts.append(
            f"{'' if param.min is None else param.min}..{'' if param.max is None else param.max}"
        )
    if param.step is not None:
        parts.append(f"step {param.step}")
    if param.length_limit is not None:
        parts.append(f"≤ {param.length_limit} chars")
    if param.max_items is not None:
        parts.append(f"≤ {param.max_items} items")
    if param.max_size_mb is not None:
        parts.append(f"≤ {param.max_size_mb:g} MB")
    if param.accept:
        parts.append("/".join(param.accept))
    return ", ".join(parts)


@catalog_app.command("check")
def check(directory: DirOption = None) -> None:
    """Validate every catalog file; exit 1 naming the file and field of each defect."""
    root = directory or get_settings().catalog_dir
    specs, defects = read_specs(root)
    for defect in defects:
        typer.echo(str(defect), err=True)
    if defects:
        typer.echo(f"{len(defects)} defect(s) in {root}", err=True)
        raise typer.Exit(1)
    typer.echo(f"ok: {len(specs)} models in {root}")


@catalog_app.command("import")
def import_(
    registry: Annotated[
        list[Path] | None, typer.Option(help="Registry file(s) in RunningHub's format")
    ] = None,
    pricing: Annotated[Path | None, typer.Option(help="pricing.public.json")] = None,
    refinements: Annotated[
        Path | None,
        typer.Option(help="Folder of titles, categories, glossary, translations, overrides"),
    ] = None,
    directory: DirOption = None,
) -> None:
    """Rebuild the catalog files from the registry, keeping every hand-made refinement."""
    defaults = Sources()
    sources = Sources(
        registries=tuple(registry) if registry else defaults.registries,
        pricing=pricing or defaults.pricing,
        refinements=refinements or defaults.refinements,
    )
    root = directory or get_settings().catalog_dir
    try:
        specs: list[ModelSpec] = build_catalog(sources)
    except CatalogImportError as exc:
        typer.echo(f"import failed: {exc}", err=True)
        raise typer.Exit(1) from None
    changed = write_catalog(specs, root)
    for path in changed:
        typer.echo(f"changed {path.relative_to(root).as_posix()}")
    typer.echo(f"{len(specs)} models, {len(changed)} file(s) changed in {root}")
