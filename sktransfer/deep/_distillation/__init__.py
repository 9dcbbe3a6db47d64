"""Knowledge distillation: a student network trained on a fitted teacher's softened predictions.

The loss (``_loss``: Hinton et al.'s temperature-softened KL divergence mixed
with the cross-entropy of the labelled rows), the teacher's checks and soft
targets (``_teacher``) and ``DistillationClassifier`` (``_estimator``), which
plugs the loss into the fine-tuning base's one training loop. Importing this
package does not import torch.
"""
