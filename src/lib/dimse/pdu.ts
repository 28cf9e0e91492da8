// PS3.8 section 9.3: upper-layer PDUs. Encoders for every PDU type, decoders for the control
// PDUs (associate, release, abort), and an incremental decoder for the byte stream that hands
// P-DATA-TF payloads on as Buffer.subarray views of the received chunks (no copies, no concat),
// so a large data set never has to sit in one buffer.

import { AbortReason, InvalidArgumentError, PduDecodeError, PduTooLargeError } from './errors.ts';

export const PduType = {
  AssociateRq: 0x01,
  AssociateAc: 0x02,
  AssociateRj: 0x03,
  PDataTf: 0x04,
  ReleaseRq: 0x05,
  ReleaseRp: 0x06,
  Abort: 0x07,
} as const;

const ItemType = {
  ApplicationContext: 0x10,
  PresentationContextRq: 0x20,
  PresentationContextAc: 0x21,
  AbstractSyntax: 0x30,
  TransferSyntax: 0x40,
  UserInformation: 0x50,
  MaximumLength: 0x51,
  ImplementationClassUid: 0x52,
  AsynchronousOperationsWindow: 0x53,
  RoleSelection: 0x54,
  ImplementationVersionName: 0x55,
  SopClassExtendedNegotiation: 0x56,
  SopClassCommonExtendedNegotiation: 0x57,
  UserIdentityRq: 0x58,
  UserIdentityAc: 0x59,
} as const;

/** Presentation context result/reason in A-ASSOCIATE-AC (PS3.8 table 9-18). */
export const PresentationContextResult = {
  Acceptance: 0,
  UserRejection: 1,
  NoReason: 2,
  AbstractSyntaxNotSupported: 3,
  TransferSyntaxesNotSupported: 4,
} as const;

/** A-ASSOCIATE-RJ result (PS3.8 table 9-21). */
export const RejectResult = { Permanent: 1, Transient: 2 } as const;
/** A-ASSOCIATE-RJ source. */
export const RejectSource = { ServiceUser: 1, ServiceProviderAcse: 2, ServiceProviderPresentation: 3 } as const;
/** A-ASSOCIATE-RJ reasons, by source. */
export const RejectReason = {
  // source 1, service user
  NoReasonGiven: 1,
  ApplicationContextNameNotSupported: 2,
  CallingAeTitleNotRecognized: 3,
  CalledAeTitleNotRecognized: 7,
  // source 2, ACSE provider
  ProtocolVersionNotSupported: 2,
  // source 3, presentation provider
  TemporaryCongestion: 1,
  LocalLimitExceeded: 2,
} as const;

export interface ProposedPresentationContext {
  /** Odd number 1..255. */
  id: number;
  abstractSyntaxUid: string;
  transferSyntaxUids: string[];
}

export interface PresentationContextAnswer {
  id: number;
  /** One of PresentationContextResult. */
  result: number;
  /** The accepted transfer syntax; meaningless (may be '') when the context is rejected. */
  transferSyntaxUid: string;
}

export interface RoleSelection {
  sopClassUid: string;
  scuRole: boolean;
  scpRole: boolean;
}

export interface ExtendedNegotiation {
  sopClassUid: string;
  serviceClassApplicationInformation: Buffer;
}

export interface UserIdentity {
  /** 1 username, 2 username+passcode, 3 Kerberos, 4 SAML, 5 JWT. */
  type: number;
  positiveResponseRequested: boolean;
  primaryField: Buffer;
  secondaryField: Buffer;
}

export interface UserInformation {
  /** Maximum length of a P-DATA-TF PDU's variable field the sender can receive; 0 = no limit. */
  maxPduLength: number;
  implementationClassUid: string;
  implementationVersionName?: string;
  asyncOperations?: { maxInvoked: number; maxPerformed: number };
  roleSelections: RoleSelection[];
  extendedNegotiations: ExtendedNegotiation[];
  /** A-ASSOCIATE-RQ only. */
  userIdentity?: UserIdentity;
  /** A-ASSOCIATE-AC only: the server response of the user identity negotiation. */
  userIdentityResponse?: Buffer;
}

