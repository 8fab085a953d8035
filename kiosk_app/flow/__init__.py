"""The kiosk's visitor flow as a pure state machine: no Qt, no I/O, time passed in.

Screens: language -> procedures -> (optional prefill: scan a code) -> confirm -> issuing ->
ticket -> back to language. From confirm, a procedure with request forms offers the MyNumber card
(書かない窓口): form -> insert card -> consent -> PIN (tries left shown first) -> reading ->
request form (card items prefilled, the rest picked by touch) -> issuing.

Every visitor action is a method that takes the current monotonic time and returns the commands
the shell must run (issue a ticket, verify a code, print a slip, talk to the card); their outcomes
come back as other methods. The UI only renders `Flow.state`. Card data lives only in the
prefill (never in a command's repr) and is wiped on completion, timeout and card removal.

A plain ticket takes two taps after the language (procedure, then "issue"), under the issue's
limit of three. An idle visitor is returned to the start with everything they entered wiped
(language, choice, prefilled data, display preferences): the next visitor must not see it.
The kiosk never makes up a number: without the server there is a notice, not a ticket.

The package: `model` holds the data (screens, procedures, forms, commands, state), `machine`
the `Flow`, and `card` its MyNumber card steps. Callers import from here.
"""

from kiosk_app.flow.machine import Flow
from kiosk_app.flow.model import (
    CARD_FAILURES,
    CARD_SCREENS,
    CODE_ERRORS,
    LANGUAGES,
    PRIORITIES,
    Category,
    CheckCard,
    Command,
    FormChoice,
    FormField,
    IssueTicket,
    Notice,
    Preferences,
    Prefill,
    Printing,
    PrintTicket,
    ReadCardTries,
    ReleaseCard,
    RequestForm,
    Screen,
    State,
    Timeouts,
    VerifyAndReadCard,
    VerifyCode,
    fiscal_year,
    label,
    offered_languages,
)

__all__ = [
    "CARD_FAILURES",
    "CARD_SCREENS",
    "CODE_ERRORS",
    "LANGUAGES",
    "PRIORITIES",
    "Category",
    "CheckCard",
    "Command",
    "Flow",
    "FormChoice",
    "FormField",
    "IssueTicket",
    "Notice",
    "Preferences",
    "Prefill",
    "PrintTicket",
    "Printing",
    "ReadCardTries",
    "ReleaseCard",
    "RequestForm",
    "Screen",
    "State",
    "Timeouts",
    "VerifyAndReadCard",
    "VerifyCode",
    "fiscal_year",
    "label",
    "offered_languages",
]
