"""`RedisNode` settings and Redis URLs on the command line: secrets kept out of sight."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from chaosbus.cli import app
from chaosbus.local.redis_node import RedisNode, RedisTls
from chaosbus.local.stack import StackStatus


class TestRedisNodeUrl:
    def test_plain(self, tmp_path: Path) -> None:
        """Without options, the URL of the local stack as before."""
        assert RedisNode(tmp_path, 6400).url == "redis://127.0.0.1:6400/0"

    def test_password_and_tls(self, tmp_path: Path) -> None:
        """A password (URL-quoted) and TLS make a rediss:// URL that trusts the node's CA."""
        tls = RedisTls(tmp_path / "s.crt", tmp_path / "s.key", tmp_path / "ca.crt")
        node = RedisNode(tmp_path, 6401, password="p@ss/word", tls=tls)
        assert node.url == (
            f"rediss://:p%40ss%2Fword@127.0.0.1:6401/0?ssl_ca_certs={tmp_path / 'ca.crt'}"
        )

    def test_repr_hides_secrets(self, tmp_path: Path) -> None:
        """A node in a log line or a traceback shows neither password nor ACL rules."""
        node = RedisNode(tmp_path, 6402, password="S3cret", acl_users=("u on >S3cret2 +@all",))
        assert "S3cret" not in repr(node)


class TestStatusLines:
    def test_redis_url_redacted(self) -> None:
        """`local status` shows where Redis is and as whom, never its password."""
        status = StackStatus(True, True, "127.0.0.1:9092", "redis://:S3cret@127.0.0.1:6379/0")
        assert status.lines()[1] == "redis     running  redis://:***@127.0.0.1:6379/0"
        assert "S3cret" not in repr(status)


class TestRedisUrlOnTheCommandLine:
    def test_tls_option_on_plain_url(self) -> None:
        """A TLS option on a redis:// URL: exit 2, one line naming it, the password masked."""
        url = "redis://:S3cret@127.0.0.1:1/0?ssl_ca_certs=/etc/ca.pem"
        result = CliRunner().invoke(app, ["audit", "--redis", url])
        assert result.exit_code == 2
        assert result.output == (
            "chaosbus: Redis URL redis://:***@127.0.0.1:1/0?ssl_ca_certs=/etc/ca.pem: "
            "ssl_ca_certs needs TLS, i.e. rediss://\n"
        )

    def test_unanswered_url_masked(self) -> None:
        """A Redis that does not answer is named with its password masked."""
        result = CliRunner().invoke(app, ["kill", "--redis", "redis://u:S3cret@127.0.0.1:1/0"])
        assert result.exit_code == 2
        assert result.output.startswith("chaosbus: Redis at redis://u:***@127.0.0.1:1/0 does not")
        assert "S3cret" not in result.output
