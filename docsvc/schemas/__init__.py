"""marshmallow schemas: request payloads (load) and resources (dump)."""
