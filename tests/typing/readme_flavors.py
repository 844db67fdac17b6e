"""docs/flavors.md: MLflow's flavor modules."""

from typing import Any

import pandas as pd

import mloop
import mloop.pyfunc
import mloop.sklearn

X = pd.DataFrame({"income": [20.0, 80.0], "debt": [9.0, 1.0]})
clf: Any = object()  # a fitted estimator

with mloop.start_run():
    info = mloop.sklearn.log_model(
        clf, name="model", input_example=X[:5], registered_model_name="credit"
    )
uri: str = info.model_uri
number: int | None = info.registered_model_version
flavors: dict[str, dict[str, Any]] = info.flavors

mloop.models.set_alias("credit", "champion", 1)
estimator: Any = mloop.sklearn.load_model("models:/credit@champion")
model: mloop.pyfunc.PyFuncModel = mloop.pyfunc.load_model(info.model_uri)
prediction: Any = model.predict(X, params={"factor": 2})
signature: mloop.models.Signature | None = model.metadata.signature
team: Any = model.metadata.get("team")
mloop.sklearn.save_model(clf, "out/credit-model", pip_requirements=["scikit-learn>=1.4"])
again: Any = mloop.lightgbm.load_model(info)  # reachable after a plain `import mloop`


class Doubler(mloop.pyfunc.PythonModel):
    def predict(
        self, context: mloop.pyfunc.PythonModelContext, model_input: Any, params: Any = None
    ) -> Any:
        return model_input * 2


with mloop.start_run():
    logged = mloop.pyfunc.log_model(
        name="doubler", python_model=Doubler(), code_paths=["doubler.py"]
    )
