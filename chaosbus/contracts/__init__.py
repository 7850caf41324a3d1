"""chaosbus: contracts - what the fault model, the stream runtime and the monitors all read.

A layer above `chaosbus.injectors` and below everything else (ARCHITECTURE §7, "contracts
at the bottom"): nothing here opens a connection or starts a task.

- `contracts.ledger_record`: the ledger record, one per decision, and its encoding;
- `contracts.clock`: time as a value passed in;
- `contracts.routes`: a route and what makes a set of routes wrong (`route_problem`);
- `contracts.records`: the one Record→Envelope (`envelope_of`) and the event id.

Errors::

    ContractError          base of every error raised by `chaosbus.contracts`
    └── RouteError         a route that does not parse, or reads and writes one topic
"""
