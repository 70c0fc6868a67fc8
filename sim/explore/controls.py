"""The explorer's controls and how a choice of settings becomes overrides and a command line.

Every control is one override of ``python -m sim``: a switch ``policies.<name>.enabled`` for
each policy in :data:`sim.policies.REGISTRY` (a policy added to the registry gets its switch and
sliders without any change here), sliders for each policy's main parameters (the first
:data:`MAIN_PARAMETERS` numeric fields of its config that are its own, not shared by every policy
like the switch and the calendar: the dose comes first in every policy's config), sliders for
the shock intensities (:data:`SHOCKS`), the seed, the horizon and the population preset. A
slider's range is the field's allowed range, cut at four times the default so that the slider
stays fine enough to move the default by small steps.

The settings a page shows become overrides (only those that differ from the default config),
the overrides become the run's config (the same composition as ``python -m sim``) and the
command line that repeats the run.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import shlex
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.config import CONFIG_DIR, Config
from sim.params import ConfigError
from sim.policies import REGISTRY

MAIN_PARAMETERS = 2  # sliders per policy: the first numeric fields of its config (its dose)
SHOCKS = (
    "shocks.hospitalisation_rate",
    "shocks.disaster_rate_low",
    "shocks.disaster_rate_medium",
    "shocks.disaster_rate_high",
    "shocks.job_loss_rate",
)
COMPARE = "compare"  # the explorer's own switch: run the baseline beside the chosen scenario
SEED_MAX = 99  # seeds on the slider; any seed can be set on the command line
YEARS_MAX = 30

# Hydra's compose API keeps global state: one composition at a time (the page runs handlers in
# threads, one per browser session).
_HYDRA = threading.Lock()


@dataclass(frozen=True)
class Control:
    """One control of the page: the override it sets, its label, default and range.

    Attributes:
        key: the override's key (``policies.medical_relief.oop_cap_yuan``); :data:`COMPARE` for
            the compare switch, which is not an override.
        label: the text beside the control.
        default: the value of the default config.
        lo: the slider's lower end (sliders only).
        hi: the slider's upper end (sliders only).
        step: the slider's step (sliders only).
        options: the choices of a select (config group options).
    """

    key: str
    label: str
    default: bool | int | float | str
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    options: tuple[str, ...] = ()

    def text(self, value: Any) -> str:
        """``value`` as the override writes it: ``true``, ``3``, ``0.144`` (rounded to 1e-6)."""
        if isinstance(self.default, bool):
            return "true" if value else "false"
        if isinstance(self.default, str):
            return str(value)
        number = round(float(value), 6)
        return str(int(number)) if number.is_integer() else repr(number)

    def mesa_parameter(self) -> dict[str, Any]:
        """The control as a parameter of Mesa's ``SolaraViz`` (``model_params``)."""
        if isinstance(self.default, bool):
            return {"type": "Checkbox", "value": self.default, "label": self.label}
        if self.options:
            return {
                "type": "Select",
                "value": self.default,
                "values": list(self.options),
                "label": self.label,
            }
        kind = "SliderInt" if isinstance(self.default, int) else "SliderFloat"
        return {
            "type": kind,
            "value": self.default,
            "min": self.lo,
            "max": self.hi,
            "step": self.step,
            "label": self.label,
        }


def compose(overrides: Sequence[str]) -> Config:
    """:func:`sim.config.compose`, one call at a time."""
    from sim.config import compose as compose_config

    with _HYDRA:
        return compose_config(overrides)


@functools.cache
def default_config() -> Config:
    """The default config (no overrides)."""
    return compose([])


@functools.cache
def controls() -> tuple[Control, ...]:
    """Every control of the page, in the order they are shown."""
    from sim.api import default_choices

    cfg = default_config()
    with _HYDRA:
        population = default_choices()["population"]
    found: list[Control] = [
        Control(COMPARE, "compare with no policy (same seed)", False),
        Control("seed", "seed", cfg.seed, 0, max(SEED_MAX, cfg.seed), 1),
        Control("years", "years", cfg.years, 1, max(YEARS_MAX, cfg.years), 1),
        Control("population", "population", population, options=_options("population")),
    ]
    nodes = {name: policy_config(cfg, name) for name in REGISTRY}
    shared = set.intersection(*({f.name for f in dataclasses.fields(n)} for n in nodes.values()))
    for name, node in nodes.items():
        found.append(Control(f"policies.{name}.enabled", f"{name}", bool(node.enabled)))
        own = [(f, value) for f, value in _numeric_fields(node) if f.name not in shared]
        found += [
            _slider(f"policies.{name}.{field.name}", f"{name}: {field.name}", field, value)
            for field, value in own[:MAIN_PARAMETERS]
        ]
    shocks = {f.name: f for f in dataclasses.fields(cfg.shocks)}
    for key in SHOCKS:
        name = key.split(".", 1)[1]
        found.append(_slider(key, f"shocks: {name}", shocks[name], getattr(cfg.shocks, name)))
    return tuple(found)


