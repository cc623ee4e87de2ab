import type { Labels } from './istio-types.js';

/** The parts of Kubernetes objects Trellis reads. Other fields are kept in `raw` but not modelled. */
export interface ServiceSpec {
  selector?: Labels;
  ports?: KubeServicePort[];
  type?: string;
  clusterIP?: string;
}

export interface KubeServicePort {
  name?: string;
  port: number;
  /** A number, or the name of a container port. Defaults to `port`. */
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

export interface DeploymentSpec {
  replicas?: number;
  selector?: { matchLabels?: Labels };
  template: PodTemplate;
}

export interface PodTemplate {
  metadata?: { labels?: Labels; annotations?: Record<string, string> };
  spec: PodSpec;
}

export interface PodSpec {
  containers: Container[];
  serviceAccountName?: string;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: ContainerPort[];
  workingDir?: string;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

/**
 * A Kubernetes Secret's top-level fields (a Secret has no `spec`). `data` values are base64; `stringData`
 * values are plain text and win over `data`, as the API server merges them.
 */
export interface SecretSpec {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface PodStatus {
  podIP?: string;
  phase?: string;
}
