/**
 * The store's schema, one step per version. `PRAGMA user_version` holds the version a file is at; opening
 * applies the missing steps in one transaction each. Never edit a released step: add a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: apps, deployments, their events and kept logs.
  `
  CREATE TABLE apps (
    name        TEXT PRIMARY KEY,
    source      TEXT,
    subdir      TEXT NOT NULL DEFAULT '',
    ref         TEXT,
    current_id  TEXT,
    created_at  INTEGER NOT NULL
  );

  CREATE TABLE deployments (
    id                TEXT PRIMARY KEY,
    app               TEXT NOT NULL,
    version           INTEGER NOT NULL,
    kind              TEXT NOT NULL,
    parent_id         TEXT,
    status            TEXT NOT NULL,
    source            TEXT NOT NULL,
    subdir            TEXT NOT NULL,
    ref               TEXT NOT NULL,
    commit_sha        TEXT NOT NULL,
    commit_subject    TEXT NOT NULL,
    commit_author     TEXT NOT NULL,
    commit_time       INTEGER,
    dirty             INTEGER NOT NULL,
    image             TEXT,
    image_id          TEXT,
    container_id      TEXT,
    container_name    TEXT,
    endpoint          TEXT NOT NULL,
    config            TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    build_started_at  INTEGER,
    build_finished_at INTEGER,
    started_at        INTEGER,
    ready_at          INTEGER,
    finished_at       INTEGER,
    actor             TEXT NOT NULL,
    origin            TEXT NOT NULL,
    error_code        TEXT,
    error_message     TEXT,
    UNIQUE (app, version)
  );
  CREATE INDEX deployments_by_created ON deployments (created_at DESC);
  CREATE INDEX deployments_by_app ON deployments (app, created_at DESC);
  CREATE INDEX deployments_by_status ON deployments (status, created_at DESC);
  CREATE INDEX deployments_by_commit ON deployments (app, commit_sha);

  CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    deployment_id  TEXT NOT NULL,
    at             INTEGER NOT NULL,
    type           TEXT NOT NULL,
    message        TEXT NOT NULL
  );
  CREATE INDEX events_by_deployment ON events (deployment_id, id);

  CREATE TABLE logs (
    deployment_id  TEXT NOT NULL,
    kind           TEXT NOT NULL,
    content        BLOB NOT NULL,
    truncated      INTEGER NOT NULL,
    saved_at       INTEGER NOT NULL,
    PRIMARY KEY (deployment_id, kind)
  );
  `,
  // 2: per-app configuration: env vars (secret ones marked) and settings, as `deploy config` keeps them.
  `
  CREATE TABLE app_config (
    app         TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('env', 'setting')),
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    secret      INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (app, kind, key)
  );
  `,
  // 3: which deployment replaced each one (change failure rate and time to restore need it), and an index
  //    for the delivery metrics' per-commit lead times.
  `
  ALTER TABLE deployments ADD COLUMN superseded_by TEXT;
  CREATE INDEX deployments_by_ready ON deployments (app, ready_at) WHERE ready_at IS NOT NULL;
  `,
  // 4: the process working on a deployment while it is in progress, so a deployment whose process died
  //    (kill -9, a crash, a lost CI runner) is found and marked interrupted.
  `
  ALTER TABLE deployments ADD COLUMN worker TEXT;
  `,
  // 5: deploy stats at 100,000 records. What the delivery metrics need is kept on each deployment as it
  //    happens (replaced by a rollback; the first healthy deployment of its commit), and covering indexes let
  //    the aggregates read narrow index entries instead of whole rows (the configuration JSON makes rows ~1 KB).
  `
  ALTER TABLE deployments ADD COLUMN rolled_back INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE deployments ADD COLUMN first_ready INTEGER NOT NULL DEFAULT 0;
  UPDATE deployments SET rolled_back = 1
    WHERE superseded_by IN (SELECT id FROM deployments WHERE kind = 'rollback');
  UPDATE deployments SET first_ready = 1
    WHERE id IN (SELECT id FROM (
      SELECT id, ROW_NUMBER() OVER (PARTITION BY app, commit_sha ORDER BY ready_at, id) AS n FROM deployments
      WHERE kind = 'deploy' AND ready_at IS NOT NULL) WHERE n = 1);
  CREATE INDEX deployments_for_stats ON deployments
    (app, created_at, status, kind, ready_at, started_at, finished_at, build_started_at, build_finished_at, rolled_back);
  CREATE INDEX deployments_for_leads ON deployments (app, ready_at, commit_time) WHERE first_ready = 1;
  CREATE INDEX deployments_failures ON deployments (created_at, app, finished_at) WHERE status IN ('failed', 'interrupted');
  CREATE INDEX deployments_rolled_back ON deployments (created_at, app, ready_at, superseded_by) WHERE rolled_back = 1;
  `,
  // 6: one truth about what runs. A current deployment whose container died unasked is `exited`, with its exit
  //    code and time; each record keeps when its state was last compared with its engine; the ids an app had
  //    been rolled back away from travel in each new deployment's label (and are kept here for it); records
  //    that `deploy sync` brought in are marked, so "apps this store deployed itself" can be told apart.
  `
  ALTER TABLE deployments ADD COLUMN exit_code INTEGER;
  ALTER TABLE deployments ADD COLUMN exited_at INTEGER;
  ALTER TABLE deployments ADD COLUMN checked_at INTEGER;
  ALTER TABLE deployments ADD COLUMN rolled_back_from TEXT;
  ALTER TABLE deployments ADD COLUMN adopted INTEGER NOT NULL DEFAULT 0;
  UPDATE deployments SET adopted = 1
    WHERE id IN (SELECT deployment_id FROM events WHERE type = 'synced' AND message LIKE 'added from %');
  CREATE INDEX deployments_own ON deployments (app) WHERE adopted = 0;
  CREATE TABLE engine_checks (
    endpoint     TEXT PRIMARY KEY,
    answered_at  INTEGER,
    failed_at    INTEGER,
    reason       TEXT
  );
  `,
  // 7: the one-off settings given on a deployment's command line (JSON; secret values included, like the
  //    configuration snapshot), so that `deploy redeploy ID` ships ID with them again; and the ids of the app's
  //    deployments that had served when a record was made (its label carries them to another store's sync). Two
  //    small indexes let every command ask at once whether anything needs recovering: records a process still
  //    answers for, and failed ones whose container could not be removed.
  `
  ALTER TABLE deployments ADD COLUMN overrides TEXT;
  ALTER TABLE deployments ADD COLUMN served_before TEXT;
  CREATE INDEX deployments_working ON deployments (app) WHERE worker IS NOT NULL;
  CREATE INDEX deployments_leftovers ON deployments (app) WHERE container_id IS NOT NULL AND status IN ('failed', 'interrupted');
  `,
  // 8: what runs a deployment, named without assuming a container: its runtime ('container' for every record so
  //    far; 'service' is reserved for Swarm) and its workload as that runtime names it (a container's id: the
  //    record's container_id, which container deployments keep); and the digest of its image (the registry
  //    digest when the image has one, else its content id: for the records so far, the image id they kept).
  `
  ALTER TABLE deployments ADD COLUMN runtime TEXT NOT NULL DEFAULT 'container';
  ALTER TABLE deployments ADD COLUMN workload TEXT;
  ALTER TABLE deployments ADD COLUMN image_digest TEXT;
  UPDATE deployments SET workload = container_id WHERE container_id IS NOT NULL;
  UPDATE deployments SET image_digest = image_id WHERE image_id IS NOT NULL;
  `,
  // 9: 100,000 records, again. Each new deployment carries the ids its app was rolled back away from and the ids
  //    that served, newest first: without the first two indexes, finding the few rolled-back ones walked back
  //    through every record of the app (the cost of a deploy grew with its history). deploy stats counts failed
  //    and rolled-back changes from the small indexes of those records (now with their kind and status) instead
  //    of testing every record of the window, and reads the ready time of what replaced a rolled-back release
  //    from an index instead of its ~3 KB row.
  `
  CREATE INDEX deployments_rolled_back_by_version ON deployments (app, version, id) WHERE rolled_back = 1;
  CREATE INDEX deployments_served_by_version ON deployments (app, version, id) WHERE ready_at IS NOT NULL;
  DROP INDEX deployments_failures;
  CREATE INDEX deployments_failures ON deployments (created_at, app, kind, finished_at) WHERE status IN ('failed', 'interrupted');
  DROP INDEX deployments_rolled_back;
  CREATE INDEX deployments_rolled_back ON deployments (created_at, app, kind, status, ready_at, superseded_by) WHERE rolled_back = 1;
  CREATE INDEX deployments_ready_by_id ON deployments (id, ready_at);
  `,
  // 10: releases kept running behind the front door for their successor's bake window (superseded, with their
  //     container, routed by the door): every command looks for them, so they are found through a small index of
  //     their own rather than by visiting every superseded record (nor mistaken for an old record that kept an id).
  `
  CREATE INDEX deployments_kept ON deployments (app)
    WHERE container_id IS NOT NULL AND status = 'superseded' AND json_extract(config, '$.proxy') IN (1, 'tcp');
  `,
  // 11: deploy stats reads rollups instead of every record. stats_days holds, per app and UTC day, the counts and
  //     the sorted series that the delivery metrics are taken from (blobs of int32, or of float64 for a day with a
  //     value that does not fit; a rowid table keeps a row of up to ~4 KB on its page, where an index b-tree sends
  //     anything above ~1 KB to overflow pages); stats_stale the days whose figures a write has made out of date. Triggers mark them on every change that can move a figure (a
  //     record's own days; the failures a newly healthy deployment restores; the rolled-back release a
  //     deployment replaced), whichever code writes, so no write path has to know about the rollups; the next
  //     deploy stats recomputes the marked days from their records (statistics.ts). Every existing day starts
  //     out marked.
  `
  CREATE TABLE stats_days (
    app                  TEXT NOT NULL,
    day                  INTEGER NOT NULL,
    total                INTEGER NOT NULL,
    successful           INTEGER NOT NULL,
    rollbacks            INTEGER NOT NULL,
    failed               INTEGER NOT NULL,
    failed_changes       INTEGER NOT NULL,
    rolled_back_changes  INTEGER NOT NULL,
    unrestored           INTEGER NOT NULL,
    build                BLOB,
    start_to_ready       BLOB,
    whole                BLOB,
    restore              BLOB,
    leads                BLOB,
    build_wide           BLOB,
    start_to_ready_wide  BLOB,
    whole_wide           BLOB,
    restore_wide         BLOB,
    leads_wide           BLOB
  );
  CREATE UNIQUE INDEX stats_days_by_app ON stats_days (app, day);
  CREATE INDEX stats_days_by_day ON stats_days (day);
  CREATE TABLE stats_stale (
    app        TEXT NOT NULL,
    first_day  INTEGER NOT NULL,
    last_day   INTEGER NOT NULL,
    PRIMARY KEY (app, first_day, last_day)
  ) WITHOUT ROWID;
  CREATE INDEX deployments_rolled_back_by_successor ON deployments (superseded_by) WHERE rolled_back = 1;

  CREATE TRIGGER stats_after_insert AFTER INSERT ON deployments BEGIN
    INSERT OR IGNORE INTO stats_stale VALUES (NEW.app, NEW.created_at / 86400000, NEW.created_at / 86400000);
    INSERT OR IGNORE INTO stats_stale SELECT NEW.app, NEW.ready_at / 86400000, NEW.ready_at / 86400000
      WHERE NEW.ready_at IS NOT NULL;
    INSERT OR IGNORE INTO stats_stale SELECT NEW.app, COALESCE((SELECT MAX(ready_at) FROM deployments
        WHERE app = NEW.app AND ready_at < NEW.ready_at AND id != NEW.id), 0) / 86400000, NEW.ready_at / 86400000
      WHERE NEW.ready_at IS NOT NULL;
    INSERT OR IGNORE INTO stats_stale SELECT app, created_at / 86400000, created_at / 86400000 FROM deployments
      WHERE rolled_back = 1 AND superseded_by = NEW.id;
  END;

  CREATE TRIGGER stats_after_delete AFTER DELETE ON deployments BEGIN
    INSERT OR IGNORE INTO stats_stale VALUES (OLD.app, OLD.created_at / 86400000, OLD.created_at / 86400000);
    INSERT OR IGNORE INTO stats_stale SELECT OLD.app, OLD.ready_at / 86400000, OLD.ready_at / 86400000
      WHERE OLD.ready_at IS NOT NULL;
    INSERT OR IGNORE INTO stats_stale SELECT OLD.app, COALESCE((SELECT MAX(ready_at) FROM deployments
        WHERE app = OLD.app AND ready_at < OLD.ready_at AND id != OLD.id), 0) / 86400000, OLD.ready_at / 86400000
      WHERE OLD.ready_at IS NOT NULL;
    INSERT OR IGNORE INTO stats_stale SELECT app, created_at / 86400000, created_at / 86400000 FROM deployments
      WHERE rolled_back = 1 AND superseded_by = OLD.id;
  END;

  CREATE TRIGGER stats_after_update AFTER UPDATE ON deployments
  WHEN OLD.app IS NOT NEW.app OR OLD.created_at IS NOT NEW.created_at OR OLD.status IS NOT NEW.status
    OR OLD.kind IS NOT NEW.kind OR OLD.ready_at IS NOT NEW.ready_at OR OLD.started_at IS NOT NEW.started_at
    OR OLD.finished_at IS NOT NEW.finished_at OR OLD.build_started_at IS NOT NEW.build_started_at
    OR OLD.build_finished_at IS NOT NEW.build_finished_at OR OLD.rolled_back IS NOT NEW.rolled_back
    OR OLD.superseded_by IS NOT NEW.superseded_by OR OLD.first_ready IS NOT NEW.first_ready
    OR OLD.commit_time IS NOT NEW.commit_time OR OLD.id IS NOT NEW.id
  BEGIN
    INSERT OR IGNORE INTO stats_stale VALUES (OLD.app, OLD.created_at / 86400000, OLD.created_at / 86400000);
    INSERT OR IGNORE INTO stats_stale VALUES (NEW.app, NEW.created_at / 86400000, NEW.created_at / 86400000);
    INSERT OR IGNORE INTO stats_stale SELECT OLD.app, OLD.ready_at / 86400000, OLD.ready_at / 86400000
      WHERE OLD.ready_at IS NOT NULL;
    INSERT OR IGNORE INTO stats_stale SELECT NEW.app, NEW.ready_at / 86400000, NEW.ready_at / 86400000
      WHERE NEW.ready_at IS NOT NULL;
    INSERT OR IGNORE INTO stats_stale SELECT OLD.app, COALESCE((SELECT MAX(ready_at) FROM deployments
        WHERE app = OLD.app AND ready_at < OLD.ready_at AND id != OLD.id), 0) / 86400000, OLD.ready_at / 86400000
      WHERE OLD.ready_at IS NOT NULL AND (OLD.ready_at IS NOT NEW.ready_at OR OLD.app IS NOT NEW.app);
    INSERT OR IGNORE INTO stats_stale SELECT NEW.app, COALESCE((SELECT MAX(ready_at) FROM deployments
        WHERE app = NEW.app AND ready_at < NEW.ready_at AND id != NEW.id), 0) / 86400000, NEW.ready_at / 86400000
      WHERE NEW.ready_at IS NOT NULL AND (OLD.ready_at IS NOT NEW.ready_at OR OLD.app IS NOT NEW.app);
    INSERT OR IGNORE INTO stats_stale SELECT app, created_at / 86400000, created_at / 86400000 FROM deployments
      WHERE rolled_back = 1 AND superseded_by IN (OLD.id, NEW.id)
        AND (OLD.ready_at IS NOT NEW.ready_at OR OLD.id IS NOT NEW.id);
  END;

  INSERT OR IGNORE INTO stats_stale
    SELECT app, MIN(MIN(created_at), COALESCE(MIN(ready_at), MIN(created_at))) / 86400000,
      MAX(MAX(created_at), COALESCE(MAX(ready_at), MAX(created_at))) / 86400000
    FROM deployments GROUP BY app;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
