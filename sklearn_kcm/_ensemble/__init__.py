"""KCMEnsemble and the stages of its fit: members, teachers, distillation.

Arrows point out of this package only: to ``_routing`` (what it shares with
``KCMRetriever``), ``_utils`` and, through the default judge, ``_torch``.
"""
