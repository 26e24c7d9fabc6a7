"""The built wheel works without the checkout: it carries every module, the templates and the
migrations, and once installed into a fresh virtualenv `foyer db upgrade`, a mail render and
`python -m foyer` run from that virtualenv's site-packages, not from this repository.

The fresh virtualenv borrows this suite's installed dependencies through a .pth line (so nothing
is downloaded); a path line in a .pth file does not run that directory's own .pth files, so the
editable install of the checkout (__editable__*foyer*) stays out. The wheel itself is installed
with --no-deps. Whether the declared dependencies are complete is checked against the wheel's
metadata instead: every third-party module the shipped code imports must come from a
distribution that the runtime requirements (no extras) bring in.
"""

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.long_running(26), pytest.mark.database_independent]

ROOT = Path(__file__).resolve().parent.parent
# The checkout's folders and where each lands in the wheel: everything under the one name `foyer`
# (foyer/api, foyer/models, ... are symlinks to the design card's folders; see pyproject.toml).
PACKAGES = {"foyer": "foyer", "api": "foyer/api", "models": "foyer/models", "workflows": "foyer/workflows",
            "activities": "foyer/activities"}
# What the build reads; copied to a temporary directory (symlinks copied as what they point to)
# so the build leaves nothing in the checkout.
BUILD_INPUTS = ["pyproject.toml", "worker.py", "templates", *PACKAGES]


def shipped_sources() -> dict[Path, str]:
    """Every .py file of the checkout that the wheel ships, with its name inside the wheel."""
    files = {ROOT / "worker.py": "foyer/worker.py"}
    for package, inside in PACKAGES.items():
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT / package)
            if "__pycache__" in path.parts or (ROOT / package / relative.parts[0]).is_symlink():
                continue  # a symlinked folder is listed under its own name
            files[path] = f"{inside}/{relative.as_posix()}"
    return files


def run(args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, **kwargs)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    # No build isolation: the suite's own setuptools (the test extra) builds it, nothing downloaded.
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", out, source],
        cwd=out)
    [built] = out.glob("foyer-*.whl")
    return built


def test_the_wheel_carries_every_module_template_and_migration(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = set(shipped_sources().values())
    expected |= {"foyer/templates/" + path.relative_to(ROOT / "templates").as_posix()
                 for path in (ROOT / "templates").rglob("*") if path.is_file()}
    expected.add("foyer/models/migrations/script.py.mako")
    assert not expected - names, f"missing from the wheel: {sorted(expected - names)}"
    assert any(name.startswith("foyer/templates/mail/invitation.") for name in names)
    assert any(name.startswith("foyer/models/migrations/versions/0001") for name in names)
    # One top-level name in site-packages: nothing generic (api, models, worker) collides with
    # other installed software.
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"foyer"}, top_level


def _third_party_imports() -> set[str]:
    """Top-level modules imported by the code the wheel ships, other than its own and the stdlib."""
    found: set[str] = set()
    for path in shipped_sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {name for name in found if name != "foyer" and name not in sys.stdlib_module_names}


def _requirement_closure(wheel: Path) -> set[str]:
    """Normalized names of the distributions the wheel's runtime requirements bring in (from the
    installed metadata of this suite's venv, which has them all), following extras asked for."""
    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    def parse(requirement: str, extras: set[str]) -> tuple[str, set[str]] | None:
        spec, _, marker = requirement.partition(";")
        if marker.strip():
            # Keep requirements whose marker is an extra we asked for, or true on this machine.
            from packaging.markers import Marker

            if not any(Marker(marker).evaluate({"extra": extra}) for extra in (extras or {""})):
                return None
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(?:\[([^\]]*)\])?", spec)
        return norm(match.group(1)), {e.strip() for e in (match.group(2) or "").split(",") if e.strip()}

    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        top = [line.split(":", 1)[1].strip() for line in archive.read(metadata).decode().splitlines()
               if line.startswith("Requires-Dist:")]
    todo = [parsed for r in top if (parsed := parse(r, set()))]
    seen: dict[str, set[str]] = {}
    while todo:
        name, extras = todo.pop()
        if name in seen and extras <= seen[name]:
            continue
        seen[name] = seen.get(name, set()) | extras
        for requirement in importlib.metadata.requires(name) or []:
            if parsed := parse(requirement, seen[name]):
                todo.append(parsed)
    return set(seen)


