"""chaosbus injectors: the pure fault model.

No asyncio, no Kafka, no clocks, no global randomness: an injector turns an envelope, its
state, a seeded RNG and the logical time into emissions and a new state. `FaultPlan` is the
composition the stream runtime calls; `parse_fault_document` validates a fault document
(reading the file is the app shell's: `chaosbus.documents.load_fault_file`).

Errors (pydantic's translated at this boundary with `raise ... from exc`)::

    InjectorError                  base of every error raised by `chaosbus.injectors`
    ├── SpecError                  a fault document is invalid; `.problems` has one line each
    ├── ProtectedTopicError        a route touches a protected topic while faults are declared
    └── LocatedError               one problem at a path, raised inside a model validator
"""

from chaosbus.injectors.blast import CAPS
from chaosbus.injectors.envelope import Emission, Envelope, Headers, SourceCoordinates
from chaosbus.injectors.errors import InjectorError, ProtectedTopicError, SpecError
from chaosbus.injectors.plan import COUNT_KEYS, FAULT_TYPES, Decision, FaultPlan
from chaosbus.injectors.registry import INJECTORS, Injector
from chaosbus.injectors.rng import DecisionSource, DecisionStream, decision_stream, key_fraction
from chaosbus.injectors.spec import (
    BlastRadius,
    DelayFault,
    Distribution,
    DropFault,
    DuplicateFault,
    ExponentialDelay,
    Fault,
    FaultFile,
    FixedDelay,
    JsonCondition,
    MatchSpec,
    ReorderFault,
    SpikeDelay,
    UniformDelay,
    parse_fault_document,
)
from chaosbus.injectors.validation import DISCRIMINATOR_LABELS, error_path, format_validation_error

__all__ = [
    "CAPS",
    "COUNT_KEYS",
    "DISCRIMINATOR_LABELS",
    "FAULT_TYPES",
    "INJECTORS",
    "BlastRadius",
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
    "FaultFile",
    "FaultPlan",
    "FixedDelay",
    "Headers",
    "Injector",
    "InjectorError",
    "JsonCondition",
    "MatchSpec",
    "ProtectedTopicError",
    "ReorderFault",
    "SourceCoordinates",
    "SpecError",
    "SpikeDelay",
    "UniformDelay",
    "decision_stream",
    "error_path",
    "format_validation_error",
    "key_fraction",
    "parse_fault_document",
]
