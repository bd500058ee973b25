"""One document, one shape: the API's `document` (schemas/resources.py) must name exactly the
fields of the dataclasses it dumps (billing/model.py, billing/cycle_model.py), at every depth,
so a field added to the model and forgotten in the schema (or the reverse) fails here."""
from __future__ import annotations

import dataclasses
import types
import typing

import pytest
from marshmallow import Schema, fields

from docsvc.billing import cycle_model, model
from docsvc.schemas import resources as out
from docsvc.usecases import results

NAMES = {**vars(model), **vars(cycle_model)}

#: Dataclass fields the API deliberately leaves out of `document`, and why.
NOT_SHOWN: dict[type, set[str]] = {}


def dataclass_of(annotation) -> type | None:
    """The dataclass inside `X`, `X | None` or `tuple[X, ...]`, if any."""
    if dataclasses.is_dataclass(annotation):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) in (typing.Union, tuple):
        for arg in typing.get_args(annotation):
            found = dataclass_of(arg)
            if found is not None:
                return found
    return None


def nested_schema(field: fields.Field) -> Schema | None:
    if isinstance(field, fields.List):
        field = field.inner
    if isinstance(field, fields.Nested):
        return field.schema
    return None


def pairs(schema: Schema, cls: type, path: str = "document"):
    """(path, schema, dataclass) for the schema and every nested schema, with the dataclass it dumps."""
    yield path, schema, cls
    hints = typing.get_type_hints(cls, globalns=NAMES, localns=NAMES)  # a field named `date` shadows the type
    for name, field in schema.fields.items():
        inner = nested_schema(field)
        target = dataclass_of(hints[name]) if name in hints else None
        if inner is not None and target is not None:
            yield from pairs(inner, target, f"{path}.{name}")


ALL_PAIRS = list(pairs(out.DocumentSchema(), model.Document))


def test_the_walk_reaches_every_part_of_a_document():
    # Document, its parties and addresses, lines, VAT rows, totals, payment terms, and the
    # cycle's recaps: a walk that stopped early would check nothing
    reached = {cls.__name__ for _, _, cls in ALL_PAIRS}
    assert {"Document", "Party", "Address", "PricedLine", "VatRow", "Totals", "PaymentTerms", "QuoteSummary",
            "DepositRecap", "ProgressRecap", "ProgressRow", "Deduction", "DepositShare", "FinalRecap",
            "RetentionHeld", "VatByDifference", "Installment", "PreviousInvoice", "VatPart",
            "InvoiceReference", "Settlement", "Exemption", "Mention"} <= reached


@pytest.mark.parametrize("path, schema, cls", ALL_PAIRS, ids=[p for p, _, _ in ALL_PAIRS])
def test_the_output_schema_names_exactly_the_dataclass_fields(path, schema, cls):
    shown = set(schema.fields)
    kept = {f.name for f in dataclasses.fields(cls)} - NOT_SHOWN.get(cls, set())
    assert shown - kept == set(), f"{path}: the schema shows fields {cls.__name__} doesn't have"
    assert kept - shown == set(), f"{path}: {cls.__name__} has fields the API never shows"


def test_the_resource_schema_names_exactly_the_resource_fields():
    resource = set(typing.get_type_hints(results.Resource))
    assert set(out.DocumentResourceSchema().fields) == resource
    # a file's storage key and version stay inside: the API gives its URL instead
    file_record = set(typing.get_type_hints(results.FileRecord)) - {"key", "version"}
    assert set(out.FileOut().fields) == file_record
    check = set(typing.get_type_hints(results.FileCheck))
    assert set(out.FileCheckOut().fields) == check
    assert set(out.VerifyReportSchema().fields) == set(typing.get_type_hints(results.VerifyReport))
