"""PortalSettings: the generated configuration reference, the .env file, and the extras a
setting needs (a missing one stops start-up with the command that installs it)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from gradio_portal import PortalSettings

ROOT = Path(__file__).resolve().parents[2]


def _load_generator() -> ModuleType:
    path = ROOT / "scripts" / "gen_config_docs.py"
    spec = importlib.util.spec_from_file_location("gen_config_docs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_python(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter in ``cwd``, with no GRADIO_PORTAL_* but ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GRADIO_PORTAL_")}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


# -- the configuration reference ----------------------------------------------------------


def test_every_setting_has_a_description() -> None:
    missing = [name for name, f in PortalSettings.model_fields.items() if not f.description]
    assert not missing, f"describe these in settings.py: {missing}"


def test_the_configuration_page_is_generated_from_the_settings() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == _load_generator().render(), (
        "docs/configuration.md is stale: run `python scripts/gen_config_docs.py`"
    )


def test_the_page_lists_every_setting_with_its_variable_and_default() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    rows = [line for line in page.splitlines() if line.startswith("| `GRADIO_PORTAL_")]
    assert len(rows) == len(PortalSettings.model_fields)
    for name in PortalSettings.model_fields:
        assert f"| `GRADIO_PORTAL_{name.upper()}` |" in page
    assert '| `GRADIO_PORTAL_LOG_FORMAT` | "text" \\| "json" | `text` |' in page
    assert "| `GRADIO_PORTAL_SESSION_IDLE_TIMEOUT` | int, > 0 | `7200` |" in page
    assert "| `GRADIO_PORTAL_SECRET_KEY` | secret or unset | unset |" in page


def test_the_generator_check_mode_reports_a_stale_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generator = _load_generator()
    page = tmp_path / "configuration.md"
    assert generator.main(["--check", "--output", str(page)]) == 1
    assert "stale" in capsys.readouterr().out
    assert generator.main(["--output", str(page)]) == 0
    assert generator.main(["--check", "--output", str(page)]) == 0


# -- .env ----------------------------------------------------------------------------------


def test_a_dotenv_file_in_the_working_directory_is_read_and_the_environment_wins(
    tmp_path: Path,
) -> None:
    (tmp_path / ".env").write_text(
        "# a developer's settings\n"
        "GRADIO_PORTAL_SESSION_IDLE_TIMEOUT=123\n"
        "GRADIO_PORTAL_LOG_LEVEL=debug\n"
        "UNRELATED=ignored\n",
        encoding="utf-8",
    )
    code = """
        import os
        from gradio_portal import PortalSettings
        settings = PortalSettings()
        print(settings.session_idle_timeout, settings.log_level, settings.chat_backend)
        os.environ["GRADIO_PORTAL_LOG_LEVEL"] = "warning"
        settings = PortalSettings()
        print(settings.session_idle_timeout, settings.log_level, settings.chat_backend)
    """
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    from_file, overridden = done.stdout.splitlines()
    assert from_file.split() == ["123", "debug", "echo"]
    assert overridden.split() == ["123", "warning", "echo"]


# -- extras --------------------------------------------------------------------------------

# The package is "missing" the way Python sees an uninstalled one: its import fails.
_PORTAL_WITHOUT = """
    import sys
    sys.modules[{module!r}] = None  # `import {module}` now raises ModuleNotFoundError
    from gradio_portal import ConfigurationError, Portal, PortalSettings
    try:
        Portal(settings=PortalSettings(data_dir="data", {setting}={url!r}))
    except ConfigurationError as exc:
        print(exc)
    else:
        print("started")
"""


def test_postgresql_without_the_postgres_extra_stops_with_the_install_command(
    tmp_path: Path,
) -> None:
    url = "postgresql+psycopg://portal:s3cret-pw@127.0.0.1:9/portal"
    code = _PORTAL_WITHOUT.format(module="psycopg", setting="database_url", url=url)
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "pip install 'gradio-portal[postgres]'" in done.stdout
    assert "postgresql+psycopg://portal:***@127.0.0.1:9/portal" in done.stdout
    assert "s3cret-pw" not in done.stdout + done.stderr


def test_the_db_command_says_the_same(tmp_path: Path) -> None:
    code = """
        import sys
        sys.modules["psycopg"] = None
        from gradio_portal.cli import main
        sys.exit(main(["db", "upgrade"]))
    """
    url = "postgresql+psycopg://portal:s3cret-pw@127.0.0.1:9/portal"
    done = run_python(code, tmp_path, GRADIO_PORTAL_DATABASE_URL=url)
    assert done.returncode == 1
    assert "run `pip install 'gradio-portal[postgres]'`" in done.stderr
    assert "s3cret-pw" not in done.stdout + done.stderr


def test_redis_without_the_redis_extra_stops_with_the_install_command(tmp_path: Path) -> None:
    url = "redis://:s3cret-pw@127.0.0.1:9/0"
    code = _PORTAL_WITHOUT.format(module="redis", setting="redis_url", url=url)
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "pip install 'gradio-portal[redis]'" in done.stdout
    assert "s3cret-pw" not in done.stdout + done.stderr


def test_with_the_extras_installed_the_same_settings_get_past_the_check() -> None:
    # The control: nothing blocked, the drivers load (what fails next is the connection).
    from gradio_portal.sessions.redis import RedisSessionStore
    from gradio_portal.storage.database import require_driver

    require_driver("postgresql+psycopg://portal:pw@127.0.0.1:9/portal")
    assert RedisSessionStore.__name__ == "RedisSessionStore"
