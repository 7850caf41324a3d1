"""The local stack: a real single-node Kafka (KRaft) and redis-server on loopback."""
