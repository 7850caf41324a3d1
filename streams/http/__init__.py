"""The HTTP transport: a reverse proxy that applies the HTTP fault model to requests.

An automation calls the proxy instead of the service; each request is decided by an
`injectors.http.HttpPlan`, carried out here, and written to the request log the retry
verdict (`monitors.retries`) reads.
"""

from chaosbus.streams.http.interposer import HttpInterposer, HttpRoute
from chaosbus.streams.http.request_log import RequestLog, read_request_log

__all__ = ["HttpInterposer", "HttpRoute", "RequestLog", "read_request_log"]
