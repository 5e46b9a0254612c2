"""Reference numerics for *Cross-Entropy from First Principles*.

One implementation of every function the course teaches: information theory, the
sigmoid and softmax activations, the classification and regression losses with
PyTorch's semantics, and their gradients. numpy in, numpy out, float64 throughout.
The exercise batteries and the trusted grader check students against these functions.
"""

from autograder.activations import (
    log_sigmoid,
    log_softmax,
    logsumexp,
    sigmoid,
    sigmoid_grad,
    softmax,
    softmax_jacobian,
    softplus,
)
from autograder.calibration import expected_calibration_error
from autograder.classification import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    sigmoid_cross_entropy,
    sigmoid_cross_entropy_grad,
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
    softmax_cross_entropy_value_and_grad,
)
from autograder.focal import focal_loss, focal_loss_grad
from autograder.information import (
    binary_entropy,
    conditional_entropy,
    cross_entropy,
    entropy,
    joint_entropy,
    kl_divergence,
    mutual_information,
    self_information,
)
from autograder.margin import multi_margin_loss, multi_margin_loss_grad
from autograder.regression import (
    huber_loss,
    huber_loss_grad,
    l1_loss,
    l1_loss_grad,
    mse_loss,
    mse_loss_grad,
    smooth_l1_loss,
    smooth_l1_loss_grad,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "binary_entropy",
    "conditional_entropy",
    "cross_entropy",
    "entropy",
    "expected_calibration_error",
    "focal_loss",
    "focal_loss_grad",
    "huber_loss",
    "huber_loss_grad",
    "joint_entropy",
    "kl_divergence",
    "l1_loss",
    "l1_loss_grad",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "mse_loss",
    "mse_loss_grad",
    "multi_margin_loss",
    "multi_margin_loss_grad",
    "mutual_information",
    "self_information",
    "sigmoid",
    "sigmoid_cross_entropy",
    "sigmoid_cross_entropy_grad",
    "sigmoid_grad",
    "smooth_l1_loss",
    "smooth_l1_loss_grad",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_grad",
    "softmax_cross_entropy_value_and_grad",
    "softmax_jacobian",
    "softplus",
]
