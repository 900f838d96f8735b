import type { TaskMeta } from 'vitest';

declare module 'vitest' {
  interface TaskMeta {
    /** What the fault case expects of the tool, in words (for `npm run faults`). */
    expected?: string;
    /** What the tool did, in words. */
    happened?: string;
  }
}

/** Says, for the fault report, what this case expects and (once known) what happened. */
export function fault(task: { meta: TaskMeta }, expected: string): (happened: string) => void {
  task.meta.expected = expected;
  return (happened) => {
    task.meta.happened = happened;
  };
}
