"""Logs of `foyer api` and `foyer worker`: the standard library's logging, one handler on the root
logger (uvicorn's loggers propagate to it), text or JSON (FOYER_LOG_FORMAT), and two filters on
that handler that every record passes, whichever logger made it:

- ContextFilter adds what is known where the record was made: `request_id` (the API's
  X-Request-ID, see api/request_id.py), `trace_id` and `span_id` (the current OpenTelemetry span,
  when tracing is on), and inside Temporal code `workflow_id`, `run_id`, `workflow_type`,
  `activity_type`, `activity_id`, `attempt` (from the SDK's own `temporal_activity` /
  `temporal_workflow` extras, else from activity.info());
- RedactionFilter, a net under "never log a secret": the message and the extras are rewritten so
  that no passcode, bearer or basic credential, link token (the /redeem/<token> path uvicorn's
  access log prints), password, secret, signature or key value survives.

Nothing here imports Foyer: the CLI hands in the format and level (foyer.settings).
"""

import contextvars
import datetime
import json
import logging
import logging.config
import re
import sys
from typing import Any

# The API's request id, set per request by api.request_id.RequestId.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("foyer_request_id", default=None)

REDACTED = "[REDACTED]"

# Names whose values are secrets wherever they appear: an extra's key, "name=value",
# "name: value", '"name": "value"'.
_SECRET_NAMES = (r"passcode|password|passwd|secret|token|api[_-]?key|apikey|authorization|cookie|"
                 r"signature|sig|code|otp|nonce|pkcs12value|client[_-]?secret|private[_-]?key|credentials?")
_SECRET_KEY = re.compile(rf"(?i)^(?:.*[_-])?(?:{_SECRET_NAMES}|secret[_-]?key|key)$")
_PATTERNS = [
    # Authorization header values, wherever they are written.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), rf"\1 {REDACTED}"),
    # The redemption link's token (uvicorn's access log prints the path).
    (re.compile(r"(/redeem/)[^/\s?#\"']+"), rf"\1{REDACTED}"),
    # name=value (query strings, forms, key=value logs) and "name": "value" / name: value.
    (re.compile(rf"(?i)(\b[\w-]*(?:{_SECRET_NAMES}|secret[_-]?key)[\"']?\s*[=:]\s*[\"']?)([^\s\"'&,;}}]+)"), rf"\1{REDACTED}"),
    # "code 12345678", "passcode is 12345678", "OTP: 1234".
    (re.compile(r"(?i)\b((?:pass)?code|otp)(\s+(?:is\s+)?)(\d{4,10})\b"), rf"\1\2{REDACTED}"),
    # X-Foyer-Signature values: t=<unix>,v1=<hex>.
    (re.compile(r"(?i)\bv1=[0-9a-f]{16,}"), f"v1={REDACTED}"),
]
# Record attributes logging itself sets: never rewritten, never copied into the JSON as extras.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Extras not worth a key: the SDK's own dicts (flattened into the context keys; the core's log
# fields are in the message already) and uvicorn's coloured copy of the message.
_DROPPED = {"temporal_workflow", "temporal_activity", "temporal_log", "color_message"}
_CONTEXT = ("request_id", "trace_id", "span_id", "workflow_id", "run_id", "workflow_type",
            "activity_type", "activity_id", "attempt")


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(key: str, value: Any) -> Any:
    if _SECRET_KEY.match(str(key)):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact_value("", v) for v in value)
    return value


class RedactionFilter(logging.Filter):
    """Rewrites the record's message (formatted once, then fixed), its exception text and its
    extras so no secret is written. It never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose args do not fit its format: keep it, shown raw
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            record.exc_info = None  # the redacted text is what gets written
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and key not in _CONTEXT:
                setattr(record, key, _redact_value(key, value))
        return True


def _temporal_details(record: logging.LogRecord) -> dict:
    details = {}
    workflow = getattr(record, "temporal_workflow", None)
    if isinstance(workflow, dict):
        details.update(workflow_id=workflow.get("workflow_id"), run_id=workflow.get("run_id"),
                       workflow_type=workflow.get("workflow_type"))
    activity = getattr(record, "temporal_activity", None)
    if not isinstance(activity, dict):
        module = sys.modules.get("temporalio.activity")
        if module is not None and module.in_activity():
            info = module.info()
            activity = {"workflow_id": info.workflow_id, "workflow_run_id": info.workflow_run_id,
                        "workflow_type": info.workflow_type, "activity_type": info.activity_type,
                        "activity_id": info.activity_id, "attempt": info.attempt}
    if isinstance(activity, dict):
        details.update(workflow_id=activity.get("workflow_id"), run_id=activity.get("workflow_run_id"),
                       workflow_type=activity.get("workflow_type"), activity_type=activity.get("activity_type"),
                       activity_id=activity.get("activity_id"), attempt=activity.get("attempt"))
    return {k: v for k, v in details.items() if v is not None}


class ContextFilter(logging.Filter):
    """Adds request id, trace and span id and the Temporal ids to every record (see above)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None and (rid := request_id.get()) is not None:
            record.request_id = rid
        trace = sys.modules.get("opentelemetry.trace")  # imported only when tracing is on
        if trace is not None and getattr(record, "trace_id", None) is None:
            context = trace.get_current_span().get_span_context()
            if context.is_valid:
                record.trace_id = format(context.trace_id, "032x")
                record.span_id = format(context.span_id, "016x")
        for key, value in _temporal_details(record).items():
            if getattr(record, key, None) is None:
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the context keys
    present, the record's other extras, and the exception text."""

    def __init__(self, service: str = "foyer", **kwargs):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
        }
        for key in _CONTEXT:
            if (value := getattr(record, key, None)) is not None:
                entry[key] = value
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _CONTEXT and key not in entry \
                    and key not in _DROPPED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The classic line, with the request, trace and workflow ids appended when known."""

    def __init__(self, **kwargs):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        known = [f"{key}={getattr(record, key)}" for key in ("request_id", "trace_id", "workflow_id", "run_id",
                                                           "activity_type") if getattr(record, key, None)]
        if not known:
            return line
        first, newline, rest = line.partition("\n")
        return f"{first} [{' '.join(known)}]{newline}{rest}"


def dict_config(log_format: str = "text", level: str = "info", service: str = "foyer") -> dict:
    """A logging.config.dictConfig for a Foyer process: one stderr handler on the root logger with
    both filters; uvicorn's loggers (which uvicorn.run configures from this, in every worker
    process) propagate to it instead of having handlers of their own."""
    formatter = {"()": JsonFormatter, "service": service} if log_format == "json" else {"()": TextFormatter}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}, "redact": {"()": RedactionFilter}},
        "formatters": {"foyer": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "foyer", "filters": ["context", "redact"]}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {name: {"handlers": [], "propagate": True, "level": level.upper()}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def configure(log_format: str = "text", level: str = "info", service: str = "foyer") -> None:
    """Apply dict_config (the worker; the API hands it to uvicorn.run as log_config)."""
    logging.config.dictConfig(dict_config(log_format, level, service))
