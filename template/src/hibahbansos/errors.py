"""Every domain error of the app, in one place.

The CLI turns these into `Error: ...` lines (exit 1); the web views into a message on the
page. Messages never contain personal data (NIK, KK, phone numbers, addresses).
"""

from __future__ import annotations


class HibahBansosError(Exception):
    """Base of every error the user can act on; the message says what to do."""


class ConfigError(HibahBansosError):
    """The instance is misconfigured: region.yml, data folder or secrets."""


class NotAllowed(HibahBansosError):
    """The current user's role or OPD scope does not permit the action."""


class RuleViolation(HibahBansosError):
    """A business rule refused an action; `rule` names the rule for the user and the tests."""

    def __init__(self, rule: str, message: str):
        self.rule = rule
        super().__init__(message)


class AuditChainBroken(HibahBansosError):
    """The audit log was edited, had rows inserted or removed."""


class InvalidInput(HibahBansosError):
    """A value given by the user is missing or wrong; `field` names the form field for the page."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)
