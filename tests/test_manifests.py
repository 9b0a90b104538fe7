"""Level 3 deployment: Kubernetes manifests (service and Spark batch scoring), GitOps promotion, Argo CD, alerting.

The manifests are checked with the tools a cluster would use: `kubectl kustomize` renders each
overlay and `kubernetes-validate --strict` checks every object against the Kubernetes API schema;
the alert rules pass `promtool check rules` and their own `promtool test rules`; and every
metric the rules and the dashboard query is one the service really exposes.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import Bake, bake_project, run, tool

# the oldest Kubernetes release the manifests support, and the newest the pinned validator knows
K8S_VERSIONS = ("1.30.0", "1.37.0")
OVERLAYS = ("staging", "production")
KINDS = {"ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"}
# the longest slug the pre-generation hook accepts: every derived Kubernetes name must still fit
SLUG = "customer-churn-prediction-service-for-retail-banks"
MODULE, OWNER = SLUG.replace("-", "_"), "jane-doe"
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
IMAGE = f"ghcr.io/{OWNER}/{SLUG}"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One level-3 project for the whole module (read-only: tests that change it copy it)."""
    output = tmp_path_factory.mktemp("level3")
    answers = {"maturity_level": "3", "project_slug": SLUG}
    return bake_project(output, **answers)


def render(project: Path, overlay: str) -> list[dict[str, Any]]:
    return render_folder(project, project / "deploy" / "k8s" / "overlays" / overlay)


def render_folder(project: Path, folder: Path) -> list[dict[str, Any]]:
    output = run([tool("kubectl"), "kustomize", str(folder)], project)
    return [document for document in yaml.safe_load_all(output.stdout) if document]


