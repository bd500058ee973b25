"""What can go wrong between a template and a document."""


class RenderError(Exception):
    """A template failed to render a document."""


class TemplateNotFound(RenderError):
    def __init__(self, name: str, version: str | None):
        super().__init__(f"no template {name}" + (f" {version}" if version else ""))
        self.name, self.version = name, version


class UnsupportedFormat(RenderError):
    pass


class AssetRefused(RenderError):
    """A template asked for something outside its own bundle (file://, http, ../)."""
