/**
 * `thalo-runtime --verify --data <dir> [--json]`: the store check for operators. Prints one line
 * per damaged position (consecutive positions with the same problem as one range) and per other
 * problem, then a summary; or, with `--json`, the whole report as one JSON object. Exit code 0
 * when nothing is damaged, 1 when something is (or there is no store to check).
 *
 * @example
 *   $ thalo-runtime --verify --data ./data
 *   position 500: checksum mismatch (stored 0x8699dee6, computed 0xe59e07c2 over 95 bytes)
 *   positions 1001-1032: reading it failed: MDB_PAGE_NOTFOUND: Requested page not found
 *   checked positions 1 to 2000 of ./data: 33 damaged positions, 0 other problems
 */
import { verifyStore } from '../store/verify.js';
import type { VerifyReport } from '../store/verify.js';

/** Runs the check on the store in `path`, prints the report, and returns the exit code. */
export function verifyCommand(path: string, json: boolean, write: (text: string) => void = (text) => process.stdout.write(text)): number {
  let report: VerifyReport;
  try {
    report = verifyStore(path);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    write(json ? `${JSON.stringify({ path, ok: false, error: message })}\n` : `cannot verify: ${message}\n`);
    return 1;
  }
  if (json) {
    write(`${JSON.stringify(report)}\n`);
  } else {
    let out = '';
    for (const range of report.damaged) {
      const where = range.from === range.to ? `position ${range.from}` : `positions ${range.from}-${range.to}`;
      out += `${where}: ${range.problem}\n`;
    }
    for (const problem of report.problems) out += `${problem}\n`;
    const count = report.damaged.reduce((sum, range) => sum + range.to - range.from + 1, 0);
    const scope = report.checked > 0 ? `checked positions 1 to ${report.checked}` : 'checked no positions';
    out += report.ok
      ? `${scope} of ${path}: no damage found\n`
      : `${scope} of ${path}: ${count} damaged position${count === 1 ? '' : 's'}, ${report.problems.length} other problem${report.problems.length === 1 ? '' : 's'}\n`;
    write(out);
  }
  return report.ok ? 0 : 1;
}
