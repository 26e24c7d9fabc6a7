"""The attribute form of a self-service sign-up user flow: which fields it shows and how a
submission is checked against the flow's userAttributeAssignments.

Pure and deterministic: the SignUpWorkflow's Update validator and the page use the same code.
An assignment is Graph's identityUserFlowAttributeAssignment, as kept on the flow, plus
`dataType` (string | int64 | boolean) added when the workflow takes its snapshot of the flow.
"""

import re

from foyer.names import control_character_in_name
from foyer.rules.emails import is_email_address

MAX_STRING = 256
INT64 = (-(2**63), 2**63 - 1)
SELECTS = ("radioSingleSelect", "dropdownSingleSelect")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TRUE = ("true", "on", "yes", "1")
FALSE = ("false", "off", "no", "0", "")
# Built-in attributes with a column on User; every other attribute goes to User.custom_attributes.
USER_COLUMNS = {"displayName": "display_name", "givenName": "given_name", "surname": "surname"}


def attribute_id(assignment: dict) -> str:
    return (assignment.get("userAttribute") or {}).get("id") or assignment.get("id") or ""


def fields(assignments: list[dict]) -> list[dict]:
    """The form's fields in the flow's order; `email` is the verified address, never asked."""
    ordered = sorted(assignments, key=lambda a: a.get("order") or 0)
    return [a for a in ordered if attribute_id(a) and attribute_id(a) != "email"]


def _allowed(assignment: dict) -> list[str]:
    return [str(v.get("value")) for v in assignment.get("userAttributeValues") or []]


def check(assignments: list[dict], values: dict) -> tuple[dict, dict[str, str]]:
    """(clean values typed by dataType, {attribute id: error}) for one submission."""
    clean: dict = {}
    errors: dict[str, str] = {}
    for field in fields(assignments):
        key = attribute_id(field)
        label = field.get("displayName") or key
        kind = field.get("userInputType") or "textBox"
        data_type = field.get("dataType") or "string"
        raw = values.get(key)
        if kind == "checkboxMultiSelect":
            chosen = [str(v) for v in (raw if isinstance(raw, list) else [raw] if raw else [])]
            chosen = [v for v in chosen if v != ""]
            if data_type == "boolean" and not _allowed(field):
                raw = chosen[0] if chosen else "false"
            else:
                if not chosen and not field.get("isOptional"):
                    errors[key] = f"Choose at least one {label}."
                elif any(v not in _allowed(field) for v in chosen):
                    errors[key] = f"Choose {label} from the list."
                elif chosen:
                    clean[key] = ",".join(chosen)
                continue
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        text = "" if raw is None else str(raw).strip()
        if text == "" and data_type != "boolean":
            if not field.get("isOptional"):
                errors[key] = f"Enter {label}."
            continue
        if len(text) > MAX_STRING:
            errors[key] = f"{label} is longer than {MAX_STRING} characters."
        elif control_character_in_name(text):  # these become the user's names, mail subjects
            errors[key] = f"{label} may not hold control characters such as line breaks."
        elif kind in SELECTS and text not in _allowed(field):
            errors[key] = f"Choose {label} from the list."
        elif data_type == "int64":
            try:
                number = int(text)
            except ValueError:
                errors[key] = f"{label} must be a whole number."
                continue
            if not INT64[0] <= number <= INT64[1]:
                errors[key] = f"{label} is out of range."
            else:
                clean[key] = number
        elif data_type == "boolean":
            if text.lower() in TRUE:
                clean[key] = True
            elif text.lower() in FALSE:
                clean[key] = False
            else:
                errors[key] = f"{label} must be yes or no."
        elif kind == "emailBox" and not is_email_address(text):
            errors[key] = f"{label} must be an email address."
        elif kind == "dateTimeDropdown" and not DATE.match(text):
            errors[key] = f"{label} must be a date (YYYY-MM-DD)."
        else:
            clean[key] = text
    return clean, errors


def overwrite(assignments: list[dict], current: dict, overwrites: dict) -> dict:
    """A connector's Continue may overwrite only attributes the flow collects."""
    collected = {attribute_id(a) for a in fields(assignments)}
    return {**current, **{k: v for k, v in (overwrites or {}).items() if k in collected}}
