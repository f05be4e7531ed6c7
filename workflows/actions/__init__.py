"""The actions workflows run, as a registry: one small class per action type."""

from workflows.actions import messages as _messages  # noqa: F401
from workflows.actions import records as _records  # noqa: F401  (registers its actions)
from workflows.actions.base import Action, ActionContext, ActionError, actions, register

__all__ = ["Action", "ActionContext", "ActionError", "actions", "register"]