def test_runtime_requirements_cover_every_import_without_the_test_extra(wheel):
    closure = _requirement_closure(wheel)
    providers = importlib.metadata.packages_distributions()
    uncovered = {module: providers.get(module) for module in _third_party_imports()
                 if not {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(module, [])} & closure}
    assert not uncovered, f"imported but not brought in by the runtime requirements: {uncovered}"
    # Not imported by name: SQLAlchemy's async engine loads it (sqlalchemy[asyncio]).
    assert "greenlet" in closure


def test_installed_wheel_migrates_renders_mail_and_runs_without_the_checkout(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", env_dir])
    python = env_dir / "bin" / "python"
    site_packages = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    suite_site_packages = Path(sysconfig.get_path("purelib"))
    (site_packages / "foyer_suite_dependencies.pth").write_text(f"{suite_site_packages}\n")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel])

    work = tmp_path / "elsewhere"
    work.mkdir()
    database = work / "foyer.db"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("FOYER_") and key not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env.update(FOYER_DATABASE_URL=f"sqlite:///{database}", FOYER_ENV="test", HOME=str(work),
               XDG_STATE_HOME="", PYTHONNOUSERSITE="1")

    def in_venv(*args):
        return run(args, cwd=work, env=env)

    # The editable finder of the checkout is not loaded, and everything comes from the new venv.
    paths = in_venv(python, "-c", "import sys; print('\\n'.join(sys.path))").stdout.split()
    assert str(ROOT) not in paths
    where = in_venv(python, "-c", "import sys, foyer, foyer.api, foyer.models, foyer.workflows, foyer.activities, "
                                  "foyer.worker as w; f = foyer; "
                                  "print(*[m.__file__ for m in (f, f.api, f.models, f.workflows, f.activities, w)]); "
                                  "print(any('__editable__' in m for m in sys.modules))").stdout.split()
    assert where[-1] == "False"
    for file in where[:-1]:
        assert Path(file).resolve().is_relative_to(site_packages.resolve()), file
    # The generic names are not installed.
    generic = "'api', 'models', 'workflows', 'activities', 'worker'"
    missing = in_venv(python, "-c", f"import importlib.util as u; print(*[u.find_spec(n) is None for n in ({generic})])")
    assert missing.stdout.split() == ["True"] * 5

    organization_id = in_venv(env_dir / "bin" / "foyer", "db", "upgrade").stdout.strip()
    heads = sorted(path.name.split("_")[0] for path in (ROOT / "models" / "migrations" / "versions").glob("[0-9]*.py"))
    version, organizations = in_venv(python, "-c", f"import sqlite3; db = sqlite3.connect({str(database)!r}); "
                                     "print(db.execute('select version_num from alembic_version').fetchone()[0]); "
                                     "print(*[r[0] for r in db.execute('select id from organizations')])"
                                     ).stdout.splitlines()
    assert version.startswith(heads[-1]), (version, heads[-1])
    assert organizations.split() == [organization_id]

    rendered = in_venv(python, "-c", "import foyer.templating as t, foyer.settings as s; "
                                     "subject, text, html = t.render_mail('passcode', code='314159', minutes=10, "
                                     "organization='Contoso'); "
                                     "print(t.TEMPLATES_DIR); print(s.STATE_DIR); print('314159' in text and '314159' in html)"
                       ).stdout.splitlines()
    assert Path(rendered[0]).resolve().is_relative_to(site_packages.resolve())
    # Outside a checkout the state goes to ~/.local/state/foyer, never into site-packages.
    assert Path(rendered[1]) == work / ".local" / "state" / "foyer"
    assert rendered[2] == "True"

    help_text = in_venv(python, "-m", "foyer", "--help").stdout
    assert "db" in help_text and "worker" in help_text
