"""Multi-task fine-tuning: one shared body, one head per task, trained jointly.

``_heads`` holds the network pieces (the shared trunk and the task heads,
whose outputs are concatenated so the fine-tuning machinery sees one
output) and the masked multi-task loss; ``_estimator`` the
``MultiTaskClassifier``. Importing this package does not import torch.
"""
