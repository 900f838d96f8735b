import { describe, expect, it } from 'vitest';
import { buildLabels, containerName, deploymentLabels, LABEL, unprovenName } from '../../src/core/names.js';
import { parseRecordLabel, recordLabel, type RecordLabel } from '../../src/core/record-label.js';
import {
  namedIds,
  planSync,
  toInspect,
  type InspectedContainer,
  type ListedContainer,
  type ListedImage,
  type SyncInput,
} from '../../src/core/sync-plan.js';
import type { Deployment } from '../../src/core/types.js';
import { makeConfig, makeVersion as deployment, UNEVENTFUL } from '../helpers/unit.js';

const URL = 'unix:///var/run/docker.sock';
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const STARTED = Date.UTC(2026, 5, 1, 9, 0, 0);
const EXITED = Date.UTC(2026, 5, 1, 11, 0, 0);

/** The container a deployment's deploy made, as the listing shows it. */
function container(d: Deployment, overrides: Partial<ListedContainer> = {}): ListedContainer {
  return {
    id: `c-${d.id}`,
    name: containerName(d.app, d.version, d.id),
    state: 'running',
    exitCode: null,
    labels: deploymentLabels(d),
    ...overrides,
  };
}

function image(d: Deployment): ListedImage {
  return { id: `sha256:img-${d.id}`, labels: buildLabels(d) };
}

function inspection(c: ListedContainer, overrides: Partial<InspectedContainer> = {}): InspectedContainer {
  return {
    id: c.id,
    name: c.name,
    status: c.state,
    restarting: false,
    exitCode: c.exitCode ?? 0,
    imageId: 'sha256:other',
    env: [],
    startedAt: STARTED,
    finishedAt: null,
    ...overrides,
  };
}

function label(d: Deployment): RecordLabel {
  return parseRecordLabel(recordLabel(d)) as RecordLabel;
}

function input(overrides: Partial<SyncInput> = {}): SyncInput {
  return {
    endpoint: URL,
    now: NOW,
    scope: { known: ['web'] },
    busy: [],
    containers: [],
    images: [],
    named: [],
    withContainers: [],
    inspected: new Map(),
    ...overrides,
  };
}

/** What names a change that corrects d's record from one status to another (its patch and why are the rest). */
function correcting(d: Deployment, from: string, to: string) {
  return { kind: 'correct', id: d.id, app: d.app, version: d.version, from, to };
}

/**
 * What the engine tells of a deployment adopted from container c, started at STARTED as its inspection says: c is
 * its workload, and it is taken as ready and finished at that start (its label carries none of these times).
 */
function ranAs(c: ListedContainer): Partial<Deployment> {
  return {
    workload: c.id,
    containerId: c.id,
    containerName: c.name,
    startedAt: STARTED,
    readyAt: STARTED,
    finishedAt: STARTED,
    checkedAt: NOW,
  };
}

/** The change that adds d from its image i alone (no container): the image's id is its image id and digest. */
function addedFromImage(d: Deployment, i: ListedImage, rest: Partial<Deployment>) {
  return { kind: 'add', from: 'image', deployment: adopted(d, { imageId: i.id, imageDigest: i.id, ...rest }) };
}

/** The record another store's sync rebuilds of d: its label's fields, and what the engine says of the rest. */
function adopted(d: Deployment, rest: Partial<Deployment>): Deployment {
  return {
    ...d,
    status: 'superseded',
    imageId: null,
    imageDigest: null,
    runtime: 'container',
    workload: null,
    containerId: null,
    containerName: null,
    endpoint: URL,
    startedAt: null,
    readyAt: null,
    finishedAt: null,
    ...UNEVENTFUL,
    ...rest,
  };
}

