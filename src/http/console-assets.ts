import fs from 'node:fs';
import path from 'node:path';
import express, { Request, Response, Router } from 'express';

/** Where `scripts/build-console.ts` writes the console (built by `npm start`, the tests and the Dockerfile). */
export const CONSOLE_DIR = path.resolve(process.cwd(), 'dist/console');

/**
 * The console's pages may run the service's own script and nothing else: no inline script or style, no other
 * origin, no framing, forms and requests only to the service itself.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/console/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/** Serves the coordinator console at `/` (the API stays under /v1). */
export function consoleAssets(dir: string = CONSOLE_DIR): Router {
  const router = express.Router({ strict: true });
  for (const [route, { file, type }] of Object.entries(FILES)) {
    router.get(route, (_req: Request, res: Response) => {
      const full = path.join(dir, file);
      if (!fs.existsSync(full)) {
        res
          .status(503)
          .type('text/plain')
          .send('The console is not built: run `npm run build:console` (npm start does).');
        return;
      }
      res.setHeader('Content-Security-Policy', CONSOLE_CSP);
      res.status(200).type(type).send(fs.readFileSync(full));
    });
  }
  return router;
}
