"""README: Models; docs/models.md."""

import numpy as np
import pandas as pd

import mloop


class Threshold(mloop.models.PythonModel):
    def load_context(self, context: mloop.models.ModelContext) -> None:
        self.cut = float(context.model_config["cut"])

    def predict(self, model_input: pd.DataFrame) -> pd.Series:
        return (model_input["score"] > self.cut).astype(int)


X = np.zeros((10, 2))
df = pd.DataFrame(X, columns=["income", "debt"])
model = Threshold()

with mloop.start_run():
    info = mloop.models.log_model(
        model, "model", input_example=X[:5], registered_model_name="credit"
    )
uri: str = info.model_uri
loaded = mloop.models.load("models:/credit@champion")
predictions = loaded.predict(df)
loaded.predict([{"income": 52.0, "debt": 7.5}])
mloop.models.save(model, "out/credit-model", input_example=X[:5])
mloop.models.get_model_info("runs:/0123/model")

mloop.models.protect_alias(
    "credit",
    "champion",
    approvals=1,
    gates=["roc_auc >= champion.roc_auc - 0.005", "dp_diff <= 0.1"],
)
gate = mloop.models.gate(
    "credit/3",
    against="credit@champion",
    data="credit-holdout@2",
    targets="label",
    rules=["roc_auc >= champion.roc_auc - 0.005"],
    sensitive=["sex"],
)
passed: bool = gate.passed
mloop.models.approve("credit", 3, comment="card reviewed")
mloop.models.reject("credit", 3, comment="fails on thin files")
missing: list[str] = mloop.models.missing_requirements("credit", "champion", 3)
mloop.models.set_alias("credit", "champion", 3)
mloop.models.rollback("credit", "champion")

v = mloop.models.register("runs:/0123/model", "credit")
mloop.models.set_alias("credit", "champion", v.version, reason="beats v2 on May data")
mloop.models.get_version("credit@champion")
mloop.models.list_models()
mloop.models.list_versions("credit")
mloop.models.get_model("credit")
mloop.models.alias_history("credit", "champion")
mloop.models.delete_alias("credit", "challenger")
mloop.models.archive("credit", 2)
mloop.models.restore("credit", 2)
mloop.models.delete_version("credit", 2)
mloop.models.delete_model("old-model")

result = mloop.evaluate(
    "models:/credit@challenger",
    "credit-holdout@3",
    targets="label",
    task="classification",
    slices=["region"],
    sensitive=["sex"],
)
metrics = result.metrics
north = result.slices["region"]["north"]
fairness = result.fairness["sex"]


mloop.models.log_model(Threshold(), "model", model_config={"cut": 0.7})
