"""Recognition: which association earns what for each customer, solution area and metric, and
why it does not count for us. The rulebook and SKU table ship as data with their schemas;
``credit.evaluate`` is the pure evaluator.
"""

from agent.recognition.credit import CreditLine, Reason, Remedy, evaluate
from agent.recognition.holdings import Holding, Us, Whose
from agent.recognition.load import RulebookError, check_override, load_rulebook
from agent.recognition.model import Association, Rulebook
from agent.recognition.stake import Stake, Unit

__all__ = [
    "Association",
    "CreditLine",
    "Holding",
    "Reason",
    "Remedy",
    "Rulebook",
    "RulebookError",
    "Stake",
    "Unit",
    "Us",
    "Whose",
    "check_override",
    "evaluate",
    "load_rulebook",
]
