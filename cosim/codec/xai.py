"""XAI-based Asymmetry Compensation: spread semantic importance over the transmitted symbols.

Attribution of every symbol through the (frozen for this purpose) decoder + tail by the two-point
Integrated-Gradients approximation with a zero baseline, A = 1/2 (grad f(s) + grad f(0)) * (s - 0),
(captum's IntegratedGradients with n_steps=2, method="riemann_trapezoid" returns exactly half of it:
its trapezoid weights are 1/n per point, halved at the ends).
Loss (SemanticNN): numel(A) / count(A > 0) + 1 / sum(A[A > 0]) over the whole batch.

As in the authors' code the gradients are constants (no double back-propagation); the loss reaches the
encoder through the factor (s - 0). Deliberate difference: we attribute the target-class logit (IG's
usual output, captum's `target=`), where the authors differentiate the cross-entropy loss, whose sign
makes "positive" mean "pushes away from the label"; `of="loss"` (the `authors` training preset) does
as they do: the gradient of the mean cross-entropy.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

OUTPUTS = ("logit", "loss")


def _grad_of_target(forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                    target: torch.Tensor, of: str = "logit") -> torch.Tensor:
    """d logit[target] / d x for each sample, or (of="loss") d mean cross-entropy / d x (no graph kept)."""
    if of not in OUTPUTS:
        raise ValueError(f"attribution output must be one of {OUTPUTS}, got {of!r}")
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = forward(x)
        if of == "loss":
            picked = torch.nn.functional.cross_entropy(logits, target)
        else:
            picked = logits.gather(1, target.view(-1, 1)).sum()
        (grad,) = torch.autograd.grad(picked, x)
    return grad


def two_point_gradients(forward: Callable[[torch.Tensor], torch.Tensor], symbols: torch.Tensor,
                        target: torch.Tensor, of: str = "logit") -> torch.Tensor:
    """Mean of the target-logit (or loss) gradients at the symbols and at the zero baseline (detached)."""
    g_s = _grad_of_target(forward, symbols, target, of)
    g_0 = _grad_of_target(forward, torch.zeros_like(symbols), target, of)
    return 0.5 * (g_s + g_0)


def attributions(forward: Callable[[torch.Tensor], torch.Tensor], symbols: torch.Tensor,
                 target: torch.Tensor, of: str = "logit") -> torch.Tensor:
    """Two-point IG attributions A (same shape as `symbols`), differentiable through `symbols` only."""
    return two_point_gradients(forward, symbols, target, of) * symbols


def asymmetry_loss(attr: torch.Tensor, floor: float = 0.0) -> torch.Tensor:
    """numel(A)/count(A>0) + 1/max(sum(A[A>0]), floor); just numel(A) (no gradient) if no attribution is
    positive. The floor is ours: with the authors' plain 1/sum, a batch where few attributions are positive
    (early in the task stage) has a vanishing sum and a gradient of 1/sum^2 that wrecks the encoder (seen
    on `scenes`: loss 3e4, accuracy at chance); above the floor the term is theirs."""
    positive = attr > 0
    count = int(positive.sum())
    if count == 0:
        return attr.new_tensor(float(attr.numel()))
    return attr.numel() / count + 1.0 / attr[positive].sum().clamp_min(floor)
