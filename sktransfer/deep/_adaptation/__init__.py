"""Domain-adaptation losses for deep networks: pure torch functions on batches of features.

Deep CORAL and multi-kernel MMD (``_divergence``), gradient reversal and its
schedule (``_reversal``), the DANN domain discriminator and loss
(``_adversarial``), CDAN(+E) (``_conditional``) and Minimum Class Confusion
(``_confusion``). Each takes torch tensors and returns a differentiable scalar
tensor; the deep domain-adaptation estimators build on them. Importing this
package does not import torch: each function imports it when called.
"""