export interface AssociateRqPdu {
  type: 'associate-rq';
  protocolVersion: number;
  calledAeTitle: string;
  callingAeTitle: string;
  applicationContextName: string;
  presentationContexts: ProposedPresentationContext[];
  userInformation: UserInformation;
}

export interface AssociateAcPdu {
  type: 'associate-ac';
  protocolVersion: number;
  calledAeTitle: string;
  callingAeTitle: string;
  applicationContextName: string;
  presentationContexts: PresentationContextAnswer[];
  userInformation: UserInformation;
}

export interface AssociateRjPdu {
  type: 'associate-rj';
  result: number;
  source: number;
  reason: number;
}

export interface ReleaseRqPdu {
  type: 'release-rq';
}
export interface ReleaseRpPdu {
  type: 'release-rp';
}
export interface AbortPdu {
  type: 'abort';
  source: number;
  reason: number;
}

/** Every PDU except P-DATA-TF, which is streamed as PDV fragments instead. */
export type ControlPdu = AssociateRqPdu | AssociateAcPdu | AssociateRjPdu | ReleaseRqPdu | ReleaseRpPdu | AbortPdu;

export interface Pdv {
  contextId: number;
  isCommand: boolean;
  isLast: boolean;
  data: Buffer;
}

// ---------------------------------------------------------------------------------------------
// Encoding

export const PDU_HEADER_LENGTH = 6;
/** PDU header (6) + PDV item header (length 4, context id 1, message control header 1). */
export const PDATA_OVERHEAD = 12;

function pduHeader(type: number, bodyLength: number): Buffer {
  const header = Buffer.allocUnsafe(PDU_HEADER_LENGTH);
  header[0] = type;
  header[1] = 0;
  header.writeUInt32BE(bodyLength, 2);
  return header;
}

function withHeader(type: number, parts: Buffer[]): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  return Buffer.concat([pduHeader(type, length), ...parts], PDU_HEADER_LENGTH + length);
}

