/**
 * Builds the coordinator console (src/console) into dist/console: one minified ES module bundle, its stylesheet
 * and index.html. Run by `npm start` (prestart), by the test suite's global set-up and by the Dockerfile, so nobody
 * needs to know about it. Prints the bundle's size, raw and gzip-compressed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';

export const CONSOLE_SOURCE = path.resolve(__dirname, '../src/console');
export const CONSOLE_OUT = path.resolve(__dirname, '../dist/console');

export function buildConsole(outDir = CONSOLE_OUT): { bytes: number; gzipBytes: number } {
  fs.mkdirSync(outDir, { recursive: true });
  buildSync({
    entryPoints: [path.join(CONSOLE_SOURCE, 'main.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    outfile: path.join(outDir, 'app.js'),
    tsconfig: path.join(CONSOLE_SOURCE, 'tsconfig.json'),
    legalComments: 'none',
    logLevel: 'error',
  });
  fs.copyFileSync(path.join(CONSOLE_SOURCE, 'app.css'), path.join(outDir, 'app.css'));
  fs.copyFileSync(path.join(CONSOLE_SOURCE, 'index.html'), path.join(outDir, 'index.html'));
  const js = fs.readFileSync(path.join(outDir, 'app.js'));
  return { bytes: js.length, gzipBytes: gzipSync(js, { level: 9 }).length };
}

if (require.main === module) {
  const { bytes, gzipBytes } = buildConsole();
  process.stdout.write(
    `console built in ${path.relative(process.cwd(), CONSOLE_OUT)}: app.js ${bytes} B, ${gzipBytes} B gzip\n`,
  );
}
