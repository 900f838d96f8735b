import { describe, expect, it } from 'vitest';
import { decodeKeptLines, encodeKeptLines } from '../../src/core/logs.js';
import {
  imageRefusals,
  isImageError,
  taskCounts,
  taskName,
  taskPrefix,
  taskViews,
  unpulledImage,
  type TaskFacts,
} from '../../src/core/tasks.js';
import { makeColors } from '../../src/ui/colors.js';
import { renderTasks, taskSummary } from '../../src/ui/tasks-view.js';

const T0 = Date.parse('2026-12-02T12:00:00Z');
const nodes = new Map([
  ['nodeaaaaaaaaaaaaaaaaaaaaa', 'web-1'],
  ['nodebbbbbbbbbbbbbbbbbbbbb', 'web-2'],
]);

function task(over: Partial<TaskFacts>): TaskFacts {
  return {
    id: 'taskxxxxxxxxxxxxxxxxxxxxx',
    nodeId: 'nodeaaaaaaaaaaaaaaaaaaaaa',
    slot: 1,
    state: 'running',
    desiredState: 'running',
    error: '',
    exitCode: null,
    stateSince: T0,
    createdAt: T0,
    ...over,
  };
}

const NO_SUCH =
  'No such image: 10.0.0.1:5000/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

describe('taskViews and taskCounts', () => {
  const tasks = [
    task({ id: 'old1xxxxxxxxxxxxxxxxxxxxx', state: 'shutdown', desiredState: 'shutdown', stateSince: T0 - 5000 }),
    task({ id: 'two2xxxxxxxxxxxxxxxxxxxxx', slot: 2, nodeId: 'nodebbbbbbbbbbbbbbbbbbbbb', state: 'starting' }),
    task({ id: 'one1xxxxxxxxxxxxxxxxxxxxx', slot: 1 }),
    task({
      id: 'bad1xxxxxxxxxxxxxxxxxxxxx',
      slot: 2,
      nodeId: 'nodebbbbbbbbbbbbbbbbbbbbb',
      state: 'failed',
      desiredState: 'shutdown',
      error: 'task: non-zero exit (3)',
      exitCode: 3,
      stateSince: T0 - 1000,
    }),
    task({ id: 'new3xxxxxxxxxxxxxxxxxxxxx', slot: 3, nodeId: '', state: 'pending' }),
  ];

  it('current tasks by slot first, then the ended ones newest first; short ids, node hostnames, ISO times', () => {
    const views = taskViews(tasks, nodes);
    expect(views.map((v) => [v.id, v.node, v.state])).toEqual([
      ['one1xxxxxxxx', 'web-1', 'running'],
      ['two2xxxxxxxx', 'web-2', 'starting'],
      ['new3xxxxxxxx', '', 'pending'],
      ['bad1xxxxxxxx', 'web-2', 'failed'],
      ['old1xxxxxxxx', 'web-1', 'shutdown'],
    ]);
    expect(views[3]).toEqual({
      id: 'bad1xxxxxxxx',
      slot: 2,
      node: 'web-2',
      state: 'failed',
      desiredState: 'shutdown',
      error: 'task: non-zero exit (3)',
      exitCode: 3,
      since: '2026-12-02T11:59:59.000Z',
    });
  });

  it('desired against running, per node, counting only the tasks Swarm wants running', () => {
    expect(taskCounts(taskViews(tasks, nodes), 3)).toEqual({
      desired: 3,
      running: 1,
      nodes: [
        { node: '(not placed)', desired: 1, running: 0 },
        { node: 'web-1', desired: 1, running: 1 },
        { node: 'web-2', desired: 1, running: 0 },
      ],
    });
  });
});

describe('log prefixes', () => {
  it('SERVICE.SLOT.SHORTID@NODE | , padded to align', () => {
    const name = taskName('web-v3-k7m2x9qa', 2, 'abcdefghijklmnopqrstuvwxy');
    expect(name).toBe('web-v3-k7m2x9qa.2.abcdefghijkl');
    expect(taskPrefix(name, 'node1')).toBe('web-v3-k7m2x9qa.2.abcdefghijkl@node1 | ');
    expect(taskPrefix('a.1.x', 'n', 10)).toBe('a.1.x@n    | ');
    expect(taskName('g', null, 'abc')).toBe('g.abc');
  });

  it('a kept copy keeps each line task and node; a container line has none', () => {
    const lines = [
      { time: 1, stream: 'stdout' as const, message: 'hi', task: 'web.1.abc', node: 'n1' },
      { time: 2, stream: 'stderr' as const, message: 'plain' },
    ];
    expect(decodeKeptLines(encodeKeptLines(lines).content)).toEqual(lines);
  });
});