describe('sync: containers of deployments this store has no record of', () => {
  it('adopts a running one from its label, with the secret values from its environment and the image it runs', () => {
    const d = deployment(2, {
      config: makeConfig({ env: { TOKEN: { value: 's3cret', secret: true }, MODE: { value: 'prod', secret: false } } }),
    });
    const c = container(d);
    const i = image(d);
    const seen = input({ containers: [c], images: [i] });
    expect(toInspect(seen)).toEqual([c.id]);
    const plan = planSync({
      ...seen,
      inspected: new Map([[c.id, inspection(c, { imageId: i.id, env: ['TOKEN=s3cret', 'MODE=prod', 'PATH=/bin'] })]]),
    });
    expect(plan).toEqual({
      changes: [
        {
          kind: 'add',
          from: 'container',
          deployment: adopted(d, {
            status: 'running',
            imageId: i.id,
            imageDigest: i.id,
            ...ranAs(c),
          }),
        },
      ],
      current: { web: d.id },
      strangers: [],
      labels: { web: [label(d), label(d)] },
    });
  });

  it('adopts an exited one as exited, with its exit code and time, and the image id the engine names', () => {
    const d = deployment(2);
    const c = container(d, { state: 'exited', exitCode: 137 });
    const plan = planSync(
      input({
        containers: [c],
        inspected: new Map([[c.id, inspection(c, { exitCode: 137, finishedAt: EXITED, imageId: 'sha256:gone' })]]),
      }),
    );
    expect(plan.changes).toEqual([
      {
        kind: 'add',
        from: 'container',
        deployment: adopted(d, {
          status: 'exited',
          exitCode: 137,
          exitedAt: EXITED,
          imageId: 'sha256:gone',
          imageDigest: 'sha256:gone',
          ...ranAs(c),
        }),
      },
    ]);
    // With a container, even an exited one, it is the app's current deployment.
    expect(plan.current).toEqual({ web: d.id });
  });

  it('adopts nothing from a container that was never started, or that was gone by the time it was inspected', () => {
    const d = deployment(2);
    const c = container(d, { state: 'created' });
    expect(
      planSync(input({ containers: [c], inspected: new Map([[c.id, inspection(c, { startedAt: null })]]) })).changes,
    ).toEqual([]);
    expect(planSync(input({ containers: [c], inspected: new Map([[c.id, null]]) })).changes).toEqual([]);
  });

  it('adopts one still named ".starting" as interrupted (it never passed its gate), and never makes it the current one', () => {
    const v1 = deployment(1);
    const v2 = deployment(2);
    const old = container(v1);
    const orphan = container(v2, { name: unprovenName(containerName('web', 2, v2.id)) });
    const plan = planSync(
      input({ containers: [orphan, old], named: [v1], inspected: new Map([[orphan.id, inspection(orphan)]]) }),
    );
    expect(plan.changes).toEqual([
      {
        kind: 'add',
        from: 'container',
        deployment: adopted(v2, {
          status: 'interrupted',
          workload: orphan.id,
          containerId: orphan.id,
          containerName: orphan.name,
          checkedAt: NOW,
          error: {
            code: 'interrupted',
            message: 'its deploy ended before its health gate passed (found on the engine by sync)',
          },
        }),
      },
    ]);
    expect(plan.current).toEqual({ web: v1.id });
  });

  it('leaves out containers with no record label and no record (nothing to adopt them from)', () => {
    const d = deployment(2);
    const c = container(d, { labels: { [LABEL.app]: 'web', [LABEL.id]: d.id, [LABEL.managed]: 'true' } });
    expect(toInspect(input({ containers: [c] }))).toEqual([]);
    expect(planSync(input({ containers: [c] }))).toEqual({ changes: [], current: {}, strangers: [], labels: {} });
  });
});

