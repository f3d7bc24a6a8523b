import fs from 'node:fs';

/**
 * Reliability suites report what they measured (cells checked, fuzz cases, kills survived, ...)
 * as JSON lines in the file named by RELIABILITY_FIGURES_FILE; `npm run test:reliability` prints
 * them as a summary. Without the variable (a suite run on its own) the figures go to stdout.
 */
export function recordFigures(suite: string, figures: Record<string, number | string | boolean>): void {
  const line = JSON.stringify({ suite, at: new Date().toISOString(), ...figures });
  const file = process.env.RELIABILITY_FIGURES_FILE;
  if (file) fs.appendFileSync(file, line + '\n');
  else process.stdout.write(`[figures] ${line}\n`);
}
