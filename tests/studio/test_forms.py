"""Every model of the catalog renders its form in the browser: one labelled control per param,
the widget the schema asks for, no error on the page; and nothing is sent that the user cannot
see: a fresh form sends its required params only, each from a visible control."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from aipaint.catalog.service import Catalog
from tests.studio.conftest import Stack

SHOWN = "id => document.querySelector('.model-head code')?.textContent === id"
# Read from the rendered page in one call per model: what each field holds.
INSPECT = """() => [...document.querySelectorAll(".model-form .field[data-param]")].map((field) => {
  const controls = field.querySelectorAll("[data-control]");
  const label = field.querySelector(".field-label");
  const target = label.htmlFor ? document.getElementById(label.htmlFor) : null;
  return {
    param: field.dataset.param,
    widget: field.dataset.widget,
    controls: controls.length,
    control: controls[0] ? controls[0].dataset.control : null,
    label: label.textContent,
    labelled: Boolean(target) || Boolean(field.querySelector(`[aria-labelledby="${label.id}"]`)),
    required: Boolean(field.querySelector(".required")),
  };
})"""


# What a submit would send, as copy-as-code shows it (built by the same function as the submit),
# and whether the control of each of those params can be seen.
SENT = """() => {
  const curl = document.querySelector('pre[data-snippet="curl"]').textContent;
  const start = curl.indexOf("--data-raw '") + "--data-raw '".length;
  const body = JSON.parse(curl.slice(start, -1).replaceAll("'\\\\''", "'"));
  const shown = {};
  for (const name of Object.keys(body.params)) {
    const field = document.querySelector(`.model-form .field[data-param="${CSS.escape(name)}"]`);
    const control = field && field.querySelector("[data-control]");
    if (!control) { shown[name] = "no field"; continue; }
    const box = control.getBoundingClientRect();
    shown[name] = control.checkVisibility({ visibilityProperty: true })
      && !control.closest("details:not([open])") && box.width > 0 && box.height > 0;
  }
  return { model: body.model, params: body.params, shown };
}"""
PROMPT_LIKE = re.compile(r"prompt|^text$|lyrics", re.IGNORECASE)


def layout(schema: dict[str, Any]) -> list[str]:
    """The order of the fields: prompt-like first, then every basic or required one, then the
    advanced ones."""
    properties = schema["properties"]

    def section(name: str) -> int:
        prop = properties[name]
        if prop["x-widget"] in ("text", "textarea") and PROMPT_LIKE.search(name):
            return 0
        if name in schema["required"] or prop["x-group"] != "advanced":
            return 1
        return 2

    return sorted(
        schema["x-order"], key=lambda name: (section(name), schema["x-order"].index(name))
    )


def param_type(prop: dict[str, Any]) -> str:
    """The catalog's param type a JSON Schema property stands for."""
    many = prop.get("type") == "array"
    item = prop["items"] if many else prop
    if "x-media" in item:
        name = f"{item['x-media']}_url"
    elif "enum" in item:
        name = "enum"
    else:
        name = {"integer": "int", "number": "float", "boolean": "bool"}.get(item["type"], "string")
    return f"{name}_list" if many else name


def test_every_catalog_model_renders_one_control_per_param(
    page: Page, stack: Stack, catalog: Catalog
) -> None:
    models = stack.get("/v1/models")["models"]
    assert len(models) == len(catalog)
    rendered: set[tuple[str, str]] = set()
    http = stack.server.http()
    for model in models:
        schema = http.get(f"/v1/models/{model['id']}").json()["schema"]
        page.evaluate("id => { location.hash = '#/m/' + id; }", model["id"])
        page.wait_for_function(SHOWN, arg=model["id"], polling="raf")
        fields = page.evaluate(INSPECT)

        properties = schema["properties"]
        assert [f["param"] for f in fields] == layout(schema), model["id"]
        for found in fields:
            prop = properties[found["param"]]
            where = f"{model['id']}#{found['param']}"
            assert found["controls"] == 1, where
            assert found["control"] == found["param"], where
            assert found["widget"] == prop["x-widget"], where
            assert found["labelled"], where
            assert found["label"].startswith(prop["x-label"]["en"]), where
            assert found["required"] == (found["param"] in schema["required"]), where
            rendered.add((found["widget"], param_type(prop)))
        # Models whose params RunningHub does not publish get a JSON editor instead.
        raw = page.locator(".raw-params textarea")
        expect(raw).to_have_count(1 if schema["additionalProperties"] else 0)

        # Untouched, the form sends required params only, each shown; a required choice starts
        # at a value (its default or first choice), never at "nothing selected".
        sent = page.evaluate(SENT)
        assert sent["model"] == model["id"]
        assert set(sent["params"]) <= set(schema["required"]), model["id"]
        assert all(shown is True for shown in sent["shown"].values()), (model["id"], sent)
        for name in schema["required"]:
            prop = properties[name]
            if "enum" in prop:
                assert sent["params"][name] == prop.get("default", prop["enum"][0]), name
            elif prop.get("type") == "boolean":
                assert sent["params"][name] == prop.get("default", False), name

    http.close()
    # Every pairing of widget and param type in the catalog's files was rendered.
    assert rendered == {(p.widget.value, p.type.value) for s in catalog.search() for p in s.params}
    assert {widget for widget, _ in rendered} == {
        "text",
        "textarea",
        "select",
        "segmented",
        "slider",
        "number",
        "switch",
        "upload",
    }
