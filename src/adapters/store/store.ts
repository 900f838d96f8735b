import type { RawStatistics } from '../../core/stats.js';
import type { AppRecord, Deployment, DeploymentEvent, Status } from '../../core/types.js';
import { AppConfig, type AppConfigRow } from './app-config.js';
import { Apps } from './apps.js';
import { openDatabase, openReadOnly } from './database.js';
import type { ListFilter } from './deployment-rows.js';
import {
  Deployments,
  type CurrentState,
  type DeploymentPatch,
  type DeploymentRow,
  type NewDeployment,
} from './deployments.js';
import { History, type EngineCheck, type KeptLog, type LogKind } from './history.js';
import { Metrics } from './metrics.js';
import { Sql } from './sql.js';
import type { StatsFilter } from './statistics.js';

export type { AppConfigRow } from './app-config.js';
export type { ListFilter } from './deployment-rows.js';
export type { CurrentState, DeploymentPatch, DeploymentRow, NewDeployment } from './deployments.js';
export type { EngineCheck, KeptLog, LogKind } from './history.js';

/**
 * The local record of every deployment, in one SQLite file: one connection (sql.ts) shared by the tables, each
 * kept by its own part — apps (apps.ts), deployments (deployments.ts, the row mapping in deployment-rows.ts), app
 * configuration (app-config.ts), history: events, kept logs, engine checks (history.ts), and the delivery metrics
 * (metrics.ts, statistics.ts). This class is the one door the rest of the tool uses; each method is its part's.
 */
export class Store {
  readonly path: string;
  readonly warnings: string[];
  /** Opened for reading only (a read-only mount, no write permission): every change is refused with exit 15. */
  readonly readOnly: boolean;
  private readonly sql: Sql;
  private readonly apps: Apps;
  private readonly deployments: Deployments;
  private readonly config: AppConfig;
  private readonly history: History;
  private readonly metrics: Metrics;

  private constructor(path: string, sql: Sql, warnings: string[]) {
    this.path = path;
    this.warnings = warnings;
    this.readOnly = sql.readOnly;
    this.sql = sql;
    this.apps = new Apps(sql);
    this.deployments = new Deployments(sql, this.apps);
    this.config = new AppConfig(sql, this.apps);
    this.history = new History(sql);
    this.metrics = new Metrics(sql);
  }

  static open(path: string): Store {
    const { db, warnings, readOnly, readOnlyWhy } = openDatabase(path);
    return new Store(path, new Sql(path, db, readOnly, readOnlyWhy ?? 'it is read-only here'), warnings);
  }

  /** An existing store, opened only to be read (nothing created, migrated or changed): for a reader beside a writer. */
  static openToRead(path: string, why = 'opened to be read'): Store {
    const { db, warnings } = openReadOnly(path, why);
    return new Store(path, new Sql(path, db, true, why), warnings);
  }

  close(): void {
    this.sql.close();
  }

  /** Runs fn in one write transaction (taken at once, so concurrent writers queue on the busy timeout). */
  transaction<T>(fn: () => T): T {
    return this.sql.transaction(fn);
  }

  /** --dry-run of a command that writes as it goes (sync): everything it writes is rolled back at the end. */
  rehearse<T>(fn: () => Promise<T>): Promise<T> {
    return this.sql.rehearse(fn);
  }

  // --- apps (apps.ts) -----------------------------------------------------------------------------

  getApp(name: string): AppRecord | null {
    return this.apps.getApp(name);
  }
  rememberSource(name: string, source: { source: string; subdir: string; ref: string }, at: number): void {
    this.apps.rememberSource(name, source, at);
  }
  setCurrent(app: string, id: string | null, at: number): void {
    this.apps.setCurrent(app, id, at);
  }
  appNames(): string[] {
    return this.apps.appNames();
  }
  deployedHere(app: string): boolean {
    return this.apps.deployedHere(app);
  }
  forgetApp(app: string, records: boolean): { settings: number; records: number } {
    return this.apps.forgetApp(app, records);
  }

