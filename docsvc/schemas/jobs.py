"""Batch and job resources, dumped through these schemas so the OpenAPI document cannot drift."""
from __future__ import annotations

from marshmallow import Schema, fields

from .resources import DocumentResourceSchema

Errors = lambda **kw: fields.Dict(keys=fields.String(), values=fields.List(fields.String()),  # noqa: E731
                                  allow_none=True, **kw)


class PrintOptionsSchema(Schema):
    duplex = fields.Boolean(metadata={"description": "a blank page after each document with an odd page count"})
    order = fields.String(metadata={"enum": ["as_given", "buyer", "number"]})
    separator = fields.Boolean(metadata={"description": "a separator sheet before each document"})


class BatchCountsSchema(Schema):
    queued = fields.Integer()
    done = fields.Integer(metadata={"description": "201 or 200"})
    refused = fields.Integer(metadata={"description": "403, 409 or 422"})
    failed = fields.Integer(metadata={"description": "5xx: the archive stayed down, a time limit, a crash"})


class BatchDocumentSchema(Schema):
    index = fields.Integer()
    number = fields.String(allow_none=True)
    status = fields.Integer(allow_none=True, metadata={
        "description": "what POST /v1/documents would have answered; null while queued"})
    id = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    errors = Errors()


class PrintFileSchema(Schema):
    pages = fields.Integer()
    size = fields.Integer()
    documents = fields.List(fields.String(), metadata={"description": "document ids, in print order"})
    starts = fields.List(fields.Integer(), metadata={"description": "page where each document starts"})
    expires = fields.String(metadata={"description": "kept until then; made again on request afterwards"})
    url = fields.String()


class BatchSchema(Schema):
    id = fields.String()
    state = fields.String(metadata={"enum": ["queued", "running", "done"]})
    created_at = fields.String()
    print_options = fields.Nested(PrintOptionsSchema)
    counts = fields.Nested(BatchCountsSchema)
    print = fields.Nested(PrintFileSchema, allow_none=True)
    documents = fields.List(fields.Nested(BatchDocumentSchema), metadata={"description": "in the order given"})


class JobSchema(Schema):
    id = fields.String()
    state = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    status = fields.Integer(allow_none=True)
    document = fields.Nested(DocumentResourceSchema, allow_none=True)
    errors = Errors()
    created_at = fields.String()
