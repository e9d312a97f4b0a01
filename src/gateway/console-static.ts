// Serves the built web console (console/dist, built by `npm run build`) at /console. The console is a plain client
// of the public GraphQL API, so the only server-side concern here is delivery: static files under a strict
// Content-Security-Policy (no inline scripts or styles in markup, no third-party origins, API calls to this origin).
import fs from 'node:fs';
import path from 'node:path';
import express from 'express';

export const CONSOLE_PATH = '/console';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** console/dist of the checkout this code runs from (src/gateway under tsx, dist/src/gateway when compiled). */
export function findConsoleDist(from = __dirname): string | null {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'console', 'package.json'))) return path.join(dir, 'console', 'dist');
    if (path.dirname(dir) === dir) return null;
  }
}

export function consoleRouter(distDir: string | null = findConsoleDist()): express.Router {
  const router = express.Router();
  router.use((_req, res, next) => {
    res.setHeader('content-security-policy', CONSOLE_CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('x-frame-options', 'DENY');
    next();
  });
  const built = distDir !== null && fs.existsSync(path.join(distDir, 'index.html'));
  if (!built) {
    router.use((_req, res) => {
      res.status(503).type('text/plain').send('The web console is not built. Run `npm run build` (or `npm start`, which builds it).\n');
    });
    return router;
  }
  // Hashed asset names never change content, so they may be cached for long; index.html must not be.
  router.use(
    '/assets',
    express.static(path.join(distDir, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: false }),
  );
  router.use(express.static(distDir, { index: false, maxAge: 0 }));
  router.get(/.*/, (req, res) => {
    // Relative asset URLs need the trailing slash.
    if (req.originalUrl === CONSOLE_PATH) return res.redirect(301, `${CONSOLE_PATH}/`);
    res.setHeader('cache-control', 'no-store');
    return res.sendFile(path.join(distDir, 'index.html'));
  });
  return router;
}
