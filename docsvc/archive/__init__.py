"""The archive port and its adapters: originals are written once and never replaced."""
from .port import AlreadyExists, Archive, ArchiveUnavailable, DerivedObject, NotFound, StoredObject

__all__ = ["AlreadyExists", "Archive", "ArchiveUnavailable", "DerivedObject", "NotFound", "StoredObject"]
