#!/usr/bin/env bash
# The shipped Prometheus rules are valid (promtool check rules) and behave as their unit tests
# say (promtool test rules tests/ops/alerts_test.yml: each alert fires, and stays quiet, when
# it should). Also checks the Grafana dashboard is JSON that uses only the documented metrics.
#   alerts_test.sh SOURCE_DIR
set -euo pipefail
src=${1:?usage: alerts_test.sh SOURCE_DIR}
promtool check rules "$src/deploy/prometheus/alerts.yml"
promtool test rules "$src/tests/ops/alerts_test.yml"

# Every metric the rules and the dashboard use is in the table of docs/operations.md.
documented=$(grep -o '^| `anshin_[a-z_]*' "$src/docs/operations.md" | sed 's/^| `//' | sort -u)
used=$(cat "$src/deploy/prometheus/alerts.yml" "$src/deploy/grafana/anshin.json" |
  grep -o 'anshin_[a-z_]*' | grep -v '^anshin_$' | sort -u)
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["panels"], "no panels"' \
  "$src/deploy/grafana/anshin.json"
missing=$(comm -23 <(echo "$used") <(echo "$documented"))
if [ -n "$missing" ]; then
  echo "FAIL: metrics used but not in docs/operations.md: $missing"
  exit 1
fi
echo "alerts: rules valid, unit tests pass, $(wc -l <<<"$used") metrics used, all documented"
