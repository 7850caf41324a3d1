"""chaosbus: event-stream chaos for async integrations (the app shell).

The layers below, each with one error root: `chaosbus.injectors` (`InjectorError`),
`chaosbus.contracts` (`ContractError`), `chaosbus.clients` (`ClientError`),
`chaosbus.streams` (`StreamError`), `chaosbus.monitors` (`MonitorError`). Everything else in
this package is the app shell: the experiment spec, the runner, the control plane, the CLI,
the reports and the local stack. Its errors carry the exit code the CLI documents
(`chaosbus.errors`, `chaosbus.control.errors`); the layers' errors are translated into them
at the shell's boundary with `raise ... from exc`::

    ChaosbusError                         any failure the CLI turns into one line and a code
    ├── InvalidInput (2)                  a broken file, a bad flag, an unknown topic
    │   ├── DocumentError                 a YAML document that cannot be read
    │   ├── ExperimentInvalid             an experiment file that does not validate
    │   ├── PrerequisiteMissing           java, mvn or redis-server absent or too old
    │   ├── Unreachable                   a broker or Redis that does not answer
    │   │   └── ControlPlaneUnreachable   Redis (the control plane) did not answer
    │   │       └── ControlPlaneRefused   Redis refused the credentials or the certificate
    │   ├── RouteStopped                  a destination refused a message
    │   ├── NotPermitted                  the Redis user's role does not allow it
    │   ├── ApprovalsMissing              a required sign-off is missing for this file
    │   ├── RouteShared                   another live interposer already forwards a route
    │   ├── HistoryError                  the run history refused (chaosbus.history.errors)
    │   │   ├── HistoryUnavailable        an unreachable or unauthorised store
    │   │   ├── NotAHistory               a corrupt or foreign SQLite file
    │   │   ├── SchemaTooNew              written by a newer chaosbus
    │   │   ├── UnknownRun                no run of that id
    │   │   └── NotComparable             a baseline of another experiment
    │   └── TrafficError                  record, replay, generate, fidelity refused
    │       ├── RecordingInvalid          not a recording, truncated, corrupt, too new
    │       ├── PrivacyRefused            hashing without a key, or an identifier in clear
    │       ├── SpecInvalid               a generator spec that does not validate
    │       └── NotJson                   a value JSON selectors cannot reach
    ├── Aborted (3)                       a guardrail, the kill switch or a signal
    │   └── KillSwitchEngaged             a run refused to start, or stopped, on the switch
    └── StackError (2)                    the local stack failed to start or stop
"""

__version__ = "0.1.0"