describe("sync: containers of this store's records", () => {
  it('marks a running record exited when its container exited, with the time an inspection gives', () => {
    const d = deployment(3);
    const c = container(d, { state: 'exited', exitCode: 1 });
    const seen = input({ containers: [c], named: [d] });
    expect(toInspect(seen)).toEqual([c.id]);
    expect(
      planSync({
        ...seen,
        inspected: new Map([[c.id, inspection(c, { status: 'exited', exitCode: 1, finishedAt: EXITED })]]),
      }).changes,
    ).toEqual([
      {
        ...correcting(d, 'running', 'exited'),
        patch: { status: 'exited', containerId: c.id, exitCode: 1, exitedAt: EXITED, checkedAt: NOW },
        why: 'its container exited with code 1, not stopped by deploy, as the engine says',
      },
    ]);
  });

  it('goes by the listing when the container was gone by the time it was inspected, and by the inspection when it restarts', () => {
    const d = deployment(3);
    const c = container(d, { state: 'exited', exitCode: 1 });
    expect(planSync(input({ containers: [c], named: [d], inspected: new Map([[c.id, null]]) })).changes).toMatchObject([
      { kind: 'correct', to: 'exited', patch: { exitCode: 1, exitedAt: NOW } },
    ]);
    const restarting = inspection(c, { status: 'running', restarting: true, exitCode: 2, finishedAt: EXITED });
    expect(planSync(input({ containers: [c], named: [d], inspected: new Map([[c.id, restarting]]) })).changes).toEqual([
      {
        ...correcting(d, 'running', 'exited'),
        patch: { status: 'exited', containerId: c.id, exitCode: 2, exitedAt: EXITED, checkedAt: NOW },
        why: 'its container keeps exiting (code 2); the engine is restarting it, as the engine says',
      },
    ]);
  });

  it('marks an exited record running again when its container runs again, without inspecting it', () => {
    const d = deployment(3, { status: 'exited', exitCode: 137, exitedAt: EXITED });
    const c = container(d);
    const seen = input({ containers: [c], named: [d] });
    expect(toInspect(seen)).toEqual([]);
    expect(planSync(seen).changes).toEqual([
      {
        ...correcting(d, 'exited', 'running'),
        patch: { status: 'running', containerId: c.id, exitCode: null, exitedAt: null, checkedAt: NOW },
        why: 'its container runs again (a restart policy or docker start), as the engine says',
      },
    ]);
  });

  it('changes nothing when the record matches, or when the record says another engine runs it', () => {
    const d = deployment(3);
    expect(planSync(input({ containers: [container(d)], named: [d] }))).toEqual({
      changes: [],
      current: { web: d.id },
      strangers: [],
      labels: { web: [label(d)] },
    });
    const elsewhere = deployment(3, { endpoint: 'tcp://10.0.0.2:2376' });
    const c = container(elsewhere, { state: 'exited', exitCode: 1 });
    expect(toInspect(input({ containers: [c], named: [elsewhere] }))).toEqual([]);
    expect(planSync(input({ containers: [c], named: [elsewhere] })).changes).toEqual([]);
  });

  it('reads containers made before record labels existed by their id label', () => {
    const d = deployment(3, { status: 'exited', exitCode: 1, exitedAt: EXITED });
    const c = container(d, {
      labels: { [LABEL.app]: 'web', [LABEL.id]: d.id, [LABEL.version]: '3', [LABEL.managed]: 'true' },
    });
    const plan = planSync(input({ containers: [c], named: [d] }));
    expect(plan.changes).toMatchObject([{ kind: 'correct', id: d.id, from: 'exited', to: 'running' }]);
    expect(plan.current).toEqual({ web: d.id });
    expect(plan.labels).toEqual({});
  });
});

