"""The torch estimators: scikit-learn classifiers over the ``nn`` modules, trained through skorch.

Importing a module of this package imports torch; nothing outside it does at
import time (see ``_utils._lazy``).
"""