function item(type: number, body: Buffer): Buffer {
  if (body.length > 0xffff) throw new InvalidArgumentError(`item 0x${type.toString(16)} is longer than 65535 bytes`);
  const header = Buffer.allocUnsafe(4);
  header[0] = type;
  header[1] = 0;
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

function asciiItem(type: number, text: string): Buffer {
  return item(type, Buffer.from(text, 'latin1'));
}

function u16(value: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(value, 0);
  return b;
}

/** An AE title is 1..16 characters of the default repertoire without backslash or controls. */
export function validateAeTitle(aeTitle: string, what = 'AE title'): string {
  const trimmed = aeTitle.trim();
  if (trimmed.length === 0 || trimmed.length > 16 || !/^[\x20-\x5b\x5d-\x7e]+$/.test(trimmed)) {
    throw new InvalidArgumentError(`${what} must be 1-16 printable ASCII characters without backslash`);
  }
  return trimmed;
}

function aeTitleField(aeTitle: string): Buffer {
  return Buffer.from(validateAeTitle(aeTitle).padEnd(16, ' '), 'latin1');
}

/** An acceptor echoes the requestor's AE titles as received, even ones it would not send itself. */
function echoedAeTitleField(aeTitle: string): Buffer {
  const field = Buffer.alloc(16, 0x20);
  field.write(aeTitle.slice(0, 16), 0, 'latin1');
  return field;
}

function encodeUserInformation(info: UserInformation, isRequest: boolean): Buffer {
  const sub: Buffer[] = [];
  const max = Buffer.allocUnsafe(4);
  max.writeUInt32BE(info.maxPduLength >>> 0, 0);
  sub.push(item(ItemType.MaximumLength, max));
  sub.push(asciiItem(ItemType.ImplementationClassUid, info.implementationClassUid));
  if (info.asyncOperations) {
    sub.push(item(ItemType.AsynchronousOperationsWindow, Buffer.concat([u16(info.asyncOperations.maxInvoked), u16(info.asyncOperations.maxPerformed)])));
  }
  for (const role of info.roleSelections) {
    const uid = Buffer.from(role.sopClassUid, 'latin1');
    sub.push(item(ItemType.RoleSelection, Buffer.concat([u16(uid.length), uid, Buffer.from([role.scuRole ? 1 : 0, role.scpRole ? 1 : 0])])));
  }
  if (info.implementationVersionName) sub.push(asciiItem(ItemType.ImplementationVersionName, info.implementationVersionName));
  for (const ext of info.extendedNegotiations) {
    const uid = Buffer.from(ext.sopClassUid, 'latin1');
    sub.push(item(ItemType.SopClassExtendedNegotiation, Buffer.concat([u16(uid.length), uid, ext.serviceClassApplicationInformation])));
  }
  if (isRequest && info.userIdentity) {
    const id = info.userIdentity;
    sub.push(
      item(
        ItemType.UserIdentityRq,
        Buffer.concat([Buffer.from([id.type, id.positiveResponseRequested ? 1 : 0]), u16(id.primaryField.length), id.primaryField, u16(id.secondaryField.length), id.secondaryField]),
      ),
    );
  }
  if (!isRequest && info.userIdentityResponse) {
    sub.push(item(ItemType.UserIdentityAc, Buffer.concat([u16(info.userIdentityResponse.length), info.userIdentityResponse])));
  }
  return item(ItemType.UserInformation, Buffer.concat(sub));
}

function associateFixedFields(pdu: AssociateRqPdu | AssociateAcPdu): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(pdu.protocolVersion, 0);
  const field = pdu.type === 'associate-rq' ? aeTitleField : echoedAeTitleField;
  field(pdu.calledAeTitle).copy(fixed, 4);
  field(pdu.callingAeTitle).copy(fixed, 20);
  return fixed;
}

export function encodeAssociateRq(pdu: Omit<AssociateRqPdu, 'type'>): Buffer {
  const full: AssociateRqPdu = { type: 'associate-rq', ...pdu };
  const parts = [associateFixedFields(full), asciiItem(ItemType.ApplicationContext, pdu.applicationContextName)];
  for (const pc of pdu.presentationContexts) {
    const subItems = [asciiItem(ItemType.AbstractSyntax, pc.abstractSyntaxUid), ...pc.transferSyntaxUids.map((ts) => asciiItem(ItemType.TransferSyntax, ts))];
    parts.push(item(ItemType.PresentationContextRq, Buffer.concat([Buffer.from([pc.id, 0, 0, 0]), ...subItems])));
  }
  parts.push(encodeUserInformation(pdu.userInformation, true));
  return withHeader(PduType.AssociateRq, parts);
}

export function encodeAssociateAc(pdu: Omit<AssociateAcPdu, 'type'>): Buffer {
  const full: AssociateAcPdu = { type: 'associate-ac', ...pdu };
  const parts = [associateFixedFields(full), asciiItem(ItemType.ApplicationContext, pdu.applicationContextName)];
  for (const pc of pdu.presentationContexts) {
    const ts = asciiItem(ItemType.TransferSyntax, pc.result === PresentationContextResult.Acceptance ? pc.transferSyntaxUid : '');
    parts.push(item(ItemType.PresentationContextAc, Buffer.concat([Buffer.from([pc.id, 0, pc.result, 0]), ts])));
  }
  parts.push(encodeUserInformation(pdu.userInformation, false));
  return withHeader(PduType.AssociateAc, parts);
}

function fourBytePdu(type: number, b1: number, b2: number, b3: number): Buffer {
  const out = Buffer.alloc(10);
  out[0] = type;
  out.writeUInt32BE(4, 2);
  out[7] = b1;
  out[8] = b2;
  out[9] = b3;
  return out;
}

