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
    "docs/pseudocode.md",
    "mkdocs.yml",
    "models/.gitkeep",
    "notebooks/README.md",
    "params.yaml",
    "pyproject.toml",
    "reports/.gitkeep",
    "src/customer_churn/__init__.py",
    "src/customer_churn/__main__.py",
    "src/customer_churn/cli.py",
    "src/customer_churn/config.py",
    "src/customer_churn/data/__init__.py",
    "src/customer_churn/data/generate.py",
    "src/customer_churn/data/ingest.py",
    "src/customer_churn/data/validate.py",
    "src/customer_churn/docs.py",
    "src/customer_churn/features/__init__.py",
    "src/customer_churn/features/construct.py",
    "src/customer_churn/features/pipeline.py",
    "src/customer_churn/features/split.py",
    "src/customer_churn/models/__init__.py",
    "src/customer_churn/models/estimators.py",
    "src/customer_churn/models/evaluate.py",
    "src/customer_churn/models/persistence.py",
    "src/customer_churn/models/train.py",
    "src/customer_churn/schema.py",
    "src/customer_churn/serving/__init__.py",
    "src/customer_churn/serving/app.py",
    "src/customer_churn/serving/batching.py",
    "src/customer_churn/serving/compiled.py",
    "src/customer_churn/serving/contract.py",
    "src/customer_churn/serving/guard.py",
    "src/customer_churn/serving/metrics.py",
    "src/customer_churn/serving/model_store.py",
    "src/customer_churn/serving/oip.py",
    "src/customer_churn/serving/service.py",
    "src/customer_churn/serving/settings.py",
    "src/customer_churn/stages.py",
    "tests/conftest.py",
    "tests/expectations/test_contract.py",
    "tests/integration/conftest.py",
    "tests/integration/test_pipeline.py",
    "tests/service/conftest.py",
    "tests/service/test_api.py",
    "tests/service/test_batching.py",
    "tests/service/test_compiled.py",
    "tests/service/test_oip.py",
    "tests/smoke/test_model.py",
    "tests/unit/test_construct.py",
    "tests/unit/test_docs.py",
    "tests/unit/test_evaluate.py",
    "tests/unit/test_feature_pipeline.py",
    "tests/unit/test_generate.py",
    "tests/unit/test_ingest.py",
}

AUTOMATED_DEVELOPMENT = {
    ".dvc/.gitignore",
    ".dvc/config",
    ".dvcignore",
    "dvc.yaml",
    "src/customer_churn/models/pyfunc.py",
    "src/customer_churn/models/registry.py",
    "src/customer_churn/serving/prediction_log.py",
    "src/customer_churn/serving/strategies.py",
    "tests/integration/test_registry.py",
    "tests/service/test_strategies.py",
}

# pre-commit, the CI workflow and its shared setup action (level 2+)
CONTINUOUS_INTEGRATION = {".github/actions/setup/action.yml", ".github/workflows/ci.yml", ".pre-commit-config.yaml"}

# drift, feedback-loop metrics and the retraining decision (level 2+)
MONITORING = {
    "src/customer_churn/monitoring/__init__.py",
    "src/customer_churn/monitoring/drift.py",
    "src/customer_churn/monitoring/feedback.py",
    "src/customer_churn/monitoring/gauges.py",
    "src/customer_churn/monitoring/report.py",
    "src/customer_churn/monitoring/retrain.py",
    "src/customer_churn/monitoring/run.py",
    "src/customer_churn/monitoring/windows.py",
    "tests/integration/test_retrain.py",
    "tests/monitoring/test_drift.py",
    "tests/monitoring/test_feedback.py",
    "tests/monitoring/test_gauges.py",
}

# CD, CT and monitoring workflows, Kubernetes, Argo CD and alerting manifests (level 3)
FULL_AUTOMATION = {
    ".github/actions/promote/action.yml",
    ".github/workflows/cd.yml",
    ".github/workflows/ct.yml",
    ".github/workflows/monitor.yml",
    "deploy/argocd/production.yaml",
    "deploy/argocd/staging.yaml",
    "deploy/k8s/base/deployment.yaml",
    "deploy/k8s/base/hpa.yaml",
    "deploy/k8s/base/kustomization.yaml",
    "deploy/k8s/base/pdb.yaml",
    "deploy/k8s/base/service.yaml",
    "deploy/k8s/components/candidate/kustomization.yaml",
    "deploy/k8s/overlays/production/kustomization.yaml",
    "deploy/k8s/overlays/staging/kustomization.yaml",
    "deploy/monitoring/alerts-test.yml",
    "deploy/monitoring/alerts.yml",
    "deploy/monitoring/grafana-dashboard.json",
    "src/customer_churn/gitops.py",
    "tests/unit/test_gitops.py",
}

PYTORCH = {"src/customer_churn/models/mlp.py"}

BY_LEVEL = {
    "1": COMMON,
    "2": COMMON | AUTOMATED_DEVELOPMENT | CONTINUOUS_INTEGRATION | MONITORING,
    "3": COMMON | AUTOMATED_DEVELOPMENT | CONTINUOUS_INTEGRATION | MONITORING | FULL_AUTOMATION,
}


def expected_files(level: str, framework: str) -> list[str]:
    return sorted(BY_LEVEL[level] | (PYTORCH if framework == "pytorch" else set()))
