"""One error tree per layer: every exception class a layer defines derives from that layer's
root, and the layer's package docstring draws it (every class named there)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import chaosbus
import chaosbus_demo
from chaosbus.clients.errors import ClientError
from chaosbus.contracts.errors import ContractError
from chaosbus.errors import EXIT_ABORTED, EXIT_INVALID, Aborted, ChaosbusError, InvalidInput
from chaosbus.injectors.errors import InjectorError
from chaosbus.monitors.errors import MonitorError
from chaosbus.streams.errors import StreamError

LAYERS = ("injectors", "contracts", "clients", "streams", "monitors")
ROOTS: dict[str, type[Exception]] = {
    "chaosbus.injectors": InjectorError,
    "chaosbus.contracts": ContractError,
    "chaosbus.clients": ClientError,
    "chaosbus.streams": StreamError,
    "chaosbus.monitors": MonitorError,
    "chaosbus": ChaosbusError,  # the app shell: everything not in a layer
    "chaosbus_demo": Exception,  # its own root, checked below by name
}


def layer_of(module: str) -> str:
    if module.startswith("chaosbus_demo"):
        return "chaosbus_demo"
    for layer in LAYERS:
        name = f"chaosbus.{layer}"
        if module == name or module.startswith(name + "."):
            return name
    return "chaosbus"


def every_module() -> list[ModuleType]:
    found = []
    for package in (chaosbus, chaosbus_demo):
        found.append(package)
        prefix = package.__name__ + "."
        for info in pkgutil.walk_packages(package.__path__, prefix):
            if not info.name.endswith(".__main__"):  # runs the CLI when imported
                found.append(importlib.import_module(info.name))
    return found


def defined_errors() -> dict[str, list[type[BaseException]]]:
    """Each layer's exception classes, by the module that defines them."""
    errors: dict[str, list[type[BaseException]]] = {}
    for module in every_module():
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                errors.setdefault(layer_of(module.__name__), []).append(value)
    return errors


ERRORS = defined_errors()


class TestErrorTrees:
    def test_every_layer_defines_errors(self) -> None:
        """The walk finds each layer's errors (a walk that saw nothing would pass anything)."""
        assert set(ERRORS) == set(ROOTS)

    @pytest.mark.parametrize("layer", sorted(ROOTS))
    def test_every_error_derives_from_the_layer_s_root(self, layer: str) -> None:
        """No exception class of a layer stands outside its tree."""
        root = ROOTS[layer]
        if layer == "chaosbus_demo":
            from chaosbus_demo.errors import DemoError

            root = DemoError
        outside = [e.__qualname__ for e in ERRORS[layer] if not issubclass(e, root)]
        assert outside == [], f"{layer}: not under {root.__name__}"

    @pytest.mark.parametrize("layer", sorted(ROOTS))
    def test_the_package_docstring_draws_the_tree(self, layer: str) -> None:
        """Every public exception class of the layer is named in its package docstring."""
        doc = importlib.import_module(layer).__doc__ or ""
        public = [e.__name__ for e in ERRORS[layer] if not e.__name__.startswith("_")]
        missing = [name for name in public if name not in doc]
        assert missing == []

    def test_the_app_shell_keeps_its_exit_codes(self) -> None:
        """The CLI's mapping is unchanged: invalid input 2, aborted 3, the root 2."""
        assert (ChaosbusError.exit_code, InvalidInput.exit_code, Aborted.exit_code) == (
            EXIT_INVALID,
            EXIT_INVALID,
            EXIT_ABORTED,
        )