export function encodeAssociateRj(result: number, source: number, reason: number): Buffer {
  return fourBytePdu(PduType.AssociateRj, result, source, reason);
}

export function encodeReleaseRq(): Buffer {
  return fourBytePdu(PduType.ReleaseRq, 0, 0, 0);
}

export function encodeReleaseRp(): Buffer {
  return fourBytePdu(PduType.ReleaseRp, 0, 0, 0);
}

/** A-ABORT: byte 8 is the source, byte 9 the reason (bytes 6-7 reserved). */
export function encodeAbort(source: number, reason: number): Buffer {
  return fourBytePdu(PduType.Abort, 0, source, reason);
}

export function encodeControlPdu(pdu: ControlPdu): Buffer {
  switch (pdu.type) {
    case 'associate-rq':
      return encodeAssociateRq(pdu);
    case 'associate-ac':
      return encodeAssociateAc(pdu);
    case 'associate-rj':
      return encodeAssociateRj(pdu.result, pdu.source, pdu.reason);
    case 'release-rq':
      return encodeReleaseRq();
    case 'release-rp':
      return encodeReleaseRp();
    case 'abort':
      return encodeAbort(pdu.source, pdu.reason);
  }
}

/** Message control header byte: bit 0 command (1) / data (0), bit 1 last fragment. */
export function messageControlHeader(isCommand: boolean, isLast: boolean): number {
  return (isCommand ? 0x01 : 0) | (isLast ? 0x02 : 0);
}

/** A P-DATA-TF PDU with the given PDVs, in one buffer (so it goes out in one socket write). */
export function encodePDataTf(pdvs: readonly Pdv[]): Buffer {
  let bodyLength = 0;
  for (const pdv of pdvs) bodyLength += 6 + pdv.data.length;
  const out = Buffer.allocUnsafe(PDU_HEADER_LENGTH + bodyLength);
  out[0] = PduType.PDataTf;
  out[1] = 0;
  out.writeUInt32BE(bodyLength, 2);
  let offset = PDU_HEADER_LENGTH;
  for (const pdv of pdvs) {
    out.writeUInt32BE(pdv.data.length + 2, offset);
    out[offset + 4] = pdv.contextId;
    out[offset + 5] = messageControlHeader(pdv.isCommand, pdv.isLast);
    pdv.data.copy(out, offset + 6);
    offset += 6 + pdv.data.length;
  }
  return out;
}

/**
 * Writes the PDU and PDV headers of a single-PDV P-DATA-TF into the first 12 bytes of `pdu`,
 * whose remaining bytes are the PDV data. Lets callers read file data straight into the PDU buffer.
 */
export function writeSinglePdvHeader(pdu: Buffer, contextId: number, isCommand: boolean, isLast: boolean): void {
  const dataLength = pdu.length - PDATA_OVERHEAD;
  pdu[0] = PduType.PDataTf;
  pdu[1] = 0;
  pdu.writeUInt32BE(dataLength + 6, 2);
  pdu.writeUInt32BE(dataLength + 2, 6);
  pdu[10] = contextId;
  pdu[11] = messageControlHeader(isCommand, isLast);
}

// ---------------------------------------------------------------------------------------------
// Decoding of control PDUs

class ItemReader {
  offset: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.offset = start;
  }
  get done(): boolean {
    return this.offset >= this.end;
  }
  /** Next item: type and a view of its body. Item length fields are 16 bits (PS3.8 9.3.2). */
  next(): { type: number; body: Buffer } {
    if (this.end - this.offset < 4) throw new PduDecodeError('truncated item header', AbortReason.InvalidPduParameterValue);
    const type = this.buf[this.offset]!;
    const length = this.buf.readUInt16BE(this.offset + 2);
    const start = this.offset + 4;
    if (start + length > this.end) throw new PduDecodeError(`item 0x${type.toString(16)} overruns its container`, AbortReason.InvalidPduParameterValue);
    this.offset = start + length;
    return { type, body: this.buf.subarray(start, start + length) };
  }
}

