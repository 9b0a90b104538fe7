"""The exact files each kind of generated project contains (module name: customer_churn)."""

from __future__ import annotations

COMMON = {
    ".cruft.json",
    ".dockerignore",
    "Dockerfile",
    ".gitignore",
    "LICENSE",
    "Makefile",
    "README.md",
    "data/external/.gitkeep",
    "data/interim/.gitkeep",
    "data/processed/.gitkeep",
    "data/raw/.gitkeep",
    "docs/data_schema.md",
    "docs/data_sources.md",
    "docs/environment.md",
    "docs/experiments.md",
    "docs/index.md",
    "docs/labeling.md",
    "docs/model_card.md",
    "docs/own_data.md",
    "docs/pseudocode.md",
    "mkdocs.yml",
    "models/.gitkeep",
    "notebooks/README.md",
    "params.yaml",
    "pyproject.toml",
    "reports/.gitkeep",
    "src/customer_churn/__init__.py",
    "src/customer_churn/__main__.py",
    "src/customer_churn/adopt.py",
    "src/customer_churn/batch/__init__.py",
    "src/customer_churn/batch/commands.py",
    "src/customer_churn/batch/rows.py",
    "src/customer_churn/batch/score.py",
    "src/customer_churn/cli.py",
    "src/customer_churn/config.py",
    "src/customer_churn/contract.yaml",
    "src/customer_churn/data/__init__.py",
    "src/customer_churn/data/chunks.py",
    "src/customer_churn/data/infer.py",
    "src/customer_churn/data/ingest.py",
    "src/customer_churn/data/sample.py",
    "src/customer_churn/data/synthetic.py",
    "src/customer_churn/data/validate.py",
    "src/customer_churn/docs.py",
    "src/customer_churn/example/__init__.py",
    "src/customer_churn/example/aggregate.py",
    "src/customer_churn/example/generate.py",
    "src/customer_churn/features/__init__.py",
    "src/customer_churn/features/construct.py",
    "src/customer_churn/features/pipeline.py",
    "src/customer_churn/features/split.py",
    "src/customer_churn/models/__init__.py",
    "src/customer_churn/models/estimators.py",
    "src/customer_churn/models/evaluate.py",
    "src/customer_churn/models/persistence.py",
    "src/customer_churn/models/train.py",
    "src/customer_churn/optional.py",
    "src/customer_churn/schema.py",
    "src/customer_churn/serving/__init__.py",
    "src/customer_churn/serving/app.py",
    "src/customer_churn/serving/batching.py",
    "src/customer_churn/serving/compiled.py",
    "src/customer_churn/serving/contract.py",
    "src/customer_churn/serving/decoding.py",
    "src/customer_churn/serving/guard.py",
    "src/customer_churn/serving/metrics.py",
    "src/customer_churn/serving/model_store.py",
    "src/customer_churn/serving/oip.py",
    "src/customer_churn/serving/server.py",
    "src/customer_churn/serving/service.py",
    "src/customer_churn/serving/settings.py",
    "src/customer_churn/serving/validation.py",
    "src/customer_churn/serving/workers.py",
    "src/customer_churn/stages.py",
    "tests/batch/test_score.py",
    "tests/conftest.py",
    "tests/example/test_aggregate.py",
    "tests/example/test_generate.py",
    "tests/expectations/test_contract.py",
    "tests/integration/test_adopt.py",
    "tests/integration/test_pipeline.py",
    "tests/service/conftest.py",
    "tests/service/test_api.py",
    "tests/service/test_batching.py",
    "tests/service/test_compiled.py",
    "tests/service/test_decoding.py",
    "tests/service/test_metrics.py",
    "tests/service/test_oip.py",
    "tests/service/test_server.py",
    "tests/service/test_workers.py",
    "tests/smoke/test_model.py",
    "tests/unit/test_construct.py",
    "tests/unit/test_docs.py",
    "tests/unit/test_evaluate.py",
    "tests/unit/test_feature_pipeline.py",
    "tests/unit/test_infer.py",
    "tests/unit/test_ingest.py",
}

AUTOMATED_DEVELOPMENT = {
    ".dvc/.gitignore",
    ".dvc/config",
    ".dvcignore",
    "dvc.yaml",
    "src/customer_churn/models/pyfunc.py",
    "src/customer_churn/models/registry.py",
    "src/customer_churn/prediction_log/__init__.py",
    "src/customer_churn/prediction_log/migrations.py",
    "src/customer_churn/prediction_log/postgres.py",
    "src/customer_churn/prediction_log/process.py",
    "src/customer_churn/prediction_log/readers.py",
    "src/customer_churn/prediction_log/sqlite.py",
    "src/customer_churn/prediction_log/store.py",
    "src/customer_churn/prediction_log/tables.py",
    "src/customer_churn/prediction_log/writer.py",
    "src/customer_churn/serving/gauges.py",
    "src/customer_churn/serving/rollout.py",
    "src/customer_churn/serving/strategies.py",
    "tests/integration/test_registry.py",
    "tests/service/test_gauges.py",
    "tests/service/test_prediction_log.py",
    "tests/service/test_prediction_store.py",
    "tests/service/test_strategies.py",
}

