"""Alias of :mod:`deeplasso.data` so that ``deeplasso.datasets.load(...)`` works.

Everything public in :mod:`deeplasso.data` is re-exported here; see that
module (and ``docs/data.md``) for the documentation.
"""

from .data import *  # noqa: F401,F403
from .data import __all__  # noqa: F401
