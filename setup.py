"""The optional C part of activeq, the shape walk of a query (``activeq/_speedups.c``).

Everything else is declared in pyproject.toml. Where the extension cannot be built (no C
compiler), installation goes on and activeq runs the same walk in Python
(``activeq.query._py_shape``).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("activeq._speedups", ["activeq/_speedups.c"], optional=True)])
