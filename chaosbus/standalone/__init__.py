"""The interposers run alone, outside an experiment, until SIGTERM or SIGINT.

    topics.py   `chaosbus proxy`: routes between Kafka topics, faults from a fault file
    http.py     `chaosbus http`: a reverse proxy in front of a service, HTTP faults

With faults, the kill switch on the control plane gates injection, as in a run. The command
line over them is `chaosbus.commands.proxy` and `chaosbus.commands.http`.
"""
