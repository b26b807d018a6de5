/**
 * The chart `chartprov demo` works with: what `helm create hello-world`
 * makes, trimmed to a Deployment and a Service, written without Helm.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface DemoChartOptions {
  /** Folder the chart folder is made in. */
  parentDir: string;
  name: string;
  version: string;
  /** The container image the chart runs; the tampering step swaps it. */
  image?: string;
}

/** Writes the chart folder `<parentDir>/<name>` and returns its path. */
export async function writeDemoChart(opts: DemoChartOptions): Promise<string> {
  const dir = join(opts.parentDir, opts.name);
  await mkdir(join(dir, 'templates'), { recursive: true });
  const files: Record<string, string> = {
    'Chart.yaml': chartYaml(opts.name, opts.version),
    'values.yaml': valuesYaml(opts.image ?? 'nginx'),
    '.helmignore': HELMIGNORE,
    'templates/_helpers.tpl': helpers(opts.name),
    'templates/deployment.yaml': deployment(opts.name),
    'templates/service.yaml': service(opts.name),
    'templates/NOTES.txt': notes(opts.name),
  };
  await Promise.all(Object.entries(files).map(([file, text]) => writeFile(join(dir, file), text)));
  return dir;
}

function chartYaml(name: string, version: string): string {
  return `apiVersion: v2
name: ${name}
description: A Helm chart for Kubernetes
type: application
version: ${version}
appVersion: "1.16.0"
`;
}

function valuesYaml(image: string): string {
  return `replicaCount: 1

image:
  repository: ${image}
  pullPolicy: IfNotPresent
  # Overrides the image tag whose default is the chart appVersion.
  tag: ""

service:
  type: ClusterIP
  port: 80

resources: {}
`;
}

const HELMIGNORE = `# Patterns to ignore when building packages.
.DS_Store
.git/
.gitignore
*.swp
*.bak
*.tmp
*.orig
*~
.idea/
.vscode/
`;

function helpers(name: string): string {
  return `{{/*
Expand the name of the chart.
*/}}
{{- define "${name}.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
*/}}
{{- define "${name}.fullname" -}}
{{- printf "%s-%s" .Release.Name (include "${name}.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels
*/}}
{{- define "${name}.selectorLabels" -}}
app.kubernetes.io/name: {{ include "${name}.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
`;
}

function deployment(name: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "${name}.fullname" . }}
  labels:
    {{- include "${name}.selectorLabels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "${name}.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "${name}.selectorLabels" . | nindent 8 }}
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: 80
              protocol: TCP
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
`;
}

function service(name: string): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: {{ include "${name}.fullname" . }}
  labels:
    {{- include "${name}.selectorLabels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
      name: http
  selector:
    {{- include "${name}.selectorLabels" . | nindent 4 }}
`;
}

function notes(name: string): string {
  return `Get the application URL by running:
  kubectl --namespace {{ .Release.Namespace }} port-forward svc/{{ include "${name}.fullname" . }} 8080:{{ .Values.service.port }}
  echo "Visit http://127.0.0.1:8080"
`;
}
