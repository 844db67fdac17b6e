"""Data: dataset versions stored by content, addressed as ``name@version`` or ``name@tag``.

Example:
    >>> import mloop
    >>> callable(mloop.data.add)
    True
"""

from mloop.data.api import Dataset as Dataset
from mloop.data.api import add as add
from mloop.data.api import datasets as datasets
from mloop.data.api import detect_pii as detect_pii
from mloop.data.api import diff as diff
from mloop.data.api import get as get
from mloop.data.api import infer_suite as infer_suite
from mloop.data.api import lineage as lineage
from mloop.data.api import remove as remove
from mloop.data.api import tag as tag
from mloop.data.api import validate as validate
from mloop.data.api import validations as validations
from mloop.data.api import versions as versions
from mloop.data.expectations import Expectation as Expectation
from mloop.data.expectations import ExpectationSuite as ExpectationSuite

__all__ = [
    "Dataset",
    "Expectation",
    "ExpectationSuite",
    "add",
    "datasets",
    "detect_pii",
    "diff",
    "get",
    "infer_suite",
    "lineage",
    "remove",
    "tag",
    "validate",
    "validations",
    "versions",
]
