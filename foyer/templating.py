"""One Jinja2 environment for every page and every email."""

from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from foyer.settings import PROJECT_ROOT

# The repository keeps templates/ at the top; the wheel carries it as foyer/templates/
# (pyproject.toml's package-dir), since site-packages has no place for a bare "templates".
PACKAGED_TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATES_DIR = PACKAGED_TEMPLATES_DIR if PACKAGED_TEMPLATES_DIR.is_dir() else PROJECT_ROOT / "templates"


@dataclass
class PagePolicy:
    """What this response's Content-Security-Policy allows beyond the fixed policy: the nonce its
    <script> and <style> elements carry, and any other origin a form on it may lead to (a
    redemption's inviteRedirectUrl: form-action also governs where the form's redirect goes).
    Set per request by api.security_headers; the header is built from it when the answer starts."""
    nonce: str = ""
    form_targets: list[str] = field(default_factory=list)


PAGE_POLICY: ContextVar[PagePolicy | None] = ContextVar("foyer_page_policy", default=None)


def csp_nonce() -> str:
    policy = PAGE_POLICY.get()
    return policy.nonce if policy else ""


def allow_form_target(origin: str) -> None:
    """Let this page's forms lead to `origin` (scheme://host[:port]) as well as to the site."""
    policy = PAGE_POLICY.get()
    if policy is not None and origin not in policy.form_targets:
        policy.form_targets.append(origin)


@lru_cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["csp_nonce"] = csp_nonce
    return env


def render(name: str, **context) -> str:
    return environment().get_template(name).render(**context)


def render_mail(name: str, **context) -> tuple[str, str, str]:
    """templates/mail/NAME.{subject.txt,txt,html} → (subject, text, html)."""
    subject = render(f"mail/{name}.subject.txt", **context).strip()
    return subject, render(f"mail/{name}.txt", **context), render(f"mail/{name}.html", **context)