describe('sync: images found without their container', () => {
  it('adopts a release that served as superseded by the current one, its secrets from the current container', () => {
    const env = { TOKEN: { value: 's3cret', secret: true } };
    const v1 = deployment(1, { config: makeConfig({ env }) });
    const v2 = deployment(2, { config: makeConfig({ env }), servedBefore: [v1.id] });
    const c2 = container(v2);
    const i1 = image(v1);
    const seen = input({ containers: [c2], images: [i1], named: [v2] });
    // v2 has a record: it is inspected only for v1's secret values.
    expect(toInspect(seen)).toEqual([c2.id]);
    const plan = planSync({ ...seen, inspected: new Map([[c2.id, inspection(c2, { env: ['TOKEN=n3w'] })]]) });
    expect(plan.changes).toEqual([
      addedFromImage(v1, i1, {
        readyAt: v1.buildFinishedAt,
        finishedAt: v1.buildFinishedAt,
        supersededBy: v2.id,
        config: makeConfig({ env: { TOKEN: { value: 'n3w', secret: true } } }),
      }),
    ]);
    expect(plan.current).toEqual({ web: v2.id });
  });

  it("adopts an image the current container's label says never served (a failed deploy left it) as failed", () => {
    const v1 = deployment(1);
    const v2 = deployment(2, { servedBefore: [] });
    const i2 = image(v2);
    const plan = planSync(input({ containers: [container(v1)], images: [i2], named: [v1] }));
    expect(plan.changes).toEqual([
      addedFromImage(v2, i2, {
        status: 'failed',
        finishedAt: v2.buildFinishedAt,
        error: {
          code: 'failed',
          message: 'never passed its health gate: its image was left on the engine (found by sync)',
        },
      }),
    ]);
  });

  it('takes an image as served when nothing can tell otherwise (no current container)', () => {
    const v1 = deployment(1);
    const i1 = image(v1);
    const seen = input({ images: [i1] });
    expect(toInspect(seen)).toEqual([]);
    expect(planSync(seen).changes).toEqual([
      addedFromImage(v1, i1, { readyAt: v1.buildFinishedAt, finishedAt: v1.buildFinishedAt }),
    ]);
  });

  it('adds nothing for an image whose deployment this store has, or whose container is there', () => {
    const v1 = deployment(1);
    expect(planSync(input({ images: [image(v1)], named: [v1] })).changes).toEqual([]);
  });
});

describe('sync: records whose container is gone', () => {
  it('supersedes one when another deployment of the app has a container, else marks it exited, and keeps a stop a stop', () => {
    const v1 = deployment(1);
    const v2 = deployment(2);
    const v3 = deployment(3);
    expect(planSync(input({ containers: [container(v3)], named: [v3], withContainers: [v3, v1] })).changes).toEqual([
      {
        ...correcting(v1, 'running', 'superseded'),
        patch: { status: 'superseded', containerId: null, supersededBy: v3.id },
        why: 'its container is no longer on the engine, and another deployment of the app has one',
      },
    ]);
    const stopped = deployment(1, { status: 'stopped' });
    const stoppedNoContainer = deployment(4, { status: 'stopped', containerId: null });
    expect(planSync(input({ withContainers: [v2, stopped, stoppedNoContainer] })).changes).toEqual([
      {
        ...correcting(v2, 'running', 'exited'),
        patch: { status: 'exited', containerId: null, exitCode: null, exitedAt: NOW, checkedAt: NOW },
        why: 'its container is gone from the engine (removed outside deploy)',
      },
      { kind: 'forget-container', id: stopped.id, app: 'web' },
    ]);
  });

  it('leaves records of another engine, of an app out of scope, and of a busy app alone', () => {
    const v2 = deployment(2);
    expect(planSync(input({ withContainers: [deployment(2, { endpoint: 'tcp://10.0.0.2:2376' })] })).changes).toEqual(
      [],
    );
    expect(planSync(input({ scope: { known: ['api'] }, withContainers: [v2] })).changes).toEqual([]);
    expect(planSync(input({ busy: ['web'], withContainers: [v2] })).changes).toEqual([]);
  });
});