/** UIDs and names in items are not padded, but some implementations add NUL or space; drop them. */
function itemText(body: Buffer): string {
  return body.toString('latin1').replace(/[\0 ]+$/, '');
}

function aeTitleFrom(buf: Buffer, offset: number): string {
  return buf.toString('latin1', offset, offset + 16).trim();
}

function decodeUserInformation(body: Buffer): UserInformation {
  const info: UserInformation = { maxPduLength: 0, implementationClassUid: '', roleSelections: [], extendedNegotiations: [] };
  const reader = new ItemReader(body, 0, body.length);
  while (!reader.done) {
    const { type, body: sub } = reader.next();
    switch (type) {
      case ItemType.MaximumLength:
        if (sub.length !== 4) throw new PduDecodeError('maximum length item must be 4 bytes');
        info.maxPduLength = sub.readUInt32BE(0);
        break;
      case ItemType.ImplementationClassUid:
        info.implementationClassUid = itemText(sub);
        break;
      case ItemType.ImplementationVersionName:
        info.implementationVersionName = itemText(sub);
        break;
      case ItemType.AsynchronousOperationsWindow:
        if (sub.length !== 4) throw new PduDecodeError('asynchronous operations window item must be 4 bytes');
        info.asyncOperations = { maxInvoked: sub.readUInt16BE(0), maxPerformed: sub.readUInt16BE(2) };
        break;
      case ItemType.RoleSelection: {
        if (sub.length < 2) throw new PduDecodeError('truncated role selection item');
        const uidLength = sub.readUInt16BE(0);
        if (sub.length !== 2 + uidLength + 2) throw new PduDecodeError('role selection item length mismatch');
        info.roleSelections.push({ sopClassUid: itemText(sub.subarray(2, 2 + uidLength)), scuRole: sub[2 + uidLength] === 1, scpRole: sub[3 + uidLength] === 1 });
        break;
      }
      case ItemType.SopClassExtendedNegotiation: {
        if (sub.length < 2) throw new PduDecodeError('truncated extended negotiation item');
        const uidLength = sub.readUInt16BE(0);
        if (2 + uidLength > sub.length) throw new PduDecodeError('extended negotiation item length mismatch');
        info.extendedNegotiations.push({
          sopClassUid: itemText(sub.subarray(2, 2 + uidLength)),
          serviceClassApplicationInformation: Buffer.from(sub.subarray(2 + uidLength)),
        });
        break;
      }
      case ItemType.UserIdentityRq: {
        if (sub.length < 4) throw new PduDecodeError('truncated user identity item');
        const primaryLength = sub.readUInt16BE(2);
        if (4 + primaryLength + 2 > sub.length) throw new PduDecodeError('user identity item length mismatch');
        const secondaryLength = sub.readUInt16BE(4 + primaryLength);
        if (6 + primaryLength + secondaryLength > sub.length) throw new PduDecodeError('user identity item length mismatch');
        info.userIdentity = {
          type: sub[0]!,
          positiveResponseRequested: sub[1] === 1,
          primaryField: Buffer.from(sub.subarray(4, 4 + primaryLength)),
          secondaryField: Buffer.from(sub.subarray(6 + primaryLength, 6 + primaryLength + secondaryLength)),
        };
        break;
      }
      case ItemType.UserIdentityAc: {
        if (sub.length < 2) throw new PduDecodeError('truncated user identity response item');
        const length = sub.readUInt16BE(0);
        if (2 + length > sub.length) throw new PduDecodeError('user identity response item length mismatch');
        info.userIdentityResponse = Buffer.from(sub.subarray(2, 2 + length));
        break;
      }
      default:
        // SOP class common extended negotiation (0x57) and unknown sub-items: tolerated and ignored.
        break;
    }
  }
  return info;
}

