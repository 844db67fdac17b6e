"""README: Data; docs/data.md."""

from pathlib import Path

import pandas as pd
import pyarrow as pa

import mloop
from mloop.data import Dataset, ExpectationSuite

v = mloop.data.add("data/credit/", name="credit", tags=["raw"], description="Nov drop")
ref: str = v.ref
same: str = mloop.data.add("data/credit/", name="credit").ref
local: Path = mloop.data.get("credit@raw").path
with mloop.start_run():
    mloop.log_input(mloop.data.get("credit@latest"), context="training")

ds: Dataset = mloop.data.get("credit@raw")
ds.copy_to("out/")
frame: pd.DataFrame = ds.to_pandas()
table: pa.Table = ds.to_arrow()
mloop.data.tag("credit@2", "prod")
mloop.data.versions("credit")
mloop.data.datasets()
mloop.data.remove("credit@1")

suite = ExpectationSuite.from_yaml("suite.yaml")
result = mloop.data.validate("credit@latest", suite)
passed: bool = result.success
examples = result.failed[0].examples

mloop.data.detect_pii(frame)
mloop.data.add("people.csv", name="people", pseudonymize=["email", "card"])
mloop.data.add("people.csv", name="people", pseudonymize=["email"], mask=True)
