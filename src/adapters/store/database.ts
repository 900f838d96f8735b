import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  statfsSync,
  statSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { DeployError } from '../../core/errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';

/** How long a writer waits for another process's transaction before giving up. */
const BUSY_TIMEOUT_MS = 10_000;

// SQLite's primary result codes that mean "this file is not a store we can trust".
const SQLITE_BUSY = 5;
const SQLITE_CORRUPT = 11;
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;
const SQLITE_NOTADB = 26;

export interface OpenedDatabase {
  db: DatabaseSync;
  warnings: string[];
  /** Opened for reading only: the file or its file system cannot be written (read-only mount, no permission). */
  readOnly: boolean;
  /** Why, when it is read only. */
  readOnlyWhy?: string;
}

/** The store cannot take a change here; what reads it still works. */
export function readOnlyError(path: string, why: string): DeployError {
  if (why === 'the disk is full') {
    return new DeployError('store', `The disk holding the store at ${path} is full; nothing was changed.`, {
      hint: 'Free some space and run the command again. Reading commands (ls, inspect, stats, logs, status) still work.',
    });
  }
  return new DeployError('store', `The store at ${path} cannot be changed (${why}); nothing was changed.`, {
    hint: 'Reading commands (ls, inspect, stats, logs, status) still work. Make it writable, or point DEPLOY_HOME at a writable directory.',
  });
}

const READ_ONLY_CODES = new Set(['EROFS', 'EACCES', 'EPERM']);

/** An existing store on a file system or with permissions that refuse writes: opened to be read only. */
export function openReadOnly(path: string, why: string): OpenedDatabase {
  let db: DatabaseSync;
  try {
    let first: DatabaseSync | null = null;
    try {
      first = new DatabaseSync(path, { readOnly: true, timeout: BUSY_TIMEOUT_MS });
      // The file is opened on first use: ask it something now, so a failure is caught here.
      first.prepare('PRAGMA user_version').get();
      db = first;
    } catch {
      if (first?.isOpen) first.close();
      // A WAL store whose shared-memory file cannot be made here (a read-only mount): read as a file nothing can
      // change while it is read, which on such a mount is true.
      const url = pathToFileURL(path);
      url.searchParams.set('immutable', '1');
      db = new DatabaseSync(url, { readOnly: true });
    }
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version !== SCHEMA_VERSION) {
      db.close();
      throw new DeployError(
        'store',
        `The store at ${path} needs ${version < SCHEMA_VERSION ? 'an upgrade of its schema' : 'a newer version of deploy'}, and it cannot be changed (${why}).`,
        {
          hint: 'Make it writable once so it can be upgraded, or point DEPLOY_HOME at a writable directory.',
        },
      );
    }
  } catch (error) {
    throw error instanceof DeployError ? error : storeError(path, error);
  }
  return {
    db,
    warnings: [`The store at ${path} cannot be changed now (${why}): reading commands answer; changes are refused.`],
    readOnly: true,
    readOnlyWhy: why,
  };
}

function sqliteCode(error: unknown): number | undefined {
  const e = error as { errcode?: number; code?: string };
  return typeof e?.errcode === 'number' ? e.errcode & 0xff : undefined;
}

/** SQLite reports a full disk while it grows the WAL or its shared memory as an I/O error; tell them apart. */
function diskFull(path: string): boolean {
  try {
    const fs = statfsSync(dirname(path));
    return fs.bavail * fs.bsize < 256 * 1024;
  } catch {
    return false;
  }
}

/** Turns SQLite's faults into messages that say what happened to the file and what to do. */
export function storeError(path: string, error: unknown): DeployError {
  const code = sqliteCode(error);
  if (code === SQLITE_CORRUPT || code === SQLITE_NOTADB) {
    return new DeployError(
      'store',
      `The store at ${path} is damaged or is not a deploy store (${(error as Error).message}).`,
      {
        hint: `It was left untouched. Move it aside (mv ${path} ${path}.broken) to start a new one, or restore it from a backup.`,
        cause: error,
      },
    );
  }
  if (code === SQLITE_BUSY) {
    return new DeployError(
      'store',
      `The store at ${path} stayed locked by another process for ${BUSY_TIMEOUT_MS / 1000}s (a long write elsewhere); this change was not saved.`,
      {
        hint: 'Another deploy process holds the store (or a program has it open in a transaction): let it finish, then run the command again.',
        details: { busy: true },
        cause: error,
      },
    );
  }
  if (code === SQLITE_FULL || (code === SQLITE_IOERR && diskFull(path))) {
    return new DeployError('store', `The disk holding the store at ${path} is full; the last change was not saved.`, {
      hint: 'Free some space and run the command again. The store still holds its last good state.',
      cause: error,
    });
  }
  return new DeployError('store', `The store at ${path} could not be used: ${(error as Error).message}`, {
    hint: 'Check the file and its directory are writable by you.',
    cause: error,
  });
}

/**
 * Opens (creating if needed) the store: 0700 directory, 0600 file, WAL, a busy timeout so several processes
 * share it, and the schema migrated forward. A file from a newer version is refused, not touched.
 */
export function openDatabase(path: string): OpenedDatabase {
  const warnings: string[] = [];
  const dir = dirname(path);
  let created = false;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    let mode: number | null = null;
    try {
      mode = statSync(path).mode & 0o777;
    } catch {
      // no store yet: made below
    }
    if (mode === null) {
      closeSync(openSync(path, 'a', 0o600));
      chmodSync(path, 0o600);
      created = true;
    } else {
      // Its journal files are made beside it: the directory must take writes as well as the file.
      accessSync(dir, constants.W_OK);
      accessSync(path, constants.W_OK);
    }
    if (mode !== null && mode & 0o077) {
      warnings.push(`The store ${path} can be read by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code && READ_ONLY_CODES.has(code) && existsSync(path))
      return openReadOnly(path, code === 'EROFS' ? 'read-only file system' : 'permission denied');
    throw new DeployError(
      'store',
      `The store at ${path} cannot be created or opened (${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : code === 'ENOSPC' ? 'no space left' : (error as Error).message}).`,
      {
        hint: 'Check that the directory is writable by you, or point DEPLOY_HOME at one that is.',
        cause: error,
      },
    );
  }

  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw storeError(path, error);
  }
  try {
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
    migrate(db, path);
  } catch (error) {
    db.close();
    const failure = error instanceof DeployError ? error : storeError(path, error);
    // A full disk refuses even the files a reader needs (the WAL's shared memory): the store is read as it is,
    // and only changes are refused.
    if (!created && failure.message.includes('is full')) return openReadOnly(path, 'the disk is full');
    throw failure;
  }
  if (created) {
    for (const extra of ['-wal', '-shm']) {
      try {
        chmodSync(path + extra, 0o600);
      } catch {
        // not created yet; SQLite gives them the main file's mode
      }
    }
  }
  return { db, warnings, readOnly: false };
}

function migrate(db: DatabaseSync, path: string): void {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number };
  const version = row.user_version;
  if (version > SCHEMA_VERSION) {
    throw new DeployError(
      'store',
      `The store at ${path} was written by a newer version of deploy (schema ${version}; this one knows up to ${SCHEMA_VERSION}).`,
      { hint: 'Upgrade deploy to use this store. It was left untouched.' },
    );
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      // Another process may have migrated while this one waited for the write lock.
      const now = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
      if (now > v) {
        db.exec('COMMIT');
        continue;
      }
      db.exec(MIGRATIONS[v] as string);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
}
