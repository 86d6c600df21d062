import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { parseAllDocuments, parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig, type Role } from '../../src/config/config.js';
import { dashboardEnvSchema } from '../../src/http/admin.js';
import { QUEUE_NAME } from '../../src/queue/job.js';

// The deployment files checked without a cluster (no kubeconform here: it is on neither npm nor
// Debian, and fetches its schemas from the network): every Kubernetes object against the API's
// OpenAPI schema (kubernetes-models, @kubernetes-models/keda), then what ties them to the service:
// each variable is one src/config reads and each role's environment passes loadConfig, ports and
// probes are the ones the processes serve, the worker's grace period covers SHUTDOWN_TIMEOUT_MS,
// and the autoscaler reads the queue the workers take jobs from. The same for docker-compose.yml.

const K8S = join(import.meta.dirname, '../../deploy/k8s');
type Obj = { kind: string; apiVersion: string; metadata: { name: string }; [k: string]: unknown };
type Container = {
  name: string;
  image: string;
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
};
type Probe = { httpGet: { path: string; port: string | number } };
type PodSpec = { containers: Container[]; terminationGracePeriodSeconds?: number };
type DeploymentObj = Obj & { spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } };

function load(file: string): Obj[] {
  return parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((d) => {
    expect(d.errors, file).toEqual([]);
    return d.toJS() as Obj;
  });
}

const kustomization = parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')) as { resources: string[]; images: { name: string }[] };
const objects = kustomization.resources.flatMap(load);
const secretExample = load('secret.example.yaml');
const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
const deployment = (component: string) =>
  byKind('Deployment').find((d) => (d as DeploymentObj).spec.template.metadata.labels['app.kubernetes.io/component'] === component) as DeploymentObj;
const container = (component: string) => deployment(component).spec.template.spec.containers[0]!;

/** The environment a container gets: the ConfigMap and Secret it names, then its own `env`. */
function envOf(c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    const source = from.configMapRef
      ? (byKind('ConfigMap').find((m) => m.metadata.name === from.configMapRef!.name) as { data: Record<string, string> } | undefined)?.data
      : (secretExample.find((s) => s.metadata.name === from.secretRef!.name) as { stringData: Record<string, string> } | undefined)?.stringData;
    expect(source, `${c.name} takes its environment from ${JSON.stringify(from)}, which must exist`).toBeDefined();
    Object.assign(env, source);
  }
  for (const e of c.env ?? []) env[e.name] = e.value ?? '';
  return env;
}

/** Read by the AWS SDK's credential chain, the image's HEALTHCHECK, or the dashboard: not src/config's. */
const NOT_CONFIG = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'HEALTHCHECK_URL', ...Object.keys(dashboardEnvSchema.shape)]);

/**
 * Whether src/config reads `name`: loadConfig's result (or its complaint) changes when the variable
 * is removed or given another value. A misspelt variable changes nothing and is silently ignored
 * at run time, which is what this catches.
 */
function configReads(role: Role, env: Record<string, string>, name: string): boolean {
  const outcome = (e: Record<string, string>) => {
    try {
      return JSON.stringify(loadConfig(role, e));
    } catch (err) {
      return String(err);
    }
  };
  const base = outcome(env);
  const { [name]: value = '', ...without } = env;
  const variants = [without, { ...env, [name]: /^\d+$/.test(value) ? String(Number(value) + 1) : `${value}x` }, { ...env, [name]: 'not-a-valid-value' }];
  return variants.some((v) => outcome(v) !== base);
}

