"""chaosbus injectors: the pure fault model.

No asyncio, no Kafka, no clocks, no global randomness: an injector turns an envelope, its
state, a seeded RNG and the logical time into emissions and a new state. `FaultPlan` is the
composition the stream runtime calls; `parse_fault_document` validates a fault document
(reading the file is the app shell's: `chaosbus.documents.load_fault_file`).

Each fault is one module that describes itself (config, `apply`, capabilities, the sentence
of a cause) and ends in one registry entry (`Injector`); `INJECTORS` lists them all, and
`FAULT_TYPES`, `COUNT_KEYS` and the `Fault` union are derived from it. Every fault's config
class is exported here.

Errors (pydantic's translated at this boundary with `raise ... from exc`)::

    InjectorError                  base of every error raised by `chaosbus.injectors`
    ├── SpecError                  a fault document is invalid; `.problems` has one line each
    ├── ProtectedTopicError        a route touches a protected topic while faults are declared
    └── LocatedError               one problem at a path, raised inside a model validator
"""

from chaosbus.injectors.base import FaultConfig, JsonCondition, MatchSpec, Trigger
from chaosbus.injectors.blast import CAPS
from chaosbus.injectors.corrupt import CorruptFault
from chaosbus.injectors.delay import DelayFault
from chaosbus.injectors.distributions import (
    Distribution,
    ExponentialDelay,
    FixedDelay,
    SpikeDelay,
    UniformDelay,
)
from chaosbus.injectors.drop import DropFault
from chaosbus.injectors.duplicate import DuplicateFault
from chaosbus.injectors.envelope import Emission, Envelope, Headers, SourceCoordinates
from chaosbus.injectors.errors import InjectorError, ProtectedTopicError, SpecError
from chaosbus.injectors.injector import Injector, Told
from chaosbus.injectors.outage import OutageFault
from chaosbus.injectors.plan import Decision, FaultPlan
from chaosbus.injectors.registry import COUNT_KEYS, FAULT_TYPES, INJECTORS
from chaosbus.injectors.reorder import ReorderFault
from chaosbus.injectors.replay import ReplayFault
from chaosbus.injectors.rng import DecisionSource, DecisionStream, decision_stream, key_fraction
from chaosbus.injectors.schema_drift import SchemaDriftFault
from chaosbus.injectors.spec import (
    BlastRadius,
    Fault,
    FaultFile,
    parse_fault_document,
)
from chaosbus.injectors.stall import StallFault
from chaosbus.injectors.validation import DISCRIMINATOR_LABELS, error_path, format_validation_error

__all__ = [
    "CAPS",
    "COUNT_KEYS",
    "DISCRIMINATOR_LABELS",
    "FAULT_TYPES",
    "INJECTORS",
    "BlastRadius",
    "CorruptFault",
    "Decision",
    "DecisionSource",
    "DecisionStream",
    "DelayFault",
    "Distribution",
    "DropFault",
    "DuplicateFault",
    "Emission",
    "Envelope",
    "ExponentialDelay",
    "Fault",
    "FaultConfig",
    "FaultFile",
    "FaultPlan",
    "FixedDelay",
    "Headers",
    "Injector",
    "InjectorError",
    "JsonCondition",
    "MatchSpec",
    "OutageFault",
    "ProtectedTopicError",
    "ReorderFault",
    "ReplayFault",
    "SchemaDriftFault",
    "SourceCoordinates",
    "SpecError",
    "SpikeDelay",
    "StallFault",
    "Told",
    "Trigger",
    "UniformDelay",
    "decision_stream",
    "error_path",
    "format_validation_error",
    "key_fraction",
    "parse_fault_document",
]
