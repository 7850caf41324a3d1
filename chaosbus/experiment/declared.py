"""What an experiment (or a proxy's fault file) declares that an operator may pause.

`chaosbus pause FILE --route R | --http-route H | --fault F` names a scope by what FILE
declares; a name FILE does not declare is refused in one line that lists what it does
declare. A topic route is named by its source topic, `SOURCE:DESTINATION`, or its `id`,
and always stored by its source topic (a source feeds one live interposer). A fault is
named as decisions name it: its `name`, else `faults[i]`.
"""

from __future__ import annotations

from dataclasses import dataclass

from chaosbus.errors import InvalidInput
from chaosbus.experiment.spec import ExperimentSpec
from chaosbus.injectors.http.spec import HttpFaultFile
from chaosbus.injectors.spec import FaultFile


@dataclass(frozen=True, slots=True)
class Declared:
    label: str  # the file as the user named it
    routes: tuple[tuple[str, str, str | None], ...] = ()  # (source, destination, id)
    http_routes: tuple[str, ...] = ()
    faults: tuple[str, ...] = ()
    # A fault file declares no routes (a proxy's are its --route flags): any is taken.
    any_route: bool = False

    @classmethod
    def of_experiment(cls, spec: ExperimentSpec, label: str) -> Declared:
        faults = [f.name or f"faults[{i}]" for i, f in enumerate(spec.faults)]
        for http in spec.http_routes:
            faults.extend(f.name or f"faults[{i}]" for i, f in enumerate(http.faults))
        return cls(
            label,
            tuple((r.source, r.destination, r.id) for r in spec.routes),
            tuple(r.name for r in spec.http_routes),
            tuple(dict.fromkeys(faults)),
        )

    @classmethod
    def of_fault_file(cls, faults: FaultFile | HttpFaultFile, label: str) -> Declared:
        names = tuple(f.name or f"faults[{i}]" for i, f in enumerate(faults.faults))
        return cls(label, faults=names, any_route=True)

    def route(self, text: str) -> str:
        """The source topic of the route `text` names."""
        for source, destination, pinned in self.routes:
            if text in (source, f"{source}:{destination}", f"{source}->{destination}", pinned):
                return source
        if self.any_route:
            return text.partition(":")[0]
        known = ", ".join(f"{s}:{d}" for s, d, _ in self.routes) or "none"
        raise InvalidInput(f"{self.label} declares no route {text!r} (routes: {known})")

    def http_route(self, text: str) -> str:
        if text in self.http_routes or (self.any_route and not self.routes):
            return text
        known = ", ".join(self.http_routes) or "none"
        raise InvalidInput(f"{self.label} declares no HTTP route {text!r} (http_routes: {known})")

    def fault(self, text: str) -> str:
        if text in self.faults:
            return text
        known = ", ".join(self.faults) or "none"
        raise InvalidInput(f"{self.label} declares no fault {text!r} (faults: {known})")