function decodeAssociate(kind: 'rq' | 'ac', body: Buffer): AssociateRqPdu | AssociateAcPdu {
  if (body.length < 68) throw new PduDecodeError(`A-ASSOCIATE-${kind.toUpperCase()} shorter than its fixed fields`);
  const protocolVersion = body.readUInt16BE(0);
  const calledAeTitle = aeTitleFrom(body, 4);
  const callingAeTitle = aeTitleFrom(body, 20);
  let applicationContextName: string | undefined;
  let userInformation: UserInformation | undefined;
  const proposed: ProposedPresentationContext[] = [];
  const answers: PresentationContextAnswer[] = [];
  const reader = new ItemReader(body, 68, body.length);
  while (!reader.done) {
    const { type, body: itemBody } = reader.next();
    if (type === ItemType.ApplicationContext) {
      applicationContextName = itemText(itemBody);
    } else if (type === ItemType.PresentationContextRq && kind === 'rq') {
      if (itemBody.length < 4) throw new PduDecodeError('truncated presentation context item');
      const pc: ProposedPresentationContext = { id: itemBody[0]!, abstractSyntaxUid: '', transferSyntaxUids: [] };
      const subs = new ItemReader(itemBody, 4, itemBody.length);
      while (!subs.done) {
        const s = subs.next();
        if (s.type === ItemType.AbstractSyntax) pc.abstractSyntaxUid = itemText(s.body);
        else if (s.type === ItemType.TransferSyntax) pc.transferSyntaxUids.push(itemText(s.body));
      }
      proposed.push(pc);
    } else if (type === ItemType.PresentationContextAc && kind === 'ac') {
      if (itemBody.length < 4) throw new PduDecodeError('truncated presentation context item');
      const answer: PresentationContextAnswer = { id: itemBody[0]!, result: itemBody[2]!, transferSyntaxUid: '' };
      const subs = new ItemReader(itemBody, 4, itemBody.length);
      while (!subs.done) {
        const s = subs.next();
        if (s.type === ItemType.TransferSyntax) answer.transferSyntaxUid = itemText(s.body);
      }
      answers.push(answer);
    } else if (type === ItemType.UserInformation) {
      userInformation = decodeUserInformation(itemBody);
    }
    // Other item types (unknown, or an RQ item in an AC) are skipped: be liberal in what we accept.
  }
  if (applicationContextName === undefined) throw new PduDecodeError('A-ASSOCIATE without application context item', AbortReason.InvalidPduParameterValue);
  if (userInformation === undefined) throw new PduDecodeError('A-ASSOCIATE without user information item', AbortReason.InvalidPduParameterValue);
  if (kind === 'rq') {
    if (proposed.length === 0) throw new PduDecodeError('A-ASSOCIATE-RQ without presentation context', AbortReason.InvalidPduParameterValue);
    return { type: 'associate-rq', protocolVersion, calledAeTitle, callingAeTitle, applicationContextName, presentationContexts: proposed, userInformation };
  }
  return { type: 'associate-ac', protocolVersion, calledAeTitle, callingAeTitle, applicationContextName, presentationContexts: answers, userInformation };
}

/** Decodes the body (after the 6-byte header) of any PDU except P-DATA-TF. */
export function decodeControlPdu(type: number, body: Buffer): ControlPdu {
  switch (type) {
    case PduType.AssociateRq:
      return decodeAssociate('rq', body);
    case PduType.AssociateAc:
      return decodeAssociate('ac', body);
    case PduType.AssociateRj:
    case PduType.ReleaseRq:
    case PduType.ReleaseRp:
    case PduType.Abort:
      if (body.length !== 4) throw new PduDecodeError(`PDU type ${type} must have a 4-byte body, has ${body.length}`);
      if (type === PduType.AssociateRj) return { type: 'associate-rj', result: body[1]!, source: body[2]!, reason: body[3]! };
      if (type === PduType.ReleaseRq) return { type: 'release-rq' };
      if (type === PduType.ReleaseRp) return { type: 'release-rp' };
      return { type: 'abort', source: body[2]!, reason: body[3]! };
    default:
      throw new PduDecodeError(`unrecognised PDU type 0x${type.toString(16)}`, AbortReason.UnrecognizedPdu);
  }
}

