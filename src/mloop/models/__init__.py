"""Models: packages and flavors, the registry with aliases, governance, evaluation, signing.

Example:
    >>> import mloop
    >>> callable(mloop.models.log_model) and callable(mloop.models.load)
    True
"""

from mloop.models.api import clear_cache as clear_cache
from mloop.models.api import get_model_info as get_model_info
from mloop.models.api import load as load
from mloop.models.api import log_model as log_model
from mloop.models.api import register as register
from mloop.models.api import save as save
from mloop.models.card import model_card as model_card
from mloop.models.card import render_markdown as render_markdown
from mloop.models.evaluation import EvaluationResult as EvaluationResult
from mloop.models.evaluation import evaluate as evaluate
from mloop.models.gates import GateResult as GateResult
from mloop.models.gates import gate as gate
from mloop.models.governance import approve as approve
from mloop.models.governance import decisions as decisions
from mloop.models.governance import gate_results as gate_results
from mloop.models.governance import missing_requirements as missing_requirements
from mloop.models.governance import protect_alias as protect_alias
from mloop.models.governance import protections as protections
from mloop.models.governance import reject as reject
from mloop.models.governance import unprotect_alias as unprotect_alias
from mloop.models.info import ModelInfo as ModelInfo
from mloop.models.integrity import VerifyReport as VerifyReport
from mloop.models.integrity import sign as sign
from mloop.models.integrity import verify as verify
from mloop.models.loaded import LoadedClassifier as LoadedClassifier
from mloop.models.loaded import LoadedModel as LoadedModel
from mloop.models.pyfunc import ModelContext as ModelContext
from mloop.models.pyfunc import PythonModel as PythonModel
from mloop.models.registry import alias_history as alias_history
from mloop.models.registry import archive as archive
from mloop.models.registry import delete_alias as delete_alias
from mloop.models.registry import delete_model as delete_model
from mloop.models.registry import delete_version as delete_version
from mloop.models.registry import get_model as get_model
from mloop.models.registry import get_version as get_version
from mloop.models.registry import list_models as list_models
from mloop.models.registry import list_versions as list_versions
from mloop.models.registry import restore as restore
from mloop.models.registry import rollback as rollback
from mloop.models.registry import set_alias as set_alias
from mloop.models.registry import update_model as update_model
from mloop.models.signature import ColumnSpec as ColumnSpec
from mloop.models.signature import Signature as Signature
from mloop.models.signature import TensorSpec as TensorSpec
from mloop.models.signature import infer_signature as infer_signature
from mloop.models.trust import init_keys as init_keys
from mloop.models.trust import revoke_key as revoke_key
from mloop.models.trust import sign_existing as sign_existing
from mloop.models.trust import trusted_keys as trusted_keys
from mloop.models.trust import unsigned_versions as unsigned_versions

__all__ = [
    "ColumnSpec",
    "EvaluationResult",
    "GateResult",
    "LoadedClassifier",
    "LoadedModel",
    "ModelContext",
    "ModelInfo",
    "PythonModel",
    "Signature",
    "TensorSpec",
    "VerifyReport",
    "alias_history",
    "approve",
    "archive",
    "clear_cache",
    "decisions",
    "delete_alias",
    "delete_model",
    "delete_version",
    "evaluate",
    "gate",
    "gate_results",
    "get_model",
    "get_model_info",
    "get_version",
    "infer_signature",
    "init_keys",
    "list_models",
    "list_versions",
    "load",
    "log_model",
    "missing_requirements",
    "model_card",
    "protect_alias",
    "protections",
    "register",
    "reject",
    "render_markdown",
    "restore",
    "revoke_key",
    "rollback",
    "save",
    "set_alias",
    "sign",
    "sign_existing",
    "trusted_keys",
    "unprotect_alias",
    "unsigned_versions",
    "update_model",
    "verify",
]
