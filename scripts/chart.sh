#!/usr/bin/env bash
# Copies the one source of the webhook's manifests into the Helm chart, which cannot read files
# outside its own folder: manifests/webhook/*.yaml into charts/kkp-webhook/files/ (the chart's
# templates load them and apply its values) and the CRDs (the generated crds/*.yaml and the policy
# report CRDs manifests/crds/*.yaml) into charts/kkp-webhook/crds/, which Helm installs only where
# they are missing. The chart tests fail when a copy differs from its source.
#
#   scripts/chart.sh sync    copy (what `make chart` runs)
#   scripts/chart.sh check   exit 1, naming the files, when a copy is missing or differs
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

chart=charts/kkp-webhook
pairs() {
  local f
  for f in manifests/webhook/*.yaml; do echo "$f $chart/files/$(basename "$f")"; done
  for f in crds/*.yaml manifests/crds/*.yaml; do echo "$f $chart/crds/$(basename "$f")"; done
}

case "${1:-sync}" in
  sync)
    mkdir -p "$chart/files" "$chart/crds"
    # Copies of sources that are gone go too.
    for f in "$chart"/files/*.yaml; do [[ -e "manifests/webhook/$(basename "$f")" ]] || rm -f "$f"; done
    for f in "$chart"/crds/*.yaml; do
      [[ -e "crds/$(basename "$f")" || -e "manifests/crds/$(basename "$f")" ]] || rm -f "$f"
    done
    while read -r src dst; do
      cp "$src" "$dst.tmp" && mv "$dst.tmp" "$dst"
    done < <(pairs)
    echo "chart: copied the manifests and CRDs into $chart" >&2
    ;;
  check)
    stale=0
    while read -r src dst; do
      if ! cmp -s "$src" "$dst"; then echo "chart: $dst differs from $src" >&2; stale=1; fi
    done < <(pairs)
    if [[ $stale -ne 0 ]]; then echo "chart: run 'make chart' to copy the sources into the chart" >&2; exit 1; fi
    ;;
  *) echo "usage: $0 sync|check" >&2; exit 2 ;;
esac
