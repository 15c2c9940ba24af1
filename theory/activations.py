"""Activations as data: a name, an exact function on rationals and, when it has one, a
Lipschitz constant (docs/science.md 4.2 fixes relu, step and sign; this module adds
leaky relu and the square, and lets a user bring any exact function).

Every theory routine that takes an ``activation`` accepts

* a name from :data:`NAMED_ACTIVATIONS`: ``"relu"`` max(0, z); ``"step"`` 1[z > 0] (so
  step(0) = 0, the derivative of relu as autograd defines it); ``"sign"`` in {-1, 0, +1}
  with sign(0) = 0; ``"leaky_relu"`` z for z > 0 and z/100 otherwise (PyTorch's default
  negative slope 0.01; other slopes via :func:`leaky_relu`); ``"square"`` z^2;
* an :class:`Activation`, e.g. ``leaky_relu("1/5")``;
* any Python callable taking a ``fractions.Fraction`` and returning an exact number (int,
  ``Fraction`` or ``sympy.Rational``). Floats are refused: they would silently make an exact
  result inexact.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Union

import sympy

from theory._exact import RationalLike, as_fraction

ExactFunction = Callable[[Fraction], Union[int, Fraction, sympy.Rational]]


@dataclass(frozen=True)
class Activation:
    """An activation function as data.

    Attributes:
        name: how tables and errors refer to it (``"relu"``, ``"leaky_relu(1/5)"``, ...).
        function: the exact function z -> act(z) on Fractions.
        lipschitz: a global Lipschitz constant (|act(z) - act(z')| <= L |z - z'|), or None
            when the activation has none (step, sign, square) or it is unknown (callables).
    """

    name: str
    function: ExactFunction
    lipschitz: Fraction | None = None

    def __call__(self, z: Fraction) -> Fraction:
        """act(z) as an exact Fraction; ``ValueError`` if the function returns anything inexact."""
        value = self.function(z)
        if isinstance(value, sympy.Rational):
            return Fraction(int(value.p), int(value.q))
        if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
            if isinstance(value, numbers.Integral):
                return Fraction(int(value))
            raise ValueError(
                f"activation {self.name!r} must return an exact int or Fraction, got {value!r} "
                f"({type(value).__name__}) at z={z}"
            )
        return Fraction(value)


def _relu(z: Fraction) -> Fraction:
    return z if z > 0 else Fraction(0)


def _step(z: Fraction) -> int:
    return 1 if z > 0 else 0


def _sign(z: Fraction) -> int:
    return (z > 0) - (z < 0)


def _square(z: Fraction) -> Fraction:
    return z * z


#: PyTorch's default negative slope for ``nn.LeakyReLU``.
DEFAULT_LEAKY_SLOPE = Fraction(1, 100)


def leaky_relu(slope: RationalLike = DEFAULT_LEAKY_SLOPE) -> Activation:
    """Leaky relu with an exact negative-side ``slope``: z for z > 0, slope * z otherwise.

    Lipschitz constant max(1, |slope|). ``leaky_relu()`` is the named ``"leaky_relu"``.
    """
    a = as_fraction(slope, "slope")

    def function(z: Fraction) -> Fraction:
        return z if z > 0 else a * z

    name = "leaky_relu" if a == DEFAULT_LEAKY_SLOPE else f"leaky_relu({a})"
    return Activation(name, function, max(Fraction(1), abs(a)))


#: The activations known by name.
NAMED_ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("relu", _relu, Fraction(1)),
    "step": Activation("step", _step, None),
    "sign": Activation("sign", _sign, None),
    "leaky_relu": leaky_relu(),
    "square": Activation("square", _square, None),
}

#: What a user may pass as an activation.
ActivationLike = Union[str, Activation, ExactFunction]


def resolve_activation(activation: object) -> Activation:
    """The :class:`Activation` behind a name, an Activation or an exact callable.

    Raises:
        ValueError: an unknown name, or something that is neither a name nor callable.
    """
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        if activation not in NAMED_ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {', '.join(NAMED_ACTIVATIONS)} or an exact callable; got {activation!r}"
            )
        return NAMED_ACTIVATIONS[activation]
    if callable(activation):
        return Activation(getattr(activation, "__name__", repr(activation)), activation, None)
    raise ValueError(f"activation must be a name or a callable on Fractions, got {activation!r}")


#: Activations with integer fast paths in the Fourier routines (keyed by these names).
FAST_PATH_NAMES: tuple[str, ...] = ("relu", "step", "sign")


def activation_key(activation: object) -> str | Activation:
    """The name of a fast-path activation (the built-in relu, step or sign), else the resolved
    :class:`Activation`. Hashable, so the Fourier routines can cache on it."""
    resolved = resolve_activation(activation)
    if resolved.name in FAST_PATH_NAMES and resolved is NAMED_ACTIVATIONS[resolved.name]:
        return resolved.name
    return resolved
