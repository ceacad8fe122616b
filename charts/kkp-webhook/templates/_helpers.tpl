{{/*
The documents of one file under files/ (copies of the manifests `kubectl kkp install` applies), as
a JSON list: include with (dict "root" $ "file" "files/NAME.yaml") and read with fromJsonArray.
*/}}
{{- define "kkp-webhook.documents" -}}
{{- $text := .root.Files.Get .file -}}
{{- if not $text -}}
{{- fail (printf "the chart has no %s; run 'make chart'" .file) -}}
{{- end -}}
{{- $docs := list -}}
{{- range regexSplit "(?m)^---[ \t]*$" $text -1 -}}
{{- $doc := fromYaml . -}}
{{- if hasKey $doc "Error" -}}
{{- fail (printf "%s does not parse: %s" $.file (get $doc "Error")) -}}
{{- end -}}
{{- if $doc -}}
{{- $docs = append $docs $doc -}}
{{- end -}}
{{- end -}}
{{- toJson $docs -}}
{{- end -}}

{{/* The objects in a list, as YAML documents. */}}
{{- define "kkp-webhook.emit" -}}
{{- range . }}
---
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The namespaceSelector of a webhook with the chart's exempt namespaces added: a webhook skips a
namespace named in exemptions.namespaces as it skips one labelled exempt.
*/}}
{{- define "kkp-webhook.withExemptions" -}}
{{- $hook := .hook -}}
{{- with .namespaces -}}
{{- $selector := default (dict) $hook.namespaceSelector -}}
{{- $expressions := default (list) $selector.matchExpressions -}}
{{- $expressions = append $expressions (dict "key" "kubernetes.io/metadata.name" "operator" "NotIn" "values" .) -}}
{{- $_ := set $selector "matchExpressions" $expressions -}}
{{- $_ := set $hook "namespaceSelector" $selector -}}
{{- end -}}
{{- end -}}
