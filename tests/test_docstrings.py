"""Every example in activeq's docstrings runs and prints what it shows."""

import doctest
import importlib
import inspect
import pkgutil

import pytest

import activeq

MODULES = ["activeq"] + sorted(
    name for _, name, _ in pkgutil.walk_packages(activeq.__path__, "activeq.")
    if name != "activeq.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    failed, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failed == 0, f"{failed} docstring example(s) failed in {name}"


@pytest.mark.parametrize("name", activeq.__all__)
def test_every_public_name_has_a_docstring_with_an_example(name):
    # The example itself runs in test_docstring_examples_run, in the module defining the name.
    doc = inspect.getdoc(getattr(activeq, name))
    assert doc, f"activeq.{name} has no docstring"
    assert ">>>" in doc, f"activeq.{name}'s docstring has no runnable example"
