from __future__ import annotations

from aipaint.catalog.examples import broken_params, sample_params
from aipaint.catalog.service import Catalog
from aipaint.catalog.validation import validate_params


def test_every_example_is_valid(catalog: Catalog) -> None:
    for spec in catalog.search():
        assert validate_params(spec, sample_params(spec)) == [], spec.id


def test_every_broken_example_is_refused(catalog: Catalog) -> None:
    for spec in catalog.search():
        if spec.params_published:
            assert validate_params(spec, broken_params(spec)), spec.id
