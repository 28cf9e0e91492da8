// ADT messages of the Patient Identity Feed (ITI-8): event type, message control id and the
// patient identifiers of PID-3 (each repetition as a CX string `id^...^assigning authority`).
import type { Hl7Message } from '@medplum/core';

export interface PatientIdentityFeedMessage {
  /** MSH-9.1, e.g. 'ADT'. */
  readonly messageType: string;
  /** MSH-9.2, e.g. 'A04'. */
  readonly triggerEvent: string;
  /** MSH-10 */
  readonly controlId: string;
  /** PID-3 repetitions, components joined with '^' (subcomponents kept as sent, '&'-separated). */
  readonly patientIdentifiers: readonly string[];
}

export function readPatientIdentityFeed(message: Hl7Message): PatientIdentityFeedMessage {
  const msh9 = message.header.getField(9);
  const pid3 = message.getSegment('PID')?.getField(3);
  return {
    messageType: msh9.getComponent(1),
    triggerEvent: msh9.getComponent(2),
    controlId: message.header.getField(10).toString(),
    patientIdentifiers: (pid3?.components ?? []).map((rep) => rep.join('^')).filter((cx) => cx !== ''),
  };
}
