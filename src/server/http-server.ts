// One fastify application served on two ports: plain HTTP (local use, or behind a TLS proxy) and
// HTTPS with optional client certificates (node to node). Every role registers its routes here.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import type { Logger } from '../util/log.ts';

export interface HttpServerOptions {
  logger: Logger;
  http: { host: string; port: number };
  https?: { host: string; port: number; certPem: string; keyPem: string; clientCaPem: string; requireClientCert: boolean };
  /** Largest request body for JSON/XML routes; streaming routes (STOW, MTOM) bypass it. */
  bodyLimit?: number;
}

export interface HttpServers {
  app: FastifyInstance;
  listen(): Promise<{ httpPort: number; httpsPort: number | null }>;
  close(): Promise<void>;
}

export async function createHttpServers(opts: HttpServerOptions): Promise<HttpServers> {
  let httpsServer: https.Server | null = null;
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'http' }),
    // No per-request log lines: URLs can carry patient IDs in query strings (no PHI in logs).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? 8 * 1024 * 1024,
    trustProxy: false,
    serverFactory: (handler) => {
      if (opts.https) {
        httpsServer = https.createServer(
          {
            cert: opts.https.certPem,
            key: opts.https.keyPem,
            ca: opts.https.clientCaPem,
            requestCert: true,
            rejectUnauthorized: opts.https.requireClientCert,
            minVersion: 'TLSv1.2',
          },
          handler,
        );
      }
      return http.createServer(handler);
    },
  }) as unknown as FastifyInstance;
  await app.register(cookie);
  await app.register(rateLimit, { global: false });

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err, url: request.routeOptions.url }, 'request failed');
    reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message });
  });

  return {
    app,
    async listen() {
      await app.listen({ port: opts.http.port, host: opts.http.host });
      const httpPort = (app.server.address() as AddressInfo).port;
      let httpsPort: number | null = null;
      if (httpsServer && opts.https) {
        const server: https.Server = httpsServer;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(opts.https!.port, opts.https!.host, () => resolve());
        });
        httpsPort = (server.address() as AddressInfo).port;
      }
      return { httpPort, httpsPort };
    },
    async close() {
      const server = httpsServer as https.Server | null;
      if (server?.listening) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
      }
      await app.close();
    },
  };
}
