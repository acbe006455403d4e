import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.config import Settings
from hub.errors import ConfigError
from tests.conftest import cli_env


def test_defaults_without_environment():
    settings = Settings.from_env({})
    assert settings.database_url is None
    assert settings.data_dir == Path("var")
    assert settings.issuer == "http://127.0.0.1:5000"
    assert settings.workers == max(2, os.cpu_count() or 1)


def test_reads_lgsp_variables():
    settings = Settings.from_env(
        {
            "LGSP_DATABASE_URL": "postgresql://u@h/db",
            "LGSP_BASE_URL": "https://hub.example.vn/",
            "LGSP_WORKERS": "4",
            "LGSP_LOG_LEVEL": "debug",
        }
    )
    assert settings.database_url == "postgresql://u@h/db"
    assert settings.issuer == "https://hub.example.vn"
    assert settings.secure_cookies
    assert settings.workers == 4
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LGSP_WORKERS": "many"}, "LGSP_WORKERS must be an integer"),
        ({"LGSP_WORKERS": "0"}, "LGSP_WORKERS must be at least 1"),
        ({"LGSP_DATABASE_URL": "mysql://x"}, "LGSP_DATABASE_URL must be a postgresql:// URL"),
        ({"LGSP_BASE_URL": "ftp://x"}, "LGSP_BASE_URL must be an http(s) URL"),
        ({"LGSP_SECRET_KEY": "short"}, "at least 32 characters"),
        ({"LGSP_LOG_LEVEL": "LOUD"}, "LGSP_LOG_LEVEL must be one of"),
        ({"LGSP_BIND": "nowhere"}, "LGSP_BIND must be HOST:PORT"),
    ],
)
def test_malformed_settings_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)


def test_password_is_hidden_in_errors():
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"LGSP_DATABASE_URL": "mysql://user:hunter2@h/db"})
    assert "hunter2" not in str(info.value)


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        Settings().log_level = "DEBUG"  # type: ignore[misc]


def test_demo_secret_is_generated_once_with_mode_0600(tmp_path):
    settings = Settings(data_dir=tmp_path)
    first = settings.with_demo_secret()
    second = settings.with_demo_secret()
    assert first.secret_key == second.secret_key
    assert len(first.secret_key or "") >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_cli_reports_a_bad_setting_in_one_line_with_status_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hub.cli", "db", "status"],
        env=cli_env(None, tmp_path, LGSP_WORKERS="x"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "lgsp: LGSP_WORKERS must be an integer, got 'x'"
    assert "Traceback" not in result.stderr
