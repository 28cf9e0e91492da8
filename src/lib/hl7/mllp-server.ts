// An HL7 v2 listener over MLLP (framing 0x0B … 0x1C 0x0D), built on @medplum/hl7's Hl7Connection
// (framing, encodings, in-order replies) with our own net.Server so that the bind address, the
// bound port and shutdown are ours. Every message gets exactly one reply from `handle`; a handler
// that throws answers AE so the sender never waits for an ACK that does not come.
import net from 'node:net';
import { Hl7Message } from '@medplum/core';
import { Hl7Connection, type Hl7ErrorEvent, type Hl7MessageEvent } from '@medplum/hl7';

export { Hl7Message };

export interface MllpServerOptions {
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  /** Answers one message (usually an ACK built with `message.buildAck`). */
  readonly handle: (message: Hl7Message, peer: { readonly address: string }) => Promise<Hl7Message>;
  readonly onError?: (err: Error) => void;
  /** Character encoding when MSH-18 does not say; default UTF-8. */
  readonly encoding?: string;
}

export interface MllpServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startMllpServer(opts: MllpServerOptions): Promise<MllpServer> {
  const connections = new Set<Hl7Connection>();
  const server = net.createServer((socket) => {
    const connection = new Hl7Connection(socket, opts.encoding ?? 'utf-8');
    connections.add(connection);
    const peer = { address: socket.remoteAddress ?? '' };
    connection.addEventListener('message', (event: Hl7MessageEvent) => {
      opts
        .handle(event.message, peer)
        .catch((err: unknown) => {
          opts.onError?.(err as Error);
          return event.message.buildAck({ ackCode: 'AE' });
        })
        .then((reply) => {
          if (!connection.isClosed()) connection.send(reply);
        }, (err: unknown) => opts.onError?.(err as Error));
    });
    connection.addEventListener('error', (event: Hl7ErrorEvent) => opts.onError?.(event.error));
    connection.addEventListener('close', () => connections.delete(connection));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of connections) void c.close();
      });
    },
  };
}
