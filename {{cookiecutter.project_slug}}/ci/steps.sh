#!/usr/bin/env bash
# The steps CI runs beyond `make`, written once for every CI provider: GitHub Actions and GitLab CI
# call the same subcommands. Results are `key=value` lines on stdout (GitHub appends them to
# $GITHUB_OUTPUT, GitLab keeps them as a dotenv report for later jobs); text for people goes to
# stderr, or to stdout for `metrics-diff` and `summary`, which print Markdown.
#
#   ci/steps.sh metrics-diff BASE              the metrics of BASE (a git revision) against the working tree
#   ci/steps.sh image IMAGE MODEL_URI          make docker-build; prints image= and model_version=
{%- if cookiecutter.__cd %}
#   ci/steps.sh verdict                        drifted= and degraded= from reports/drift.json and feedback.json
#   ci/steps.sh outcome                        promoted= from reports/retrain_decision.json
#   ci/steps.sh summary monitoring|training    the reports as Markdown
#   ci/steps.sh record BRANCH                  commit the retraining (pipeline outputs, reports) on BRANCH; prints sha=
#   ci/steps.sh promote OVERLAY IMAGE VERSION ROLE [BRANCH]
#                                              point an overlay at the image and commit it; prints changed=
#   ci/steps.sh publish BRANCH [PUSH_OPTION...] push the commit to BRANCH of $PUSH_REMOTE (default origin),
#                                              rebasing onto promotions that landed meanwhile;
#                                              with PUSH_TOKEN, authenticated as PUSH_USER (default oauth2)
{%- endif %}
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

{%- if cookiecutter.__cd %}

report() {  # report FILE KEY: a JSON report's value as true/false
  "$PY" -c 'import json, sys; print(str(json.load(open(sys.argv[1]))[sys.argv[2]]).lower())' "$1" "$2"
}
{%- endif %}

command=${1:-}
shift || true
case "$command" in
  metrics-diff)
    base=${1:-HEAD}
    echo "### Metrics: $base -> this commit"
    echo
    .venv/bin/dvc metrics diff --md --all "$base"
    ;;
  image)
    make docker-build IMAGE="$1" MODEL_URI="$2" >&2
    echo "image=$1"
    echo "model_version=$("$PY" -c 'import json; print(json.load(open("build/model/manifest.json"))["version"])')"
    ;;
{%- if cookiecutter.__cd %}
  verdict)
    echo "drifted=$(report reports/drift.json drifted)"
    echo "degraded=$(report reports/feedback.json degraded)"
    ;;
  outcome)
    echo "promoted=$(report reports/retrain_decision.json promoted)"
    ;;
  summary)
    "$PY" - "$1" <<'PY'
import json
import sys

if sys.argv[1] == "monitoring":
    drift = json.load(open("reports/drift.json"))
    feedback = json.load(open("reports/feedback.json"))
    print("### Monitoring")
    print(f"- drifted: **{drift['drifted']}** (share of features drifted: {drift['drift_share']:.2f})")
    print(f"- degraded: **{feedback['degraded']}**")
    print("- reports: the `monitoring-reports` artifact (drift.html for the plots)")
else:
    decision = json.load(open("reports/retrain_decision.json"))
    print("### Continuous training")
    print(f"- retrain: **{decision['retrain']}**, promoted: **{decision['promoted']}**")
    for reason in decision["reasons"]:
        print(f"- {reason}")
PY
    ;;
  record)
    git switch --create "$1" >&2
    # the monitoring reports are git-ignored local state; here they are the record of the promotion
    git add --force reports/retrain_decision.json reports/drift.json reports/feedback.json
    git add --update -- dvc.lock data models reports
    reasons=$("$PY" -c 'import json; print("; ".join(json.load(open("reports/retrain_decision.json"))["reasons"]))')
    git commit --quiet -m "Retrained model promoted to champion" -m "$reasons"
    echo "sha=$(git rev-parse HEAD)"
    ;;
  promote)
    overlay=$1 image=$2 version=$3 role=$4 branch=${5:-}
    "$PY" -m {{ cookiecutter.module_name }} promote --overlay "$overlay" --image "$image" --model-version "$version" --role "$role" >&2
    if git diff --quiet -- "deploy/k8s/overlays/$overlay"; then
      echo "changed=false"
      exit 0
    fi
    if [ -n "$branch" ] && [ "$(git branch --show-current)" != "$branch" ]; then
      git switch --create "$branch" >&2
    fi
    git commit --quiet -m "Deploy model $version to $overlay ($role)" -m "Image: $image" -- "deploy/k8s/overlays/$overlay"
    echo "changed=true"
    ;;
  publish)
    branch=$1
    shift
    remote=${PUSH_REMOTE:-origin}
    if [ -n "${PUSH_TOKEN:-}" ]; then
      # credentials for this push only, as a header for the remote's URL: never in a URL or the log
      url=$(git remote get-url "$remote" 2>/dev/null || echo "$remote")
      auth=$(printf '%s:%s' "${PUSH_USER:-oauth2}" "$PUSH_TOKEN" | base64 -w0)
      export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="http.$url.extraheader" GIT_CONFIG_VALUE_0="Authorization: Basic $auth"
    fi
    options=()
    for option in "$@"; do options+=(--push-option "$option"); done
    # another promotion may have landed meanwhile: rebase onto it and retry
    for attempt in 1 2 3; do
      git push "${options[@]}" "$remote" "HEAD:refs/heads/$branch" >&2 && exit 0
      echo "push attempt $attempt was rejected; rebasing" >&2
      git pull --quiet --rebase "$remote" "$branch" >&2
    done
    exit 1
    ;;
{%- endif %}
  *)
    echo "usage: ci/steps.sh metrics-diff|image{% if cookiecutter.__cd %}|verdict|outcome|summary|record|promote|publish{% endif %} ..." >&2
    exit 2
    ;;
esac