describe("sync: which apps, and which deployment is each app's current one", () => {
  it('brings in only the apps the store knows, unless --app names one or --all is given; others are named as strangers', () => {
    const web = deployment(1);
    const api = deployment(1, { app: 'api', id: 'api1xyz' });
    const containers = [container(web), container(api)];
    const inspected = new Map(containers.map((c) => [c.id, inspection(c)]));
    const apps = (scope: SyncInput['scope']) => {
      const plan = planSync(input({ scope, containers, inspected }));
      return {
        added: plan.changes.map((c) => (c.kind === 'add' ? c.deployment.app : c.kind)),
        strangers: plan.strangers,
        current: Object.keys(plan.current),
      };
    };
    expect(apps({ known: ['web'] })).toEqual({ added: ['web'], strangers: ['api'], current: ['web'] });
    expect(apps({ known: ['web'], app: 'api' })).toEqual({ added: ['api'], strangers: ['web'], current: ['api'] });
    expect(apps({ known: [], all: true })).toEqual({ added: ['web', 'api'], strangers: [], current: ['web', 'api'] });
  });

  it('leaves a busy app out, inspecting nothing of it', () => {
    const d = deployment(2);
    const seen = input({ busy: ['web'], containers: [container(d)], images: [image(d)] });
    expect(toInspect(seen)).toEqual([]);
    expect(planSync(seen)).toEqual({ changes: [], current: {}, strangers: [], labels: {} });
  });

  it("ignores the app's lock container", () => {
    const lock: ListedContainer = {
      id: 'lock',
      name: 'deploy-lock-web',
      state: 'running',
      exitCode: null,
      labels: { [LABEL.lock]: 'web', [LABEL.app]: 'web' },
    };
    expect(planSync(input({ containers: [lock] }))).toEqual({ changes: [], current: {}, strangers: [], labels: {} });
    expect(namedIds([lock], [])).toEqual([]);
  });

  it('makes the newest running deployment current, before a newer one that exited', () => {
    const v1 = deployment(1);
    const v2 = deployment(2);
    const v3 = deployment(3, { status: 'exited', exitCode: 1, exitedAt: EXITED });
    const containers = [
      container(v1, { state: 'exited', exitCode: 0 }),
      container(v2, { state: 'paused' }),
      container(v3, { state: 'exited', exitCode: 1 }),
    ];
    expect(planSync(input({ containers, named: [v1, v2, v3] })).current).toEqual({ web: v2.id });
    expect(
      planSync(
        input({ containers: [containers[0] as ListedContainer, containers[2] as ListedContainer], named: [v1, v3] }),
      ).current,
    ).toEqual({ web: v3.id });
  });

  it('names the records to read: the deployments the containers and images name', () => {
    const v1 = deployment(1);
    const v2 = deployment(2);
    const old = container(deployment(3), { labels: { [LABEL.id]: 'old3xyz', [LABEL.app]: 'web' } });
    expect(namedIds([container(v1), old], [image(v1), image(v2), { id: 'sha256:x', labels: {} }])).toEqual([
      v1.id,
      'old3xyz',
      v2.id,
    ]);
  });
});

describe('sync: the image digest of an adopted release', () => {
  it("keeps the registry digest a pushed release's label names (so it can be pulled again), else the content id found", () => {
    const pushed = deployment(3, {
      imageDigest: 'sha256:registry-digest',
      config: makeConfig({ registry: '127.0.0.1:5000/team' }),
    });
    const local = deployment(4, { imageDigest: 'sha256:whatever-the-record-said' });
    const seen = input({ containers: [container(pushed), container(local)], images: [image(pushed), image(local)] });
    const plan = planSync({
      ...seen,
      inspected: new Map(
        [pushed, local].map((d) => {
          const c = container(d);
          return [c.id, inspection(c, { imageId: image(d).id })];
        }),
      ),
    });
    const digests = plan.changes.flatMap((c) =>
      c.kind === 'add' ? [[c.deployment.id, c.deployment.imageDigest]] : [],
    );
    expect(Object.fromEntries(digests)).toEqual({
      [pushed.id]: 'sha256:registry-digest',
      [local.id]: image(local).id,
    });
  });
});
