"""Root pytest configuration: lets ``--doctest-modules`` collect the package's doctests.

Importing Brian2 replaces pytest's ``DoctestModule`` with a subclass that
fails on package ``__init__`` modules (brian2/tests/__init__.py); the
package's modules import Brian2 while they are collected, so the original
class is put back here, once Brian2 has been imported.
"""

from _pytest import doctest as _pytest_doctest

_DOCTEST_MODULE = _pytest_doctest.DoctestModule

import brian2.tests  # noqa: E402, F401  (the import that replaces the class)

_pytest_doctest.DoctestModule = _DOCTEST_MODULE