  // --- deployments (deployments.ts) ---------------------------------------------------------------

  createDeployment(d: NewDeployment): Deployment {
    return this.deployments.createDeployment(d);
  }
  insertDeployment(d: Deployment): boolean {
    return this.deployments.insertDeployment(d);
  }
  updateDeployment(id: string, patch: DeploymentPatch): void {
    this.deployments.updateDeployment(id, patch);
  }
  markChecked(ids: readonly string[], at: number): void {
    this.deployments.markChecked(ids, at);
  }
  markRolledBack(app: string, ids: readonly string[]): string[] {
    return this.deployments.markRolledBack(app, ids);
  }
  getDeployment(id: string): Deployment | null {
    return this.deployments.getDeployment(id);
  }
  getByVersion(app: string, version: number): Deployment | null {
    return this.deployments.getByVersion(app, version);
  }
  findByIdPrefix(prefix: string, limit = 10): Deployment[] {
    return this.deployments.findByIdPrefix(prefix, limit);
  }
  list(filter: ListFilter = {}): Deployment[] {
    return this.deployments.list(filter);
  }
  iterate(filter: ListFilter = {}): Generator<Deployment> {
    return this.deployments.iterate(filter);
  }
  listRows(filter: ListFilter = {}): DeploymentRow[] {
    return this.deployments.listRows(filter);
  }
  count(filter: Omit<ListFilter, 'limit'> = {}): number {
    return this.deployments.count(filter);
  }
  working(): Deployment[] {
    return this.deployments.working();
  }
  kept(app?: string): Deployment[] {
    return this.deployments.kept(app);
  }

  leftovers(): Deployment[] {
    return this.deployments.leftovers();
  }
  needsRecovery(): boolean {
    return this.deployments.needsRecovery();
  }
  appsInProgress(): Set<string> {
    return this.deployments.appsInProgress();
  }
  deploymentActivitySince(app: string, at: number): boolean {
    return this.deployments.deploymentActivitySince(app, at);
  }
  currentDeployments(app?: string): Deployment[] {
    return this.deployments.currentDeployments(app);
  }
  currentStates(app?: string): CurrentState[] {
    return this.deployments.currentStates(app);
  }

  // --- app configuration (app-config.ts) ----------------------------------------------------------

  appConfig(app: string): AppConfigRow[] {
    return this.config.appConfig(app);
  }
  /** Sets and removes configuration entries of an app in one transaction. */
  changeAppConfig(...change: Parameters<AppConfig['changeAppConfig']>): void {
    this.config.changeAppConfig(...change);
  }

  // --- history: events, kept logs, engine checks (history.ts) -------------------------------------

  addEvent(deploymentId: string, at: number, type: string, message: string): void {
    this.history.addEvent(deploymentId, at, type, message);
  }
  events(deploymentId: string): DeploymentEvent[] {
    return this.history.events(deploymentId);
  }
  saveLog(deploymentId: string, kind: LogKind, content: Buffer, truncated: boolean, at: number): void {
    this.history.saveLog(deploymentId, kind, content, truncated, at);
  }
  getLog(deploymentId: string, kind: LogKind): KeptLog | null {
    return this.history.getLog(deploymentId, kind);
  }
  engineCheck(endpoint: string): EngineCheck {
    return this.history.engineCheck(endpoint);
  }
  recordEngineCheck(endpoint: string, at: number, failure: string | null): void {
    this.history.recordEngineCheck(endpoint, at, failure);
  }

  // --- metrics (metrics.ts) -----------------------------------------------------------------------

  statistics(filter: StatsFilter): RawStatistics {
    return this.metrics.statistics(filter);
  }
  statusCounts(filter: Omit<ListFilter, 'limit'>): Partial<Record<Status, number>> {
    return this.metrics.statusCounts(filter);
  }
  markFirstReady(id: string): void {
    this.metrics.markFirstReady(id);
  }
  recomputeFirstReady(app: string): void {
    this.metrics.recomputeFirstReady(app);
  }
}
