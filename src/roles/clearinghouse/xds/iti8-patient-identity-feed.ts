// ITI-8 Patient Identity Feed (HL7 v2 ADT over MLLP) into the registry: ADT^A01/A04/A05/A08 register
// every PID-3 identifier that has an ISO (OID) assigning authority, in XDS form `id^^^&oid&ISO`.
// Re-feeding a known ID is accepted (AA), as the RSNA edge expects its feed to be idempotent.
import { readPatientIdentityFeed, type Hl7Message } from '../../../lib/hl7/index.ts';
import { formatPatientId, isOid, parseCx } from '../../../lib/xds/index.ts';
import type { XdsContext } from './xds-context.ts';

const FEED_EVENTS: ReadonlySet<string> = new Set(['A01', 'A04', 'A05', 'A08']);

/** The XDS patient IDs of a feed's PID-3 (identifiers without an ISO OID authority are left out). */
export function xdsPatientIdsOf(identifiers: readonly string[]): string[] {
  const out = new Set<string>();
  for (const cx of identifiers) {
    const parsed = parseCx(cx);
    const aa = parsed.assigningAuthority;
    if (parsed.id !== '' && aa.universalIdType === 'ISO' && isOid(aa.universalId)) out.add(formatPatientId(parsed.id, aa.universalId));
  }
  return [...out];
}

export async function handlePatientIdentityFeed(ctx: XdsContext, message: Hl7Message, peer: { readonly address: string }, listenerPort: number): Promise<Hl7Message> {
  const feed = readPatientIdentityFeed(message);
  if (feed.messageType !== 'ADT' || !FEED_EVENTS.has(feed.triggerEvent)) {
    ctx.log.info({ type: `${feed.messageType}^${feed.triggerEvent}` }, 'HL7 message type not handled by the patient identity feed');
    return message.buildAck({ ackCode: 'AR' });
  }
  const patientIds = xdsPatientIdsOf(feed.patientIdentifiers);
  if (patientIds.length === 0) {
    ctx.log.info({ controlId: feed.controlId }, 'patient identity feed without an identifier of an ISO assigning authority');
    return message.buildAck({ ackCode: 'AE' });
  }
  const now = ctx.now();
  for (const pid of patientIds) await ctx.registry.addPatient(pid, 'iti8', now);
  const sender = [message.header.getField(3).toString(), message.header.getField(4).toString()].filter((s) => s !== '').join('|') || peer.address;
  for (const pid of patientIds) {
    ctx.audit.emit(() =>
      ctx.audit.events.iti8PatientIdentityFeed({
        role: 'receiver',
        action: feed.triggerEvent === 'A08' ? 'U' : 'C',
        patientId: pid,
        messageControlId: feed.controlId,
        source: { userId: sender, host: peer.address },
        destination: { userId: `mllp://0.0.0.0:${listenerPort}` },
      }),
    );
  }
  return message.buildAck({ ackCode: 'AA' });
}
