import type { Reporter, TestCase, TestModule } from 'vitest/node';

/**
 * `npm run faults`: the fault catalogue as a table a person can read: case, what was expected, what
 * happened, pass/fail, and a final "N passed, N failed" line.
 */
export default class FaultTableReporter implements Reporter {
  private readonly rows: Array<{ file: string; name: string; expected: string; happened: string; ok: boolean }> = [];

  onTestCaseResult(test: TestCase): void {
    const result = test.result();
    if (result.state === 'skipped' || result.state === 'pending') return;
    const meta = test.meta();
    const error = result.state === 'failed' ? (result.errors?.[0]?.message ?? 'failed').split('\n')[0] : null;
    this.rows.push({
      file: test.module.moduleId.replace(/^.*\/test\/faults\//, '').replace(/\.test\.ts$/, ''),
      name: test.name,
      expected: meta.expected ?? '(see the test)',
      happened: error ? `FAILED: ${error}` : (meta.happened ?? 'as expected'),
      ok: result.state === 'passed',
    });
  }

  onTestRunEnd(_modules: ReadonlyArray<TestModule>): void {
    const wrap = (text: string, width: number): string[] => {
      const out: string[] = [];
      let line = '';
      for (const word of text.split(/\s+/)) {
        if ((line + ' ' + word).trim().length > width && line) {
          out.push(line);
          line = word;
        } else {
          line = (line + ' ' + word).trim();
        }
      }
      if (line) out.push(line);
      return out.length ? out : [''];
    };
    const widths = [34, 44, 44, 6];
    const print = (cells: string[]) => {
      const wrapped = cells.map((c, i) => wrap(c, widths[i] as number));
      const height = Math.max(...wrapped.map((w) => w.length));
      for (let r = 0; r < height; r++)
        process.stdout.write(`${wrapped.map((w, i) => (w[r] ?? '').padEnd(widths[i] as number)).join(' │ ')}\n`);
    };
    process.stdout.write('\n');
    print(['CASE', 'EXPECTED', 'HAPPENED', 'RESULT']);
    process.stdout.write(`${widths.map((w) => '─'.repeat(w)).join('─┼─')}\n`);
    let group = '';
    for (const row of this.rows) {
      if (row.file !== group) {
        group = row.file;
        process.stdout.write(`${group}\n`);
      }
      print([`  ${row.name}`, row.expected, row.happened, row.ok ? 'pass' : 'FAIL']);
    }
    const passed = this.rows.filter((r) => r.ok).length;
    process.stdout.write(`\n${passed} passed, ${this.rows.length - passed} failed\n`);
  }
}
