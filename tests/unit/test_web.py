"""``tradeterm serve``'s pure parts: which binds need a token, what the served command is."""

from __future__ import annotations

import socket
import sys

import pytest

from tradeterm.cli import _global_flags, _parser, main
from tradeterm.web import ServeRefused, check_binding, cookie_value, is_loopback, served_command


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_addresses(host: str) -> None:
    assert is_loopback(host)
    check_binding(host, None)  # no token needed


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com", "127.0.0.1.evil"])
def test_anything_else_needs_a_token(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(ServeRefused, match="needs a token"):
        check_binding(host, None)
    check_binding(host, "x" * 16)


def test_a_short_token_is_refused_even_on_loopback() -> None:
    with pytest.raises(ServeRefused, match="at least 16"):
        check_binding("127.0.0.1", "x" * 15)


def test_the_cookie_is_derived_from_the_token_not_the_token() -> None:
    token = "correct-horse-battery-staple"
    assert token not in cookie_value(token)
    assert cookie_value(token) == cookie_value(token) != cookie_value(token + "x")


def test_the_served_command_is_tradeterm_with_the_flags_serve_was_given() -> None:
    parser = _parser()
    args = parser.parse_args(["--config", "my.toml", "--demo", "--symbol", "ETH/USDT", "--seed",
                              "3", "serve", "--port", "9000", "--host", "0.0.0.0"])
    flags = _global_flags(parser, args)
    assert flags == ["--config", "my.toml", "--demo", "--symbol", "ETH/USDT", "--seed", "3"]
    assert served_command(flags) == [sys.executable, "-m", "tradeterm", *flags]
    assert _global_flags(parser, parser.parse_args(["serve"])) == []


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_a_bad_port_is_one_line_and_exit_2(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", port])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "port must be 0-65535" in err


def test_a_taken_port_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["serve", "--port", str(taken.getsockname()[1])]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tradeterm serve: cannot listen on 127.0.0.1:")
