/**
 * BuildKit's build progress, as the Engine API streams it: `{"id":"moby.buildkit.trace","aux":"<base64>"}`,
 * each a protobuf `moby.buildkit.v1.StatusResponse`. A decoder for the few fields the tool shows (rather than
 * a protobuf library and its schema), and a formatter that writes what `docker build --progress=plain` prints.
 *
 *   StatusResponse { repeated Vertex vertexes = 1; repeated VertexStatus statuses = 2; repeated VertexLog logs = 3; }
 *   Vertex         { string digest = 1; string name = 3; bool cached = 4; Timestamp started = 5;
 *                    Timestamp completed = 6; string error = 7; }
 *   VertexLog      { string vertex = 1; Timestamp timestamp = 2; int64 stream = 3; bytes msg = 4; }
 *   Timestamp      { int64 seconds = 1; int32 nanos = 2; }
 */
import { protobufFields as fields } from './protobuf.js';

export interface Vertex {
  digest: string;
  name: string;
  cached: boolean;
  started: number | null;
  completed: number | null;
  error: string;
}

export interface VertexLog {
  vertex: string;
  stream: number;
  msg: Buffer;
}

export interface StatusResponse {
  vertexes: Vertex[];
  logs: VertexLog[];
}

function timestamp(buf: Buffer): number {
  let seconds = 0;
  let nanos = 0;
  for (const [f, , v] of fields(buf)) {
    if (f === 1 && typeof v === 'number') seconds = v;
    if (f === 2 && typeof v === 'number') nanos = v;
  }
  return seconds * 1000 + Math.floor(nanos / 1e6);
}

export function decodeStatus(buf: Buffer): StatusResponse {
  const out: StatusResponse = { vertexes: [], logs: [] };
  for (const [f, wire, v] of fields(buf)) {
    if (wire !== 2 || typeof v === 'number') continue;
    if (f === 1) {
      const vertex: Vertex = { digest: '', name: '', cached: false, started: null, completed: null, error: '' };
      for (const [vf, , vv] of fields(v)) {
        if (vf === 1 && Buffer.isBuffer(vv)) vertex.digest = vv.toString('utf8');
        else if (vf === 3 && Buffer.isBuffer(vv)) vertex.name = vv.toString('utf8');
        else if (vf === 4 && typeof vv === 'number') vertex.cached = vv !== 0;
        else if (vf === 5 && Buffer.isBuffer(vv)) vertex.started = timestamp(vv);
        else if (vf === 6 && Buffer.isBuffer(vv)) vertex.completed = timestamp(vv);
        else if (vf === 7 && Buffer.isBuffer(vv)) vertex.error = vv.toString('utf8');
      }
      out.vertexes.push(vertex);
    } else if (f === 3) {
      const log: VertexLog = { vertex: '', stream: 1, msg: Buffer.alloc(0) };
      for (const [lf, , lv] of fields(v)) {
        if (lf === 1 && Buffer.isBuffer(lv)) log.vertex = lv.toString('utf8');
        else if (lf === 3 && typeof lv === 'number') log.stream = lv;
        else if (lf === 4 && Buffer.isBuffer(lv)) log.msg = lv;
      }
      out.logs.push(log);
    }
  }
  return out;
}

/**
 * Turns a build's StatusResponses into plain progress lines, numbered by step as BuildKit's plain output is:
 * "#3 [2/4] COPY index.html ./", "#3 CACHED", "#5 0.215 compiling", "#5 DONE 0.4s", "#6 ERROR: ...".
 */
export class BuildkitProgress {
  private readonly numbers = new Map<string, number>();
  private readonly announced = new Set<string>();
  private readonly finished = new Set<string>();
  private readonly startedAt = new Map<string, number>();
  /** The name of the newest step that started, for a spinner. */
  current = '';

  private number(digest: string): number {
    let n = this.numbers.get(digest);
    if (n === undefined) this.numbers.set(digest, (n = this.numbers.size + 1));
    return n;
  }

  push(status: StatusResponse): string {
    let out = '';
    for (const v of status.vertexes) {
      const n = this.number(v.digest);
      if (!this.announced.has(v.digest) && (v.started !== null || v.cached || v.completed !== null)) {
        this.announced.add(v.digest);
        out += `#${n} ${v.name}\n`;
        if (!v.name.startsWith('[internal]')) this.current = v.name;
      }
      if (v.started !== null) this.startedAt.set(v.digest, v.started);
      if (this.finished.has(v.digest)) continue;
      if (v.error) {
        this.finished.add(v.digest);
        out += `#${n} ERROR: ${v.error}\n`;
      } else if (v.cached && v.completed !== null) {
        this.finished.add(v.digest);
        out += `#${n} CACHED\n`;
      } else if (v.completed !== null) {
        this.finished.add(v.digest);
        const began = this.startedAt.get(v.digest);
        out += `#${n} DONE${began !== undefined ? ` ${((v.completed - began) / 1000).toFixed(1)}s` : ''}\n`;
      }
    }
    for (const log of status.logs) {
      const n = this.number(log.vertex);
      for (const line of log.msg.toString('utf8').split('\n')) if (line !== '') out += `#${n} ${line}\n`;
    }
    return out;
  }
}