// ---------------------------------------------------------------------------------------------
// Incremental decoder

export interface PduDecoderLimits {
  /** Largest P-DATA-TF body accepted (announced length). */
  maxPDataLength: number;
  /** Largest body of any other PDU. */
  maxControlLength: number;
}

export const DEFAULT_MAX_CONTROL_PDU_LENGTH = 64 * 1024;

export interface PduDecoderSink {
  controlPdu(pdu: ControlPdu): void;
  /**
   * A fragment of a PDV's data, a view into a received chunk. A PDV may arrive in several
   * fragments; `pdvComplete` is true on its final one. `isLast` is the PDV's "last fragment of
   * the message" bit (so the message ends when both are true).
   */
  pdvData(contextId: number, isCommand: boolean, isLast: boolean, data: Buffer, pdvComplete: boolean): void;
  /** Malformed input, or an exception thrown by a sink method. The decoder stops for good. */
  decodeError(error: Error): void;
}

const enum DecoderState {
  PduHeader,
  ControlBody,
  PdvHeader,
  PdvData,
}

/**
 * Splits a byte stream into PDUs without copying P-DATA payloads. Chunks are consumed in order;
 * `pause()` (from inside a sink callback or elsewhere) stops at the next PDV/PDU boundary and
 * keeps the unconsumed rest until `resume()`.
 */
export class PduDecoder {
  private state = DecoderState.PduHeader;
  private readonly header = Buffer.alloc(6);
  private headerFill = 0;
  private pduType = 0;
  private pduRemaining = 0;
  private controlBody: Buffer = Buffer.alloc(0);
  private controlFill = 0;
  private pdvRemaining = 0;
  private pdvContextId = 0;
  private pdvControl = 0;
  private readonly queue: Buffer[] = [];
  private paused = false;
  private running = false;
  private failed = false;

  constructor(
    private readonly sink: PduDecoderSink,
    private readonly limits: PduDecoderLimits,
  ) {}

  /** Bytes received but not yet decoded (while paused). */
  get pendingBytes(): number {
    let n = 0;
    for (const c of this.queue) n += c.length;
    return n;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  push(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    this.queue.push(chunk);
    if (!this.running && !this.paused) this.run();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.running && !this.failed) this.run();
  }

  /** Drop everything (after an abort): further input is ignored. */
  stop(): void {
    this.failed = true;
    this.queue.length = 0;
  }

  private run(): void {
    this.running = true;
    try {
      while (!this.paused && !this.failed && this.queue.length > 0) {
        const chunk = this.queue[0]!;
        const consumed = this.consume(chunk);
        if (consumed >= chunk.length) this.queue.shift();
        else this.queue[0] = chunk.subarray(consumed);
      }
    } catch (err) {
      this.failed = true;
      this.queue.length = 0;
      this.sink.decodeError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.running = false;
    }
  }