describe('a node that cannot get the image', () => {
  it('image errors are told from other failures', () => {
    for (const e of [
      NO_SUCH,
      'pull access denied for web, repository does not exist or may require docker login',
      'manifest unknown',
    ])
      expect(isImageError(e), e).toBe(true);
    for (const e of ['task: non-zero exit (1)', 'Unhealthy container', 'no suitable node (1 node not available)'])
      expect(isImageError(e), e).toBe(false);
  });

  it('each refusing node once, with what it said', () => {
    const views = taskViews(
      [
        task({ id: 'r1xxxxxxxxxxxxxxxxxxxxxxx', state: 'rejected', desiredState: 'shutdown', error: NO_SUCH }),
        task({ id: 'r2xxxxxxxxxxxxxxxxxxxxxxx', state: 'rejected', desiredState: 'shutdown', error: NO_SUCH }),
        task({ id: 'okxxxxxxxxxxxxxxxxxxxxxxx', nodeId: 'nodebbbbbbbbbbbbbbbbbbbbb' }),
      ],
      nodes,
    );
    expect(imageRefusals(views)).toEqual([{ node: 'web-1', error: NO_SUCH }]);
  });

  it('the message names the nodes and the image; the hint depends on whether a registry is set', () => {
    const refusals = [
      { node: 'web-1', error: NO_SUCH },
      { node: 'web-2', error: NO_SUCH },
    ];
    const withRegistry = unpulledImage('web v2 (k7m2x9qa)', 'reg:5000/web@sha256:01', refusals, 'reg:5000');
    expect(withRegistry.message).toBe(
      'web v2 (k7m2x9qa) could not start: nodes web-1, web-2 could not get the image reg:5000/web@sha256:01',
    );
    expect(withRegistry.hint).toBe(
      'Every node pulls it from reg:5000: make it reachable (and trusted) from those nodes, or drain them ' +
        '(docker node update --availability drain web-1).',
    );
    const denied = 'pull access denied for deploy/web, repository does not exist or may require docker login';
    const without = unpulledImage('web v2 (k7m2x9qa)', 'deploy/web:k7m2x9qa', [{ node: 'web-1', error: denied }], null);
    expect(without.message).toBe(
      `web v2 (k7m2x9qa) could not start: node web-1 could not get the image deploy/web:k7m2x9qa (${denied})`,
    );
    expect(without.hint).toBe(
      'Set a registry so that every node can pull the image (deploy config set registry=HOST), or give ' +
        "that node's Docker endpoint in the app's nodes (deploy config set nodes=ssh://USER@HOST,...) so that the " +
        'image is loaded into it.',
    );
  });
});

describe('the tasks for a person', () => {
  const c = makeColors(false);

  it('a row per task and a failed one error under it; no line wider than 80 columns', () => {
    const views = taskViews(
      [
        task({ id: 'one1xxxxxxxxxxxxxxxxxxxxx', nodeId: 'nodeaaaaaaaaaaaaaaaaaaaaa' }),
        task({
          id: 'rej2xxxxxxxxxxxxxxxxxxxxx',
          slot: 2,
          nodeId: 'nodebbbbbbbbbbbbbbbbbbbbb',
          state: 'rejected',
          desiredState: 'shutdown',
          error: NO_SUCH,
          stateSince: T0 - 120_000,
        }),
      ],
      new Map([
        ['nodeaaaaaaaaaaaaaaaaaaaaa', 'web-1'],
        ['nodebbbbbbbbbbbbbbbbbbbbb', 'a-node-with-a-hostname-far-too-long-for-its-column.example.com'],
      ]),
    );
    const lines = renderTasks(views, c, T0 + 300_000);
    expect(lines[0]).toMatch(/^ {2}SLOT {2}TASK {10}NODE +STATE +DESIRED +SINCE$/);
    expect(lines[1]).toMatch(/^ {2}1 +one1xxxxxxxx +web-1 +running +running +5m ago$/);
    expect(lines[2]).toMatch(/^ {2}2 +rej2xxxxxxxx +a-node-with-a-hostn… +rejected +shutdown +7m ago$/);
    // Under it, indented, wrapped between words and the digest cut where a line ends.
    expect(lines.slice(3).every((l) => /^ {6}\S/.test(l))).toBe(true);
    expect(
      lines
        .slice(3)
        .map((l) => l.trim())
        .join(' ')
        .replace(/ /g, ''),
    ).toBe(NO_SUCH.replace(/ /g, ''));
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(taskSummary(taskCounts(views, 2), c)).toBe('1 of 2 tasks running · per node: web-1 1/1');
  });

  it('the ended tasks beyond the last few are counted, not listed', () => {
    const ended = Array.from({ length: 7 }, (_, i) =>
      task({ id: `end${i}xxxxxxxxxxxxxxxxxxxxx`, state: 'shutdown', desiredState: 'shutdown', stateSince: T0 - i }),
    );
    const lines = renderTasks(taskViews(ended, nodes), c, T0);
    expect(lines).toHaveLength(1 + 4 + 1);
    expect(lines.at(-1)).toBe('  (+3 older ended tasks: --json lists them)');
  });
});
