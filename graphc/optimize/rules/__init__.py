"""The rewrite rules, one module per pass, and their registry (base.py): each rule names
its op, its pass and itself. A rule sees the graph being built (a ``RuleView``) and a
node about to be added (its op, operands already rewritten, and params); it returns an
existing node to use instead, a new ``(op, args, params)`` to build instead, or None.
The modules register their rules in the order imported here, the order in which an
op's rules are tried (it decides the emitted code)."""

# isort: off
from . import identities, reassociate, broadcasts, stable  # noqa: F401
# isort: on
from .base import RULES, Reader, Rewrite, Rule, RuleView, const_value, rule, sign_of

__all__ = ["RULES", "Reader", "Rewrite", "Rule", "RuleView", "const_value", "rule", "sign_of"]
