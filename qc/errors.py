class RuleViolation(Exception):
    """A GMP rule forbids the action. The message says why and what would make it possible."""

    def __init__(self, message: str, *, code: str = "rule_violation"):
        super().__init__(message)
        self.message = message
        self.code = code