def validate(files: list[Path], version: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("kubernetes-validate"), "--strict", "-k", version, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [item for item in objects if item["kind"] == kind]
    return found


@pytest.mark.parametrize("level", ["1", "2"])
def test_lower_levels_have_no_deployment_manifests(bake: Bake, level: str) -> None:
    project = bake(maturity_level=level, project_slug=SLUG)
    assert not (project / "deploy").exists()
    assert not (project / "src" / MODULE / "gitops.py").exists()
    assert '"promote"' not in (project / "src" / MODULE / "cli.py").read_text()


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_manifest_passes_strict_schema_validation(project: Path, version: str) -> None:
    manifests = sorted(
        path for path in (project / "deploy" / "k8s").rglob("*.yaml") if path.name != "kustomization.yaml"
    )
    assert {path.name for path in manifests} == {"deployment.yaml", "hpa.yaml", "pdb.yaml", "service.yaml"} | {
        "executor-pod-template.yaml",
        "job.yaml",
        "role-binding.yaml",
        "role.yaml",
        "service-account.yaml",
    }
    result = validate(manifests, version)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed for resource ") == len(manifests), result.stdout


def test_strict_validation_catches_an_unknown_field(project: Path, tmp_path: Path) -> None:
    """The control for the test above: a misspelt field must fail, or the validator proves nothing."""
    deployment = yaml.safe_load((project / "deploy" / "k8s" / "base" / "deployment.yaml").read_text())
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["periodSecond"] = 5
    broken = tmp_path / "deployment.yaml"
    broken.write_text(yaml.safe_dump(deployment))
    assert validate([broken], K8S_VERSIONS[0]).returncode != 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_renders_into_valid_objects(project: Path, overlay: str, tmp_path: Path) -> None:
    objects = render(project, overlay)
    assert {item["kind"] for item in objects} == KINDS
    namespace = yaml.safe_load((project / "deploy" / "k8s" / "overlays" / overlay / "kustomization.yaml").read_text())[
        "namespace"
    ]
    assert {item["metadata"]["namespace"] for item in objects} == {namespace}
    assert DNS_LABEL.fullmatch(namespace)
    for item in objects:
        assert DNS_LABEL.fullmatch(item["metadata"]["name"]) or item["kind"] == "ConfigMap"
        assert all(len(value) <= 63 for value in item["metadata"]["labels"].values())
    rendered = tmp_path / f"{overlay}.yaml"
    rendered.write_text(yaml.safe_dump_all(objects))
    for version in K8S_VERSIONS:
        result = validate([rendered], version)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.count(" passed for resource ") == len(KINDS), result.stdout


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rendered_pods_are_restricted_and_wired_to_what_the_service_reads(project: Path, overlay: str) -> None:
    objects = render(project, overlay)
    deployment = by_kind(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    volumes = {volume["name"] for volume in pod["volumes"]}
    for container in pod["containers"] + pod.get("initContainers", []):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["runAsUser"] == 10001
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]) & set(container["resources"]["limits"])
        assert {mount["name"] for mount in container["volumeMounts"]} <= volumes
    (service,) = pod["containers"]
    assert service["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert service["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert service["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]

    # the writable paths are exactly what the service writes: the prediction log (the
    # Dockerfile's PREDICTION_LOG) and temporary files
    dockerfile = (project / "Dockerfile").read_text()
    prediction_log = Path(re.search(r"PREDICTION_LOG=(\S+)", dockerfile).group(1))
    writable = {mount["mountPath"] for mount in service["volumeMounts"] if not mount.get("readOnly")}
    assert writable == {str(prediction_log.parent), "/tmp"}

    # envFrom names the generated ConfigMap, and the service accepts its settings
    config_map = by_kind(objects, "ConfigMap")
    assert service["envFrom"] == [{"configMapRef": {"name": config_map["metadata"]["name"]}}]
    settings = load_settings(project, {**image_environment(dockerfile), **config_map["data"]})
    expected = {"staging": ("shadow", 0.1), "production": ("canary", 0.1)}[overlay]
    assert (settings.strategy, settings.canary_weight) == expected

    # an init container copies the candidate model into the folder the service loads it from,
    # on a volume the service mounts read-only
    (init,) = pod["initContainers"]
    volume = str(Path(settings.candidate_uri).parent)
    assert f"'{settings.candidate_uri}'" in init["command"][-1]
    (shared,) = [mount["name"] for mount in init["volumeMounts"] if mount["mountPath"] == volume]
    assert {"name": shared, "mountPath": volume, "readOnly": True} in service["volumeMounts"]
    assert init["image"].rpartition(":")[0] == service["image"].rpartition(":")[0] == IMAGE

    # the drift report the service turns into gauges is read from an optional ConfigMap volume
    (drift,) = [mount for mount in service["volumeMounts"] if mount["mountPath"] == str(settings.drift_report.parent)]
    assert drift["readOnly"] is True
    (volume,) = [volume for volume in pod["volumes"] if volume["name"] == drift["name"]]
    assert volume["configMap"]["optional"] is True

    # the Service, the disruption budget and the autoscaler all find these pods
    labels = pod_labels(deployment).items()
    assert by_kind(objects, "Service")["spec"]["selector"].items() <= labels
    assert by_kind(objects, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"].items() <= labels
    assert (
        by_kind(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    )


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]


def image_environment(dockerfile: str) -> dict[str, str]:
    """The ENV values of the Dockerfile's final stage (the settings the image brings along)."""
    final = dockerfile.rsplit("\nFROM ", 1)[1]
    (block,) = re.findall(r"^ENV ((?:.*\\\n)*.*)$", final, flags=re.MULTILINE)
    return dict(re.findall(r"(\w+)=(\S+)", block))


def load_settings(project: Path, environment: dict[str, str]) -> Any:
    """The generated service's own Settings.from_env(), under exactly `environment`."""
    source = project / "src" / MODULE / "serving" / "settings.py"
    read = set(re.findall(r'alias="(\w+)"', source.read_text()))
    assert set(environment) - {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"} <= read, "a setting nobody reads"
    sys.path.insert(0, str(project / "src"))
    saved = dict(os.environ)
    try:
        module = importlib.import_module(f"{MODULE}.serving.settings")
        os.environ.clear()
        os.environ.update(environment)
        return module.Settings.from_env()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        sys.path.remove(str(project / "src"))
        for name in [name for name in sys.modules if name.split(".")[0] == MODULE]:
            del sys.modules[name]


BATCH_KINDS = {"ConfigMap", "Job", "Role", "RoleBinding", "Service", "ServiceAccount"}
BATCH_IMAGE = f"{IMAGE}-batch"


def spark_defaults(text: str) -> dict[str, str]:
    """spark-defaults.conf as Spark reads it: `key value` lines, `#` comments."""
    lines = [line.strip() for line in text.splitlines()]
    return dict(line.split(None, 1) for line in lines if line and not line.startswith("#"))


def restricted(pod: dict[str, Any]) -> None:
    """The security style of the service's pods: user 10001, read-only root, nothing extra, /tmp an emptyDir."""
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    (container,) = pod["containers"]
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["runAsUser"] == 10001
    (tmp,) = [mount["name"] for mount in container["volumeMounts"] if mount["mountPath"] == "/tmp"]
    assert "emptyDir" in volumes[tmp]
    assert {mount["name"] for mount in container["volumeMounts"]} <= set(volumes)


def test_batch_scoring_renders_into_valid_objects_wired_for_spark(project: Path, tmp_path: Path) -> None:
    objects = render_folder(project, project / "deploy" / "k8s" / "batch")
    assert sorted(item["kind"] for item in objects) == sorted(BATCH_KINDS)
    config_map = by_kind(objects, "ConfigMap")
    template = yaml.safe_load(config_map["data"]["executor-pod-template.yaml"])
    rendered = tmp_path / "batch.yaml"
    rendered.write_text(yaml.safe_dump_all([*objects, template]))
    for version in K8S_VERSIONS:
        result = validate([rendered], version)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.count(" passed for resource ") == len(BATCH_KINDS) + 1, result.stdout
    for item in objects:
        assert DNS_LABEL.fullmatch(item["metadata"]["name"]) or item["kind"] == "ConfigMap"
        assert all(len(value) <= 63 for value in item["metadata"]["labels"].values())

    job = by_kind(objects, "Job")
    pod = job["spec"]["template"]["spec"]
    (driver,) = pod["containers"]
    restricted(pod)
    restricted(template["spec"])
    assert {"cpu", "memory"} <= set(driver["resources"]["requests"]) & set(driver["resources"]["limits"])
    assert pod["restartPolicy"] == "Never"

    # the driver's service account is the one bound to the Role, which manages executor pods and no more
    account, role, binding = (
        by_kind(objects, "ServiceAccount"),
        by_kind(objects, "Role"),
        by_kind(objects, "RoleBinding"),
    )
    namespace = job["metadata"]["namespace"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert pod.get("automountServiceAccountToken", True) is True
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": pod["serviceAccountName"], "namespace": namespace}
    ]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    (rule,) = role["rules"]
    assert rule["apiGroups"] == [""]
    assert set(rule["resources"]) == {"pods", "services", "configmaps", "persistentvolumeclaims"}
    assert {"create", "get", "list", "watch", "delete"} <= set(rule["verbs"])
    assert template["spec"]["automountServiceAccountToken"] is False, "executors never call the API server"

    # the headless Service selects the driver pod, neither the executors nor the prediction service's pods
    service = by_kind(objects, "Service")
    driver_labels = job["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"].items() <= driver_labels.items()
    assert not service["spec"]["selector"].items() <= template["metadata"]["labels"].items()
    for overlay in OVERLAYS:
        serving = render(project, overlay)
        assert not by_kind(serving, "Service")["spec"]["selector"].items() <= driver_labels.items()
        assert not pod_labels(by_kind(serving, "Deployment")).items() >= service["spec"]["selector"].items()

    # Spark's settings: mounted as $SPARK_CONF_DIR, naming that Service and its ports
    environment = {variable["name"]: variable for variable in driver["env"]}
    conf_dir = environment["SPARK_CONF_DIR"]["value"]
    (conf_mount,) = [mount for mount in driver["volumeMounts"] if mount["mountPath"] == conf_dir]
    (conf_volume,) = [volume for volume in pod["volumes"] if volume["name"] == conf_mount["name"]]
    assert conf_volume["configMap"]["name"] == config_map["metadata"]["name"]
    spark = spark_defaults(config_map["data"]["spark-defaults.conf"])
    assert spark["spark.driver.host"] == service["metadata"]["name"]
    ports = {port["name"]: port["port"] for port in service["spec"]["ports"]}
    assert {int(spark["spark.driver.port"]), int(spark["spark.blockManager.port"])} == set(ports.values())
    container_ports = {port["name"]: port["containerPort"] for port in driver["ports"]}
    assert {port["targetPort"]: port["port"] for port in service["spec"]["ports"]}.items() <= container_ports.items()
    assert spark["spark.kubernetes.executor.podTemplateFile"] == f"{conf_dir}/executor-pod-template.yaml"
    assert spark["spark.kubernetes.executor.podTemplateContainerName"] == template["spec"]["containers"][0]["name"]
    assert {"spark.executor.instances", "spark.executor.memory"} <= set(spark)

    # ${env:NAME} values come from the driver pod: its namespace, its own name and its own image
    referenced = {value[len("${env:") : -1] for value in spark.values() if value.startswith("${env:")}
    assert referenced <= set(environment)
    assert spark["spark.kubernetes.namespace"] == "${env:SPARK_NAMESPACE}"
    assert environment["SPARK_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert environment["SPARK_DRIVER_POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert spark["spark.driver.bindAddress"] == "${env:SPARK_DRIVER_POD_IP}"
    assert environment["SPARK_DRIVER_POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert spark["spark.kubernetes.container.image"] == "${env:SPARK_IMAGE}"
    assert driver["image"].rpartition(":")[0] == BATCH_IMAGE
    assert environment["SPARK_IMAGE"]["value"] == driver["image"]

    # the driver runs the score command on Kubernetes, the executors the project's executor process
    args = driver["args"]
    assert args[0] == "score"
    assert args[args.index("--engine") + 1] == "spark"
    assert args[args.index("--master") + 1] == "k8s://https://kubernetes.default.svc"
    (executor,) = template["spec"]["containers"]
    assert executor["command"] == ["python", "-m", f"{MODULE}.batch.executor"]
    assert (project / "src" / MODULE / "batch" / "executor.py").is_file()
    # the model baked into the batch image, where the Dockerfile's batch stage puts it
    batch_stage = (project / "Dockerfile").read_text().split(" AS batch\n")[1].split("\nFROM ")[0]
    assert f"COPY build/model {args[args.index('--model-uri') + 1]}" in batch_stage

    # INPUT and OUTPUT are on one claim, mounted at the same path in the driver and every executor
    def data(spec: dict[str, Any]) -> tuple[str, str]:
        (container,) = spec["containers"]
        claims = {
            volume["name"]: volume["persistentVolumeClaim"]["claimName"]
            for volume in spec["volumes"]
            if "persistentVolumeClaim" in volume
        }
        (mount,) = [mount for mount in container["volumeMounts"] if mount["name"] in claims]
        return claims[mount["name"]], mount["mountPath"]

    claim, path = data(pod)
    assert data(template["spec"]) == (claim, path)
    assert all(Path(argument).is_relative_to(path) for argument in args[1:3])


def test_the_batch_image_tag_reaches_driver_and_executors(project: Path, tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    shutil.copytree(project / "deploy" / "k8s" / "batch", batch)
    kustomization = batch / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("newTag: 0.1.0", "newTag: sha-0123abc"))
    (driver,) = by_kind(render_folder(project, batch), "Job")["spec"]["template"]["spec"]["containers"]
    assert driver["image"] == f"{BATCH_IMAGE}:sha-0123abc"
    assert {variable["name"]: variable.get("value") for variable in driver["env"]}["SPARK_IMAGE"] == driver["image"]


def test_promote_reaches_the_rendered_deployment(project: Path, tmp_path: Path) -> None:
    copy = tmp_path / SLUG
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".git"))
    env = {**os.environ, "PYTHONPATH": str(copy / "src")}

    def promote(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", MODULE, "promote", *args], cwd=copy, env=env, capture_output=True, text=True
        )

    primary = promote("--overlay", "production", "--image", f"{IMAGE}:sha-0123abc", "--model-version", "42")
    assert primary.returncode == 0, primary.stderr
    candidate = promote(
        "--overlay", "production", "--image", f"{IMAGE}:sha-4567def", "--model-version", "43", "--role", "candidate"
    )
    assert candidate.returncode == 0, candidate.stderr
    kustomization = copy / "deploy" / "k8s" / "overlays" / "production" / "kustomization.yaml"
    promoted = kustomization.read_text()
    again = promote("--overlay", "production", "--image", f"{IMAGE}:sha-0123abc", "--model-version", "42")
    assert again.stdout.startswith("unchanged")
    assert kustomization.read_text() == promoted

    deployment = by_kind(render(copy, "production"), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert [container["image"] for container in pod["containers"]] == [f"{IMAGE}:sha-0123abc"]
    assert [container["image"] for container in pod["initContainers"]] == [f"{IMAGE}:sha-4567def"]
    assert pod_labels(deployment)["model-version"] == "42"
    assert pod_labels(deployment)["candidate-model-version"] == "43"
    # staging is untouched by a production promotion
    staging = by_kind(render(copy, "staging"), "Deployment")
    assert staging == by_kind(render(project, "staging"), "Deployment")

    for bad in (["--overlay", "qa", "--image", f"{IMAGE}:1"], ["--overlay", "staging", "--image", IMAGE]):
        refused = promote(*bad, "--model-version", "1")
        assert refused.returncode == 1
        assert refused.stderr.startswith("error: promote: ")
    assert kustomization.read_text() == promoted


def test_argo_cd_applications_point_at_the_overlays(project: Path) -> None:
    applications = {path.stem: yaml.safe_load(path.read_text()) for path in (project / "deploy" / "argocd").glob("*")}
    assert set(applications) == set(OVERLAYS)
    for overlay, application in applications.items():
        assert application["apiVersion"] == "argoproj.io/v1alpha1"
        assert application["kind"] == "Application"
        spec = application["spec"]
        assert spec["source"]["repoURL"] == f"https://github.com/{OWNER}/{SLUG}.git"
        assert spec["source"]["path"] == f"deploy/k8s/overlays/{overlay}"
        kustomization = yaml.safe_load((project / spec["source"]["path"] / "kustomization.yaml").read_text())
        assert spec["destination"]["namespace"] == kustomization["namespace"]
        assert ("automated" in spec.get("syncPolicy", {})) is (overlay == "staging")


# PromQL words that are not metric names
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"}


def queried_metrics(expression: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that are not functions, keywords or labels."""
    expression = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expression)  # string literals
    expression = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", expression)  # label matchers, ranges
    expression = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expression)
    names = re.findall(r"(?<![\w.])([a-zA-Z_:][\w:]*)\b(?!\s*\()", expression)
    return {name for name in names if name not in PROMQL_WORDS}


def exposed_metrics(project: Path, drift_report: Path) -> set[str]:
    """Every sample name the service's /metrics can carry: its own registry, with a drift report to read."""
    drift_report.write_text(json.dumps({"drift_share": 0.25, "drifted": True}))
    render = (
        "from pathlib import Path\n"
        f"from {MODULE}.serving.rollout import RolloutService\n"
        f"from {MODULE}.serving.settings import Settings\n"
        f"print(RolloutService(Settings(drift_report=Path({str(drift_report)!r}))).metrics.render().decode())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    rendered = subprocess.run([sys.executable, "-c", render], cwd=project, env=env, capture_output=True, text=True)
    assert rendered.returncode == 0, rendered.stderr[-3000:]
    text = rendered.stdout
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created")}
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, flags=re.MULTILINE):
        stem = name.removesuffix("_total") if kind == "counter" else name
        names |= {stem + suffix for suffix in suffixes.get(kind, ("",))}
    return names


def test_alerts_and_dashboard_query_only_metrics_the_service_exposes(project: Path, tmp_path: Path) -> None:
    monitoring = project / "deploy" / "monitoring"
    rules = yaml.safe_load((monitoring / "alerts.yml").read_text())
    alert_expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = yaml.safe_load((monitoring / "grafana-dashboard.json").read_text())
    panel_expressions = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]

    queried = set().union(*map(queried_metrics, alert_expressions + panel_expressions))
    exposed = exposed_metrics(project, tmp_path / "drift.json")
    assert {"http_requests_total", "http_request_duration_seconds_bucket", "shadow_disagreements_total"} <= queried
    assert {"feature_drift_share", "drift_detected"} <= queried
    assert queried <= exposed, f"not exposed by the service: {sorted(queried - exposed)}"
    assert all(f'job="{SLUG}"' in expression for expression in alert_expressions + panel_expressions)


def test_alert_rules_pass_promtool_and_their_unit_tests(project: Path) -> None:
    promtool = tool("promtool")
    monitoring = project / "deploy" / "monitoring"
    checked = run([promtool, "check", "rules", "alerts.yml"], monitoring)
    rules = yaml.safe_load((monitoring / "alerts.yml").read_text())
    count = sum(len(group["rules"]) for group in rules["groups"])
    assert f"SUCCESS: {count} rules found" in checked.stdout
    run([promtool, "test", "rules", "alerts-test.yml"], monitoring)
    # every alert is exercised by the unit tests, firing and quiet
    tests = yaml.safe_load((monitoring / "alerts-test.yml").read_text())["tests"]
    firing = {case["alertname"] for test in tests for case in test["alert_rule_test"] if case["exp_alerts"]}
    quiet = {case["alertname"] for test in tests for case in test["alert_rule_test"] if not case["exp_alerts"]}
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert firing == quiet == alerts