  /** Consumes from `chunk` until it is used up or the decoder is paused; returns bytes used. */
  private consume(chunk: Buffer): number {
    const length = chunk.length;
    let offset = 0;
    while (offset < length && !this.paused && !this.failed) {
      switch (this.state) {
        case DecoderState.PduHeader: {
          let type: number;
          let pduLength: number;
          if (this.headerFill === 0 && length - offset >= 6) {
            type = chunk[offset]!;
            pduLength = chunk.readUInt32BE(offset + 2);
            offset += 6;
          } else {
            const n = Math.min(6 - this.headerFill, length - offset);
            chunk.copy(this.header, this.headerFill, offset, offset + n);
            this.headerFill += n;
            offset += n;
            if (this.headerFill < 6) continue;
            this.headerFill = 0;
            type = this.header[0]!;
            pduLength = this.header.readUInt32BE(2);
          }
          this.beginPdu(type, pduLength);
          break;
        }
        case DecoderState.ControlBody: {
          const n = Math.min(this.controlBody.length - this.controlFill, length - offset);
          chunk.copy(this.controlBody, this.controlFill, offset, offset + n);
          this.controlFill += n;
          offset += n;
          if (this.controlFill === this.controlBody.length) this.finishControlPdu();
          break;
        }
        case DecoderState.PdvHeader: {
          if (this.headerFill === 0 && length - offset >= 6) {
            this.beginPdv(chunk.readUInt32BE(offset), chunk[offset + 4]!, chunk[offset + 5]!);
            offset += 6;
          } else {
            const n = Math.min(6 - this.headerFill, length - offset);
            chunk.copy(this.header, this.headerFill, offset, offset + n);
            this.headerFill += n;
            offset += n;
            if (this.headerFill < 6) continue;
            this.headerFill = 0;
            this.beginPdv(this.header.readUInt32BE(0), this.header[4]!, this.header[5]!);
          }
          break;
        }
        case DecoderState.PdvData: {
          const n = Math.min(this.pdvRemaining, length - offset);
          const data = chunk.subarray(offset, offset + n);
          offset += n;
          this.emitPdvData(data, n);
          break;
        }
      }
    }
    return offset;
  }

  private beginPdu(type: number, pduLength: number): void {
    if (type === PduType.PDataTf) {
      if (pduLength > this.limits.maxPDataLength) throw new PduTooLargeError(type, pduLength, this.limits.maxPDataLength);
      if (pduLength < 6) throw new PduDecodeError(`P-DATA-TF of ${pduLength} bytes holds no PDV`);
      this.pduType = type;
      this.pduRemaining = pduLength;
      this.state = DecoderState.PdvHeader;
      return;
    }
    if (type < PduType.AssociateRq || type > PduType.Abort) {
      throw new PduDecodeError(`unrecognised PDU type 0x${type.toString(16)}`, AbortReason.UnrecognizedPdu);
    }
    if (pduLength > this.limits.maxControlLength) throw new PduTooLargeError(type, pduLength, this.limits.maxControlLength);
    this.pduType = type;
    this.controlBody = Buffer.allocUnsafe(pduLength);
    this.controlFill = 0;
    this.state = DecoderState.ControlBody;
    if (pduLength === 0) this.finishControlPdu();
  }

  private finishControlPdu(): void {
    const body = this.controlBody;
    this.controlBody = Buffer.alloc(0);
    this.state = DecoderState.PduHeader;
    this.sink.controlPdu(decodeControlPdu(this.pduType, body));
  }

  private beginPdv(itemLength: number, contextId: number, control: number): void {
    if (this.pduRemaining < 6) throw new PduDecodeError('PDV item header overruns its P-DATA-TF');
    if (itemLength < 2) throw new PduDecodeError(`PDV item length ${itemLength} is below 2`);
    this.pduRemaining -= 6;
    const dataLength = itemLength - 2;
    if (dataLength > this.pduRemaining) throw new PduDecodeError('PDV item overruns its P-DATA-TF');
    this.pdvRemaining = dataLength;
    this.pdvContextId = contextId;
    this.pdvControl = control;
    this.state = DecoderState.PdvData;
    if (dataLength === 0) this.emitPdvData(Buffer.alloc(0), 0);
  }

  private emitPdvData(data: Buffer, n: number): void {
    this.pdvRemaining -= n;
    this.pduRemaining -= n;
    const complete = this.pdvRemaining === 0;
    if (complete) this.state = this.pduRemaining === 0 ? DecoderState.PduHeader : DecoderState.PdvHeader;
    const control = this.pdvControl;
    this.sink.pdvData(this.pdvContextId, (control & 0x01) !== 0, (control & 0x02) !== 0, data, complete);
  }
}