# pre-commit and the CI steps every provider runs (level 2+)
CONTINUOUS_INTEGRATION = {".pre-commit-config.yaml", "ci/steps.sh"}

# the chosen CI provider's files: level 2 (CI), level 3 (CD, CT, monitoring)
PROVIDER_FILES = {
    "github": {
        "2": {".github/actions/setup/action.yml", ".github/workflows/ci.yml"},
        "3": {
            ".github/actions/promote/action.yml",
            ".github/workflows/cd.yml",
            ".github/workflows/ct.yml",
            ".github/workflows/monitor.yml",
        },
    },
    "gitlab": {
        "2": {".gitlab-ci.yml"},
        "3": {".gitlab/ci/cd.yml", ".gitlab/ci/ct.yml", ".gitlab/ci/monitor.yml"},
    },
}

# drift, feedback-loop metrics and the retraining decision (level 2+)
MONITORING = {
    "src/customer_churn/monitoring/__init__.py",
    "src/customer_churn/monitoring/commands.py",
    "src/customer_churn/monitoring/drift.py",
    "src/customer_churn/monitoring/feedback.py",
    "src/customer_churn/monitoring/report.py",
    "src/customer_churn/monitoring/retrain.py",
    "src/customer_churn/monitoring/run.py",
    "src/customer_churn/monitoring/windows.py",
    "tests/example/test_retrain.py",
    "tests/monitoring/test_drift.py",
    "tests/monitoring/test_feedback.py",
}

# Kubernetes, Argo CD and alerting manifests (level 3)
FULL_AUTOMATION = {
    "deploy/argocd/production.yaml",
    "deploy/argocd/staging.yaml",
    "deploy/k8s/base/deployment.yaml",
    "deploy/k8s/base/hpa.yaml",
    "deploy/k8s/base/kustomization.yaml",
    "deploy/k8s/base/pdb.yaml",
    "deploy/k8s/base/service.yaml",
    "deploy/k8s/batch/executor-pod-template.yaml",
    "deploy/k8s/batch/job.yaml",
    "deploy/k8s/batch/kustomization.yaml",
    "deploy/k8s/batch/role-binding.yaml",
    "deploy/k8s/batch/role.yaml",
    "deploy/k8s/batch/service-account.yaml",
    "deploy/k8s/batch/service.yaml",
    "deploy/k8s/batch/spark-defaults.conf",
    "deploy/k8s/components/candidate/kustomization.yaml",
    "deploy/k8s/overlays/production/kustomization.yaml",
    "deploy/k8s/overlays/staging/kustomization.yaml",
    "deploy/monitoring/alerts-test.yml",
    "deploy/monitoring/alerts.yml",
    "deploy/monitoring/grafana-dashboard.json",
    "src/customer_churn/batch/executor.py",
    "src/customer_churn/batch/spark.py",
    "src/customer_churn/gitops.py",
    "tests/batch/test_executor.py",
    "tests/batch/test_spark.py",
    "tests/unit/test_gitops.py",
}

PYTORCH = {"src/customer_churn/models/mlp.py"}

# the Feast feature store (feature_store: feast, levels 2-3)
FEAST = {
    "docs/feature_store.md",
    "feature_repo/definitions.py",
    "feature_repo/feature_store.yaml",
    "src/customer_churn/features/store.py",
    "src/customer_churn/serving/lookup.py",
    "tests/integration/test_feature_store.py",
    "tests/service/test_lookup.py",
}

BY_LEVEL = {
    "1": COMMON,
    "2": COMMON | AUTOMATED_DEVELOPMENT | CONTINUOUS_INTEGRATION | MONITORING,
    "3": COMMON | AUTOMATED_DEVELOPMENT | CONTINUOUS_INTEGRATION | MONITORING | FULL_AUTOMATION,
}


def expected_files(level: str, framework: str, provider: str = "github", feature_store: str = "none") -> list[str]:
    ci = {name for upto, names in PROVIDER_FILES[provider].items() if upto <= level for name in names}
    return sorted(
        BY_LEVEL[level]
        | ci
        | (PYTORCH if framework == "pytorch" else set())
        | (FEAST if feature_store == "feast" else set())
    )
