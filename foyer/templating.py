"""One Jinja2 environment for every page and every email."""

from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from foyer.settings import PROJECT_ROOT

TEMPLATES_DIR = PROJECT_ROOT / "templates"


@lru_cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context) -> str:
    return environment().get_template(name).render(**context)


def render_mail(name: str, **context) -> tuple[str, str, str]:
    """templates/mail/NAME.{subject.txt,txt,html} → (subject, text, html)."""
    subject = render(f"mail/{name}.subject.txt", **context).strip()
    return subject, render(f"mail/{name}.txt", **context), render(f"mail/{name}.html", **context)