describe('deploy/k8s', () => {
  it('lists every manifest in the kustomization, and each object is valid against the Kubernetes (and KEDA) schema', () => {
    const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== 'secret.example.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    const models: Record<string, (o: Obj) => { validate(): void }> = {
      Deployment: (o) => new Deployment(o as never),
      Service: (o) => new Service(o as never),
      ConfigMap: (o) => new ConfigMap(o as never),
      Secret: (o) => new Secret(o as never),
      PodDisruptionBudget: (o) => new PodDisruptionBudget(o as never),
      ScaledObject: (o) => new ScaledObject(o as never),
    };
    for (const o of [...objects, ...secretExample]) {
      const model = models[o.kind];
      expect(model, `no schema check for kind ${o.kind}`).toBeDefined();
      expect(() => model!(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
    expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Deployment', 'PodDisruptionBudget', 'PodDisruptionBudget', 'ScaledObject', 'Service']);
    for (const d of byKind('Deployment') as DeploymentObj[]) {
      expect(d.spec.template.spec.containers.map((c) => c.image)).toEqual([kustomization.images[0]!.name]);
    }
  });

  it('gives each role an environment that src/config accepts, naming only variables it reads', () => {
    for (const role of ['server', 'worker'] as const) {
      const c = container(role);
      expect(c.args).toEqual([role]);
      const env = envOf(c);
      expect(() => loadConfig(role, env), role).not.toThrow();
      const unread = Object.keys(env).filter((name) => !NOT_CONFIG.has(name) && !configReads(role, env, name));
      expect(unread, `${role}: variables src/config does not read`).toEqual([]);
      // The control: a misspelt variable is caught.
      expect(configReads(role, { ...env, SHUTDOWN_TIMEOUT: '1000' }, 'SHUTDOWN_TIMEOUT')).toBe(false);
      for (const name of Object.keys(env).filter((n) => Object.keys(dashboardEnvSchema.shape).includes(n))) {
        expect(dashboardEnvSchema.safeParse(env).success, name).toBe(true);
      }
    }
  });

  it('probes and ports are the ones the server and the worker serve', () => {
    const server = container('server');
    const serverConfig = loadConfig('server', envOf(server));
    const http = server.ports!.find((p) => p.name === 'http')!;
    expect(http.containerPort).toBe(serverConfig.http.port);
    expect(server.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(server.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(server.startupProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const service = byKind('Service')[0] as Obj & { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } };
    expect(service.spec.ports.map((p) => p.targetPort)).toEqual(['http']);
    expect(service.spec.selector).toEqual(deployment('server').spec.template.metadata.labels);

    const worker = container('worker');
    const workerConfig = loadConfig('worker', envOf(worker));
    const metrics = worker.ports!.find((p) => p.name === 'metrics')!;
    expect(metrics.containerPort).toBe(workerConfig.worker.metricsPort);
    expect(worker.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(worker.startupProbe!.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    // A worker is not an HTTP backend: a readiness probe would only mislead.
    expect(worker.readinessProbe).toBeUndefined();
  });

  it("the worker's grace period covers SHUTDOWN_TIMEOUT_MS plus time to hand jobs back, after any preStop", () => {
    const d = deployment('worker');
    const c = container('worker');
    const shutdownS = loadConfig('worker', envOf(c)).worker.shutdownTimeoutMs / 1000;
    const preStop = c.lifecycle?.preStop;
    const preStopS = preStop?.sleep?.seconds ?? (preStop?.exec?.command[0] === 'sleep' ? Number(preStop.exec.command[1]) : preStop ? NaN : 0);
    expect(preStopS, 'a preStop hook other than a sleep has no known length').not.toBeNaN();
    const grace = d.spec.template.spec.terminationGracePeriodSeconds!;
    expect(grace).toBeGreaterThanOrEqual(preStopS + shutdownS + 30);
    expect(grace).toBeLessThanOrEqual(preStopS + shutdownS + 180);
  });

  it('each Deployment has a PodDisruptionBudget selecting its pods', () => {
    for (const component of ['server', 'worker']) {
      const labels = deployment(component).spec.template.metadata.labels;
      const pdb = byKind('PodDisruptionBudget').filter((p) => {
        const sel = (p as Obj & { spec: { selector: { matchLabels: Record<string, string> } } }).spec.selector.matchLabels;
        return Object.entries(sel).every(([k, v]) => labels[k] === v);
      });
      expect(pdb, component).toHaveLength(1);
    }
    const workerPdb = byKind('PodDisruptionBudget').find((p) => p.metadata.name.endsWith('worker')) as Obj & { spec: { maxUnavailable: number } };
    expect(workerPdb.spec.maxUnavailable).toBe(1);
  });

  it("the autoscaler reads the workers' queue: the BullMQ wait list under QUEUE_PREFIX, on REDIS_URL's host", () => {
    const so = byKind('ScaledObject')[0] as Obj & {
      spec: { scaleTargetRef: { name: string }; minReplicaCount: number; triggers: { type: string; metadata: Record<string, string> }[] };
    };
    expect(so.spec.scaleTargetRef.name).toBe(deployment('worker').metadata.name);
    expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    const config = loadConfig('worker', envOf(container('worker')));
    const trigger = so.spec.triggers.find((t) => t.type === 'redis')!;
    expect(trigger.metadata.listName).toBe(`${config.redis.prefix}:${QUEUE_NAME}:wait`);
    const redis = new URL(config.redis.url);
    expect(trigger.metadata.address).toBe(`${redis.hostname}:${redis.port || 6379}`);
    expect(Number(trigger.metadata.listLength)).toBeGreaterThan(0);
  });
});

describe('docker-compose.yml', () => {
  type Service = { image?: string; build?: unknown; restart?: string; environment?: Record<string, string>; stop_grace_period?: string; volumes?: string[]; command?: string[] };
  const compose = parse(readFileSync(join(import.meta.dirname, '../../docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
    volumes: Record<string, unknown>;
  };
  const seconds = (d: string) => [...d.matchAll(/(\d+)(h|m|s)/g)].reduce((s, [, n, u]) => s + Number(n) * { h: 3600, m: 60, s: 1 }[u as 'h' | 'm' | 's'], 0);

  it("server and worker: the image's roles, environments src/config accepts, restart policy, own image names", () => {
    const { server, worker } = compose.services;
    for (const [role, s] of [['server', server!], ['worker', worker!]] as const) {
      expect(s.command).toEqual([role]);
      expect(s.restart).toBe('unless-stopped');
      expect(s.build).toBe('.');
      expect(() => loadConfig(role, s.environment!), role).not.toThrow();
    }
    expect(server!.image).not.toBe(worker!.image);
  });

  it("the worker's stop_grace_period leaves a minute past SHUTDOWN_TIMEOUT_MS", () => {
    const worker = compose.services.worker!;
    const shutdownS = loadConfig('worker', worker.environment!).worker.shutdownTimeoutMs / 1000;
    expect(seconds(worker.stop_grace_period!)).toBeGreaterThanOrEqual(shutdownS + 60);
  });

  it('Redis, PostgreSQL and MinIO keep their data in named volumes', () => {
    for (const [service, path] of [['redis', '/data'], ['postgres', '/var/lib/postgresql/data'], ['minio', '/data']] as const) {
      const mount = compose.services[service]!.volumes?.find((v) => v.endsWith(`:${path}`));
      expect(mount, service).toBeDefined();
      const volume = mount!.split(':')[0]!;
      expect(Object.keys(compose.volumes), service).toContain(volume);
    }
  });
});
