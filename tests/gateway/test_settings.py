import pytest

from gateway.settings import ConfigError, load_settings


@pytest.fixture(autouse=True)
def no_outside_configuration(monkeypatch):
    monkeypatch.delenv("CREDGATE_CONFIG", raising=False)


def write(tmp_path, text):
    path = tmp_path / "credgate.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_embedded_defaults_need_no_file():
    settings = load_settings()
    assert settings.gateway.port == 8000
    assert settings.gateway.mode == "development"
    assert settings.cache.backend == "memory"
    assert settings.access_log.dsn.startswith("sqlite:///")
    assert settings.platforms.court.freshness_s == 3600
    assert settings.platforms.credit.freshness_s == 86400


def test_environment_wins_over_file_and_command_line_over_both(tmp_path, monkeypatch):
    path = write(
        tmp_path,
        '[gateway]\nport = 8100\nhost = "::1"\n[platforms.court]\nurl = "http://file"\n',
    )
    monkeypatch.setenv("CREDGATE_PLATFORMS__COURT__URL", "http://env")
    monkeypatch.setenv("CREDGATE_GATEWAY__PORT", "8200")
    settings = load_settings(path, gateway={"port": 8300})
    assert settings.platforms.court.url == "http://env"
    assert settings.gateway.port == 8300
    assert settings.gateway.host == "::1"


def test_config_file_from_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDGATE_CONFIG", str(write(tmp_path, "[gateway]\nport = 8123\n")))
    assert load_settings().gateway.port == 8123


def test_secrets_do_not_show_in_repr(tmp_path):
    path = write(tmp_path, '[platforms.credit]\napp_secret = "very-secret-value"\n')
    settings = load_settings(path)
    assert settings.platforms.credit.app_secret.get_secret_value() == "very-secret-value"
    assert "very-secret-value" not in repr(settings)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[gateway]\nprot = 1\n", "gateway.prot"),
        ('[gateway]\nmode = "staging"\n', "gateway.mode"),
        ('[platforms.archive]\ndsn = "mysql://x"\n', "platforms.archive"),
        ("[platforms.court]\ntimeout_s = 0.5\nattempt_timeout_s = 1.0\n", "platforms.court"),
        ('[cache]\nbackend = "redis"\n', "cache"),
        ('[gateway]\nmode = "production"\n', "auth.jwks_url or auth.jwks_file"),
        (
            '[gateway]\nmode = "production"\n[auth]\njwks_file = "k.json"\nenforce = false\n',
            "auth.enforce",
        ),
        (
            '[gateway]\nmode = "production"\n[auth]\njwks_file = "k.json"\n'
            'pseudonym_key_file = "p.key"\n',
            "access_log.chain_key_file",
        ),
    ],
)
def test_a_bad_configuration_names_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(write(tmp_path, text))


def test_unknown_environment_override_is_refused(monkeypatch):
    monkeypatch.setenv("CREDGATE_PLATFORMS__COURT__URLX", "http://typo")
    with pytest.raises(ConfigError, match=r"platforms\.court\.urlx"):
        load_settings()


def test_missing_file_and_toml_syntax_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"credgate\.toml"):
        load_settings(write(tmp_path, "[gateway\n"))