def policy_config(cfg: Config, name: str) -> Any:
    """The config node of policy ``name`` (``cfg.policies.<name>``)."""
    nodes: Any = cfg.policies
    return nodes[name] if isinstance(nodes, Mapping) else getattr(nodes, name)


def settings_of(chosen: Mapping[str, Any]) -> dict[str, Any]:
    """Every control's value: the ``chosen`` ones, the defaults for the others.

    Raises:
        ConfigError: ``chosen`` names a control that does not exist.
    """
    by_key = {c.key: c for c in controls()}
    unknown = [key for key in chosen if key not in by_key]
    if unknown:
        raise ConfigError(f"{unknown[0]}: no such control; allowed: {', '.join(by_key)}")
    return {key: chosen.get(key, c.default) for key, c in by_key.items()}


def overrides(settings: Mapping[str, Any]) -> list[str]:
    """The overrides of ``python -m sim`` that give ``settings`` (those not at their default)."""
    return [
        f"{c.key}={c.text(settings[c.key])}"
        for c in controls()
        if c.key != COMPARE and c.key in settings and c.text(settings[c.key]) != c.text(c.default)
    ]


def command_line(settings: Mapping[str, Any]) -> str:
    """The command that runs the scenario of ``settings``: ``python -m sim policies.x...``."""
    return shlex.join(["python", "-m", "sim", *overrides(settings)])


def baseline_overrides(chosen: Sequence[str]) -> list[str]:
    """The overrides of the baseline of a comparison: the chosen ones with every policy off."""
    switches = {f"policies.{name}.enabled" for name in REGISTRY}
    kept = [o for o in chosen if o.split("=", 1)[0] not in switches]
    return [*kept, *(f"{key}=false" for key in sorted(switches))]


def _options(group: str) -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml")))


def _numeric_fields(node: Any) -> list[tuple[dataclasses.Field[Any], int | float]]:
    """The numeric (not boolean) fields of a config dataclass with a declared range."""
    return [
        (f, getattr(node, f.name))
        for f in dataclasses.fields(node)
        if "lo" in f.metadata
        and isinstance(getattr(node, f.name), int | float)
        and not isinstance(getattr(node, f.name), bool)
    ]


def _nice_steps(x: float) -> list[float]:
    """Steps of the form 1, 2 or 5 x 10^k, decreasing: the first at or above ``x > 0``, then 20."""
    power = 10.0 ** math.floor(math.log10(x))
    steps = [m * power * 10.0**k for k in range(1, -8, -1) for m in (5, 2, 1)]
    first = max(i for i, step in enumerate(steps) if step >= x * (1 - 1e-9))
    return [float(f"{step:.12g}") for step in steps[first : first + 21]]


def _on_grid(offset: float, step: float) -> bool:
    return abs(offset / step - round(offset / step)) < 1e-6


def _slider(key: str, label: str, field: dataclasses.Field[Any], default: float) -> Control:
    """A slider over the field's range, cut at four times the default, with the default on it.

    The step is about a hundredth of the range, made finer until the default lies on the grid
    (a slider moves a value that is off its grid to the nearest step as soon as it is shown).
    """
    lo = float(field.metadata["lo"])
    hi = float(field.metadata.get("hi") or math.inf)
    hi = min(hi, max(_nice_steps(4 * default)[0], default)) if default > 0 else min(hi, lo + 1)
    steps = _nice_steps((hi - lo) / 100)
    step = next((s for s in steps if _on_grid(default - lo, s)), steps[-1])
    if field.metadata.get("open_lo"):
        lo += step
    if isinstance(default, int):
        step = max(1, round(step))
        return Control(key, label, default, math.ceil(lo), math.floor(hi), step)
    return Control(key, label, float(default), lo, hi, step)
