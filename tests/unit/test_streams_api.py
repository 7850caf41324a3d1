"""The stream runtime's public names."""

from __future__ import annotations

from chaosbus import streams


class TestPublicApi:
    def test_all_is_pinned(self) -> None:
        """The public names change only on purpose: this list is the contract."""
        assert sorted(streams.__all__) == sorted(
            [
                "COMPRESSIONS",
                "DEFAULT_COMMIT_INTERVAL_MS",
                "DEFAULT_LEDGER_RETENTION_MS",
                "AtLeastOnce",
                "Compression",
                "Consumer",
                "DecisionLike",
                "Decider",
                "Delivery",
                "ExactlyOnce",
                "HttpInterposer",
                "HttpLedgerWriter",
                "HttpRoute",
                "InterposerConfig",
                "MemoryCluster",
                "MemoryConsumer",
                "MemoryProducer",
                "ParkedUnreadable",
                "PassThrough",
                "Producer",
                "Proxy",
                "ProxyReport",
                "RequestLog",
                "RouteContext",
                "RouteFailed",
                "RouteInterposer",
                "StreamError",
                "Telemetry",
                "TopicAdmin",
                "TopicMissing",
                "TopicPolicy",
                "TopicShape",
                "TransactionalProducer",
                "check_routes",
                "pseudonym",
                "read_request_log",
            ]
        )

    def test_every_public_name_exists(self) -> None:
        """Each name in __all__ is importable from the package."""
        for name in streams.__all__:
            assert hasattr(streams, name), name

    def test_the_errors_are_one_tree(self) -> None:
        """RouteFailed, TopicMissing and ParkedUnreadable are caught by one `except
        StreamError`."""
        for error in (streams.RouteFailed, streams.TopicMissing, streams.ParkedUnreadable):
            assert issubclass(error, streams.StreamError), error
