// Who may use the image store's HTTP routes: another node of the network (HTTPS with a client
// certificate that verified against the network CA) or a signed-in staff member. The patient portal's
// access comes later through its own rules.
import { TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';

export type Requester =
  | { kind: 'node'; /** Certificate subject CN (or the whole subject when it has no CN). */ name: string; host: string }
  | { kind: 'staff'; username: string; host: string };

export function identifyRequester(request: FastifyRequest): Requester | null {
  if (request.staff) return { kind: 'staff', username: request.staff.username, host: request.ip };
  const socket = request.raw.socket;
  if (socket instanceof TLSSocket && socket.authorized) {
    const certificate = socket.getPeerCertificate();
    const cn = certificate.subject?.CN;
    const name = Array.isArray(cn) ? cn.join(',') : (cn ?? 'unnamed node');
    return { kind: 'node', name, host: request.ip };
  }
  return null;
}

/** Stored in the index as "who stored it". */
export function requesterLabel(requester: Requester): string {
  return requester.kind === 'node' ? `node:${requester.name}` : `staff:${requester.username}`;
}

/** onRequest hook: 401 before any body is read when the requester is neither a node nor staff. */
export async function requireNodeOrStaff(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (identifyRequester(request) !== null) return;
  reply.header('WWW-Authenticate', 'Basic realm="ImageShare staff", charset="UTF-8"');
  // The body is not read: close the connection rather than drain an upload nobody will store.
  reply.header('Connection', 'close');
  await reply.code(401).send({ error: 'authentication required: a network node certificate or staff credentials' });
}
