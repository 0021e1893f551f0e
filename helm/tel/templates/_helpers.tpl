{{/* Common names and labels. */}}
{{- define "tel.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tel.image" -}}
{{- $root := index . 0 -}}{{- $service := index . 1 -}}
{{- printf "%s%s:%s" $root.Values.image.prefix $service (default $root.Chart.AppVersion $root.Values.image.tag) -}}
{{- end -}}

{{- define "tel.labels" -}}
{{- $root := index . 0 -}}{{- $service := index . 1 -}}
app.kubernetes.io/name: {{ $service }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/part-of: tel
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version }}
{{- end -}}

{{- define "tel.selector" -}}
{{- $root := index . 0 -}}{{- $service := index . 1 -}}
app.kubernetes.io/name: {{ $service }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
{{- end -}}

{{/*
A stateless service: Deployment, Service, PodDisruptionBudget, HorizontalPodAutoscaler.
Arguments: list root service-name values ports-dict env-list [storage-dict]
ports-dict: {"grpc"|"http": port, "admin": port}. Probes use the admin port's /healthz and /readyz.
storage-dict (optional): {"volumes": [...], "volumeMounts": [...]} for shared volumes (the prompts);
the pod then also gets fsGroup 65532, so that what it writes there its peers can read.
*/}}
{{- define "tel.statelessService" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $values := index . 2 -}}
{{- $ports := index . 3 -}}
{{- $env := index . 4 -}}
{{- $storage := dict -}}
{{- if gt (len .) 5 }}{{ $storage = index . 5 }}{{ end -}}
{{- $fullname := printf "%s-%s" $root.Release.Name $name | trunc 63 | trimSuffix "-" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "tel.labels" (list $root $name) | nindent 4 }}
spec:
  {{- if not $values.autoscaling.enabled }}
  replicas: {{ $values.replicas }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "tel.selector" (list $root $name) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "tel.labels" (list $root $name) | nindent 8 }}
    spec:
      terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
      {{- with $root.Values.image.pullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        {{- if $storage.volumes }}
        fsGroup: 65532
        {{- end }}
      {{- with $storage.volumes }}
      volumes:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $name }}
          image: {{ include "tel.image" (list $root $name) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          ports:
            {{- range $portName, $port := $ports }}
            - name: {{ $portName }}
              containerPort: {{ $port }}
              protocol: TCP
            {{- end }}
          env:
            {{- toYaml $env | nindent 12 }}
            {{- range $key, $value := $values.env }}
            - name: {{ $key }}
              value: {{ $value | quote }}
            {{- end }}
          {{- with $storage.volumeMounts }}
          volumeMounts:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          livenessProbe:
            httpGet: {path: /healthz, port: admin}
            periodSeconds: 10
            failureThreshold: 3
          readinessProbe:
            httpGet: {path: /readyz, port: admin}
            periodSeconds: 5
            failureThreshold: 2
          resources:
            {{- toYaml $values.resources | nindent 12 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "tel.labels" (list $root $name) | nindent 4 }}
spec:
  type: {{ ($values.service).type | default "ClusterIP" }}
  selector:
    {{- include "tel.selector" (list $root $name) | nindent 4 }}
  ports:
    {{- range $portName, $port := $ports }}
    - name: {{ $portName }}
      port: {{ if and (ne $portName "admin") ($values.service).port }}{{ $values.service.port }}{{ else }}{{ $port }}{{ end }}
      targetPort: {{ $portName }}
      protocol: TCP
    {{- end }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "tel.labels" (list $root $name) | nindent 4 }}
spec:
  minAvailable: {{ $values.pdbMinAvailable }}
  selector:
    matchLabels:
      {{- include "tel.selector" (list $root $name) | nindent 6 }}
{{- if $values.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "tel.labels" (list $root $name) | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $fullname }}
  minReplicas: {{ $values.replicas }}
  maxReplicas: {{ $values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $values.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- if and $root.Values.serviceMonitor.enabled ($root.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "tel.labels" (list $root $name) | nindent 4 }}
spec:
  selector:
    matchLabels:
      {{- include "tel.selector" (list $root $name) | nindent 6 }}
  endpoints:
    - port: admin
      path: /metrics
      interval: {{ $root.Values.serviceMonitor.interval }}
{{- end }}
{{- end -}}

{{/*
Where the services find Postgres, Redis and Kafka: the external ones of the values, or the trial
install's own (trial.enabled).
*/}}
{{- define "tel.postgresSecret" -}}
{{- if .Values.trial.enabled -}}{{ printf "%s-trial-postgres" .Release.Name }}{{- else -}}{{ .Values.postgres.existingSecret }}{{- end -}}
{{- end -}}

{{- define "tel.redisUrl" -}}
{{- if .Values.trial.enabled -}}{{ printf "redis://%s-trial-redis:6379" .Release.Name }}{{- else -}}{{ .Values.redis.url }}{{- end -}}
{{- end -}}

{{/* The claim of the prompts volume (values: prompts), mounted by routing and media-relay. */}}
{{- define "tel.promptsClaim" -}}
{{- if .Values.prompts.existingClaim -}}{{ .Values.prompts.existingClaim }}{{- else -}}{{ printf "%s-prompts" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "tel.recordingsClaim" -}}
{{- if .Values.recordings.existingClaim -}}{{ .Values.recordings.existingClaim }}{{- else -}}{{ printf "%s-recordings" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "tel.kafkaBrokers" -}}
{{- if .Values.trial.enabled -}}{{ printf "%s-trial-kafka-0.%s-trial-kafka:9092" .Release.Name .Release.Name }}{{- else -}}{{ .Values.kafka.brokers }}{{- end -}}
{{- end -}}
