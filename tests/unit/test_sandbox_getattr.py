"""DocumentEnvironment.getattr (issue 16: `line.net` without an AttributeError raised and
caught) answers what the sandbox answers: the same item, the same dict method, the same
undefined for a missing or unsafe name, whatever the object."""
from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

import pytest
from jinja2 import StrictUndefined, TemplateRuntimeError
from jinja2.sandbox import SandboxedEnvironment

from docsvc.rendering.environment import DocumentEnvironment, make_environment

LINE = {"net": Decimal("152.70"), "items": "a key named like a dict method", "_private": 1, "__class__": "k",
        "description": "Pose"}


class Line(dict):
    """A dict subclass: left to the sandbox (its attributes are not a plain dict's)."""

    net = "an attribute"


class Item:
    net = Decimal("1")
    _hidden = 2


CASES = [(LINE, name) for name in ("net", "description", "items", "keys", "get", "_private", "__class__",
                                   "__init__", "missing", "mro")]
CASES += [(Line(net=1, other=2), "net"), (Line(other=2), "other"), (OrderedDict(net=3), "net"),
          (Item(), "net"), (Item(), "_hidden"), (Item(), "missing"), ("text", "upper"), ("text", "format"),
          (None, "net"), (3, "real"), ([1, 2], "append")]


def answer(env, obj, name):
    value = env.getattr(obj, name)
    if isinstance(value, StrictUndefined):
        with pytest.raises(TemplateRuntimeError) as raised:  # undefined, or unsafe (SecurityError)
            str(value)
        return ("undefined", str(raised.value), type(raised.value))
    if callable(value):
        return ("callable", getattr(value, "__name__", None), getattr(value, "__self__", None) is obj)
    return ("value", value)


@pytest.mark.parametrize("obj, name", CASES)
def test_getattr_is_the_sandboxes(obj, name):
    ours = make_environment(autoescape=False)
    assert isinstance(ours, DocumentEnvironment)
    theirs = SandboxedEnvironment(undefined=StrictUndefined)
    assert answer(ours, obj, name) == answer(theirs, obj, name)


def test_a_template_reads_items_and_methods_as_before():
    source = "{{ line.net }} {{ line.description }} {{ line.items()|list|length }} {{ line.missing is defined }}"
    for env in (make_environment(autoescape=False), SandboxedEnvironment(undefined=StrictUndefined)):
        # 152.70, the description, the 5 items of LINE (line.items is the method), no "missing"
        assert env.from_string(source).render(line=LINE) == "152.70 Pose 5 False"
