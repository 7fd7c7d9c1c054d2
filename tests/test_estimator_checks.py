"""scikit-learn's own estimator checks over every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_kcm import KANClassifier, KANJudgeClassifier, MLPJudgeClassifier

CHEAP = dict(max_epochs=15, batch_size=32, random_state=0)

ESTIMATORS = [
    KANClassifier(hidden_layer_sizes=(8,), grid_size=3, **CHEAP),
    KANJudgeClassifier(hidden_layer_sizes=(), **CHEAP),
    MLPJudgeClassifier(hidden_layer_sizes=(8,), **CHEAP),
]

MINIBATCH_SGD = (
    "trained by shuffled mini-batch SGD: a row of weight 2 and two copies of that row "
    "fall into different batches, so the nets differ (sklearn's SGDClassifier and "
    "MLPClassifier fail this check for the same reason); weight 0 does equal removal"
)


def expected_failed_checks(estimator):
    return {
        "check_sample_weight_equivalence_on_dense_data": MINIBATCH_SGD,
        "check_sample_weight_equivalence_on_sparse_data": MINIBATCH_SGD,
    }


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
