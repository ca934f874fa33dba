"""Every example in activeq's docstrings runs and prints what it shows."""

import doctest
import importlib
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
