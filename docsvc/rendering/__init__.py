"""Templates and engines: versioned bundles rendered to PDF (WeasyPrint) and DOCX (docxtpl)."""
from .bundle import Bundle
from .context import render_context
from .errors import AssetRefused, RenderError, TemplateNotFound, UnsupportedFormat
from .registry import TemplateRegistry

__all__ = ["AssetRefused", "Bundle", "RenderError", "TemplateNotFound", "TemplateRegistry", "UnsupportedFormat",
           "render_context"]
